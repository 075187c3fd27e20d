import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StorageLimitError } from './errors';
import { S3ObjectStorage, createS3Client, type S3StorageConfig } from './s3.storage';
import { MiB, randomContent, streamOf } from './testing/bodies';
import { objectStorageContract, type StorageHarness } from './testing/object-storage-contract';
import { startS3rver, type S3rverProcess } from './testing/s3rver-process';

const bucket = 'quarry-test';

describe('S3ObjectStorage against s3rver', () => {
  let server: S3rverProcess;
  let config: S3StorageConfig;
  let client: S3Client;
  /** Names of the commands the storage sent, in order. */
  const sent: string[] = [];
  let harness: StorageHarness;

  /** Files of multipart uploads s3rver still holds (it keeps them under `<bucket>/._S3rver_uploads/<id>/`). */
  async function uploadFiles(): Promise<string[]> {
    const entries = await readdir(join(server.directory, bucket, '._S3rver_uploads'), { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
    return (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
  }

  before(async () => {
    server = await startS3rver();
    // s3rver accepts only its built-in credentials, and checks the signature made with them.
    config = { endpoint: server.endpoint, region: 'us-east-1', bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true };
    client = createS3Client(config);
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    harness = {
      // Pages of two keys, so deletePrefix has to follow continuation tokens.
      storage: new S3ObjectStorage(config, { client, listPageSize: 2 }),
      leftovers: async (prefix) => [...(await uploadFiles()), ...(await keysUnder(prefix))],
      hasPartialWrite: async () => (await uploadFiles()).some((file) => /\/\d+$/.test(file)),
    };
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
  });

  describe('contract', () => objectStorageContract(() => harness));

  it('pages through ListObjectsV2 in deletePrefix', async () => {
    const prefix = 'tenants/0190b8e2-0000-7000-8000-0000000000a1/pages';
    for (let index = 0; index < 5; index += 1) await harness.storage.put(`${prefix}/${index}`, streamOf(Buffer.from('x')));
    sent.length = 0;

    assert.equal(await harness.storage.deletePrefix(prefix), 5);

    assert.deepEqual(sent, [
      'ListObjectsV2Command',
      'DeleteObjectsCommand',
      'ListObjectsV2Command',
      'DeleteObjectsCommand',
      'ListObjectsV2Command',
      'DeleteObjectsCommand',
    ]);
    assert.deepEqual(await keysUnder(prefix), []);
  });

  // s3rver 3.7.1 has no AbortMultipartUpload (it answers 405 MethodNotAllowed), so here the parts stay on its
  // disk and the driver logs a warning; S3, MinIO and R2 delete them. What the driver controls is checked below.
  it('aborts the multipart upload when a body larger than one part passes maxBytes', async () => {
    const key = 'tenants/0190b8e2-0000-7000-8000-0000000000a2/too-big-for-one-part.bin';
    sent.length = 0;

    await assert.rejects(
      harness.storage.put(key, streamOf(randomContent(16 * MiB)), { maxBytes: 7 * MiB }),
      (error: unknown) => error instanceof StorageLimitError && error.limitBytes === 7 * MiB,
    );

    assert.ok(sent.includes('CreateMultipartUploadCommand'), 'a multipart upload was started');
    assert.ok(sent.includes('UploadPartCommand'), 'at least one part was sent before the limit was hit');
    assert.ok(!sent.includes('CompleteMultipartUploadCommand'), 'the upload was never completed');
    assert.equal(sent.at(-1), 'AbortMultipartUploadCommand');
    assert.equal(await harness.storage.stat(key), null);
  });

  it('fails its health check for a bucket that does not exist', async () => {
    const storage = new S3ObjectStorage({ ...config, bucket: 'quarry-missing' });
    try {
      await assert.rejects(storage.check(), (error: unknown) => error instanceof Error && error.name === 'NotFound');
    } finally {
      storage.onModuleDestroy();
    }
  });

  it('fails its health check with wrong credentials, without putting the secret in the error', async () => {
    const secretAccessKey = 'not-the-secret-0123456789';
    const storage = new S3ObjectStorage({ ...config, accessKeyId: 'NOT-S3RVER', secretAccessKey });
    try {
      await assert.rejects(storage.check(), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(!JSON.stringify({ ...error, message: error.message, stack: error.stack }).includes(secretAccessKey));
        return true;
      });
    } finally {
      storage.onModuleDestroy();
    }
  });
});
