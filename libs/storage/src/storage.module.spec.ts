import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigError } from '@quarry/core';
import { LocalFsObjectStorage } from './local-fs.storage';
import type { ObjectStorage } from './object-storage';
import { OBJECT_STORAGE, StorageModule } from './storage.module';
import { readAll, streamOf } from './testing/bodies';

@Injectable()
class UploadService {
  constructor(@Inject(OBJECT_STORAGE) readonly storage: ObjectStorage) {}
}

@Module({ imports: [StorageModule], providers: [UploadService] })
class AppModule {}

describe('StorageModule', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (name.startsWith('STORAGE_')) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('injects the storage the environment configures', async () => {
    const root = await mkdtemp(join(tmpdir(), 'quarry-storage-module-'));
    process.env.STORAGE_DRIVER = 'local';
    process.env.STORAGE_LOCAL_DIR = root;
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    try {
      const { storage } = app.get(UploadService);
      assert.ok(storage instanceof LocalFsObjectStorage);
      await storage.put('tenants/t/hello.txt', streamOf(Buffer.from('hello')));
      assert.equal((await readAll(await storage.get('tenants/t/hello.txt'))).toString(), 'hello');
    } finally {
      await app.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('refuses to start with incomplete S3 settings', async () => {
    process.env.STORAGE_DRIVER = 's3';
    delete process.env.STORAGE_S3_BUCKET;
    await assert.rejects(
      NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }),
      (error: unknown) => error instanceof ConfigError && /STORAGE_S3_BUCKET: is required/.test(error.message),
    );
  });
});
