import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@quarry/core';
import { createObjectStorage, loadStorageConfig } from './config';
import { LocalFsObjectStorage } from './local-fs.storage';
import { S3ObjectStorage } from './s3.storage';

const s3Env = {
  STORAGE_DRIVER: 's3',
  STORAGE_S3_BUCKET: 'quarry-files',
  STORAGE_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  STORAGE_S3_SECRET_ACCESS_KEY: 'secret-example',
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadStorageConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems].sort();
  }
  assert.fail('expected a ConfigError');
}

describe('storage configuration', () => {
  it('defaults to the local driver under ./.quarry/storage of the working directory', () => {
    assert.deepEqual(loadStorageConfig({}), { driver: 'local', rootDir: resolve(process.cwd(), '.quarry/storage') });
    assert.deepEqual(loadStorageConfig({ STORAGE_LOCAL_DIR: '/var/lib/quarry' }), { driver: 'local', rootDir: '/var/lib/quarry' });
  });

  it('reads the S3 settings, with us-east-1 and virtual-host style by default', () => {
    assert.deepEqual(loadStorageConfig(s3Env), {
      driver: 's3',
      endpoint: undefined,
      region: 'us-east-1',
      bucket: 'quarry-files',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'secret-example',
      forcePathStyle: false,
    });
    const minio = loadStorageConfig({ ...s3Env, STORAGE_S3_ENDPOINT: 'http://minio:9000', STORAGE_S3_REGION: 'eu-central-1', STORAGE_S3_FORCE_PATH_STYLE: 'true' });
    assert.equal(minio.driver === 's3' && minio.endpoint, 'http://minio:9000');
    assert.equal(minio.driver === 's3' && minio.region, 'eu-central-1');
    assert.equal(minio.driver === 's3' && minio.forcePathStyle, true);
  });

  it('names each missing S3 variable, treating an empty value as missing', () => {
    assert.deepEqual(problemsOf({ STORAGE_DRIVER: 's3', STORAGE_S3_ACCESS_KEY_ID: '' }), [
      'STORAGE_S3_ACCESS_KEY_ID: is required when STORAGE_DRIVER is s3',
      'STORAGE_S3_BUCKET: is required when STORAGE_DRIVER is s3',
      'STORAGE_S3_SECRET_ACCESS_KEY: is required when STORAGE_DRIVER is s3',
    ]);
  });

  it('reports bad values together with missing ones', () => {
    const names = problemsOf({ STORAGE_DRIVER: 's3', STORAGE_S3_ENDPOINT: 'minio:9000', STORAGE_S3_FORCE_PATH_STYLE: 'maybe', STORAGE_S3_BUCKET: 'quarry-files' }).map(
      (problem) => problem.split(':')[0],
    );
    assert.deepEqual(names, ['STORAGE_S3_ACCESS_KEY_ID', 'STORAGE_S3_ENDPOINT', 'STORAGE_S3_FORCE_PATH_STYLE', 'STORAGE_S3_SECRET_ACCESS_KEY']);
    assert.deepEqual(problemsOf({ STORAGE_DRIVER: 'ftp' }).map((problem) => problem.split(':')[0]), ['STORAGE_DRIVER']);
  });

  it('does not require S3 settings for the local driver', () => {
    assert.equal(loadStorageConfig({ STORAGE_DRIVER: 'local', STORAGE_S3_BUCKET: '' }).driver, 'local');
  });

  it('creates the driver the configuration names', () => {
    assert.ok(createObjectStorage({ driver: 'local', rootDir: '/tmp/quarry' }) instanceof LocalFsObjectStorage);
    const s3 = createObjectStorage(loadStorageConfig(s3Env));
    assert.ok(s3 instanceof S3ObjectStorage);
    s3.onModuleDestroy();
  });
});
