import { Readable } from 'node:stream';
import type { ObjectStorage } from '@quarry/storage';

/** Intermediate results between stages live beside the original, so a retry resumes where it failed. */
export async function writeJson(storage: ObjectStorage, key: string, value: unknown): Promise<void> {
  await storage.put(key, Readable.from(Buffer.from(JSON.stringify(value))), { contentType: 'application/json' });
}

export async function readJson<T>(storage: ObjectStorage, key: string): Promise<T> {
  return JSON.parse((await readAll(await storage.get(key))).toString('utf8')) as T;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(typeof part === 'string' ? Buffer.from(part) : Buffer.from(part));
  return Buffer.concat(parts);
}
