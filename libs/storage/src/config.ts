import { resolve } from 'node:path';
import { loadConfig } from '@quarry/core';
import { z } from 'zod';
import { LocalFsObjectStorage, type LocalFsStorageConfig } from './local-fs.storage';
import type { ObjectStorage } from './object-storage';
import { S3ObjectStorage, type S3StorageConfig } from './s3.storage';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Compose files often set a variable to nothing; that means "not set", not "set to an empty string". */
const unsetWhenEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

/** The storage variables as they appear in the environment; extend another schema with `.shape` if needed. */
export const storageEnvSchema = z.object({
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  /** Resolved against the working directory of the process. */
  STORAGE_LOCAL_DIR: z.string().min(1).default('./.quarry/storage'),
  STORAGE_S3_ENDPOINT: z.preprocess(unsetWhenEmpty, z.url({ protocol: /^https?$/ }).optional()),
  STORAGE_S3_REGION: z.string().min(1).default('us-east-1'),
  STORAGE_S3_BUCKET: z.preprocess(unsetWhenEmpty, z.string().min(3).max(63).optional()),
  STORAGE_S3_ACCESS_KEY_ID: z.preprocess(unsetWhenEmpty, z.string().optional()),
  STORAGE_S3_SECRET_ACCESS_KEY: z.preprocess(unsetWhenEmpty, z.string().optional()),
  STORAGE_S3_FORCE_PATH_STYLE: bool.default(false),
});

export type StorageEnv = z.infer<typeof storageEnvSchema>;

export type StorageConfig = ({ driver: 'local' } & LocalFsStorageConfig) | ({ driver: 's3' } & S3StorageConfig);

const requiredForS3 = ['STORAGE_S3_BUCKET', 'STORAGE_S3_ACCESS_KEY_ID', 'STORAGE_S3_SECRET_ACCESS_KEY'] as const;

/** Validates the storage variables and turns them into the chosen driver's settings. */
export const storageConfigSchema = storageEnvSchema
  .superRefine(
    (env, ctx) => {
      if (env.STORAGE_DRIVER !== 's3') return;
      for (const name of requiredForS3) {
        if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'is required when STORAGE_DRIVER is s3' });
      }
    },
    // Run even when another variable is invalid, so one failed start names every problem. It reads only
    // STORAGE_DRIVER and the three optional strings, which are safe to inspect on a partly invalid object.
    { when: () => true },
  )
  .transform(toStorageConfig);

/** Reads the storage settings once; a ConfigError names every bad or missing variable. */
export function loadStorageConfig(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  return loadConfig(storageConfigSchema, env);
}

export function createObjectStorage(config: StorageConfig): ObjectStorage {
  switch (config.driver) {
    case 'local':
      return new LocalFsObjectStorage(config);
    case 's3':
      return new S3ObjectStorage(config);
  }
}

function toStorageConfig(env: StorageEnv): StorageConfig {
  if (env.STORAGE_DRIVER === 'local') {
    return { driver: 'local', rootDir: resolve(process.cwd(), env.STORAGE_LOCAL_DIR) };
  }
  const { STORAGE_S3_BUCKET: bucket, STORAGE_S3_ACCESS_KEY_ID: accessKeyId, STORAGE_S3_SECRET_ACCESS_KEY: secretAccessKey } = env;
  // The refinement above has already reported these; zod never transforms a value with issues.
  if (bucket === undefined || accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error('S3 storage settings are incomplete');
  }
  return {
    driver: 's3',
    endpoint: env.STORAGE_S3_ENDPOINT,
    region: env.STORAGE_S3_REGION,
    bucket,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: env.STORAGE_S3_FORCE_PATH_STYLE,
  };
}
