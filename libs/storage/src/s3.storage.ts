import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { Readable } from 'node:stream';
import { ObjectNotFoundError } from './errors';
import { normalizePrefix, validateKey } from './object-key';
import type { ObjectStorage, PutOptions, StoredObject } from './object-storage';
import { StreamMeter } from './stream-meter';

export interface S3StorageConfig {
  /** Unset for AWS S3; the server's URL for MinIO, R2, Ceph and the like. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; most self-hosted servers need it. */
  forcePathStyle: boolean;
}

export interface S3StorageOptions {
  /** A client to use instead of one built from the config; its owner destroys it. */
  client?: S3Client;
  /** Keys per ListObjectsV2 / DeleteObjects round trip in deletePrefix (S3 allows at most 1000). */
  listPageSize?: number;
}

/** Builds the client. Credentials go into the client only; nothing here logs them or keeps them elsewhere. */
export function createS3Client(config: S3StorageConfig): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // Since early 2025 the SDK adds CRC checksums (and aws-chunked bodies) to every upload, which several
    // S3-compatible servers reject; ask for checksums only where the S3 API requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Objects in one bucket of any S3-compatible server. Puts go through lib-storage's `Upload`: bodies up to one part
 * (5 MiB) become a single PutObject, larger ones a multipart upload holding at most a few parts in memory.
 * Either way S3 publishes the object only when it is complete.
 */
export class S3ObjectStorage implements ObjectStorage, OnModuleDestroy {
  private readonly logger = new Logger(S3ObjectStorage.name);
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly bucket: string;
  private readonly listPageSize: number;

  constructor(config: S3StorageConfig, options: S3StorageOptions = {}) {
    this.client = options.client ?? createS3Client(config);
    this.ownsClient = options.client === undefined;
    this.bucket = config.bucket;
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    let meter: StreamMeter | undefined;
    let metered: Readable | undefined;
    try {
      validateKey(key);
      meter = new StreamMeter(options.maxBytes);
      metered = Readable.from(meter.measure(body));
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: metered, ContentType: options.contentType },
        // On any failure Upload aborts the multipart upload, which deletes the parts already sent.
        leavePartsOnError: false,
      });
      await upload.done();
      return { key, ...meter.result() };
    } catch (error) {
      metered?.destroy();
      body.destroy();
      const limitError = meter?.limitError;
      if (!limitError) throw error;
      // Upload reports a failed abort instead of the error that caused it; the caller needs the limit.
      if (error !== limitError) {
        this.logger.warn(
          `Could not abort the multipart upload of an oversized object in bucket ${this.bucket} (${errorName(error)}); ` +
            'its parts stay until the bucket lifecycle rule AbortIncompleteMultipartUpload removes them',
        );
      }
      throw limitError;
    }
  }

  async get(key: string): Promise<Readable> {
    validateKey(key);
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(output.Body instanceof Readable)) throw new Error('S3 answered GetObject without a readable body');
      return output.Body;
    } catch (error) {
      if (isMissingObject(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async stat(key: string): Promise<{ sizeBytes: number } | null> {
    validateKey(key);
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { sizeBytes: output.ContentLength ?? 0 };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    // S3 answers 204 whether or not the object existed, which is exactly the idempotence we promise.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const listed = `${normalizePrefix(prefix)}/`;
    let deleted = 0;
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listed, MaxKeys: this.listPageSize, ContinuationToken: continuationToken }),
      );
      const objects = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
      if (objects.length > 0) {
        const result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        const failures = result.Errors ?? [];
        if (failures.length > 0) {
          const first = failures[0];
          throw new Error(
            `S3 refused to delete ${failures.length} of ${objects.length} objects under ${listed} (first: ${first?.Code ?? 'unknown'} ${first?.Message ?? ''})`,
          );
        }
        deleted += objects.length;
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    return deleted;
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  onModuleDestroy(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

/** GetObject says NoSuchKey; HEAD responses have no body, so HeadObject can only say NotFound. */
function isMissingObject(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
