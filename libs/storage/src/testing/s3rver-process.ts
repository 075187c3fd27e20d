import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface S3rverProcess {
  endpoint: string;
  /** s3rver's own storage: `<directory>/<bucket>/…`, with multipart uploads under `._S3rver_uploads`. */
  directory: string;
  stop(): Promise<void>;
}

/**
 * Starts a real s3rver in a child process on a free port, storing into a fresh temporary directory.
 * A child process because s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3
 * (Node ≥ 17) offers only through its legacy provider, and that can only be switched on at start-up.
 */
export async function startS3rver(): Promise<S3rverProcess> {
  const directory = await mkdtemp(join(tmpdir(), 'quarry-s3rver-'));
  const script = `
    const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)} })
      .run()
      .then(
        (address) => console.log(JSON.stringify({ port: address.port })),
        (error) => { console.error(error); process.exit(1); },
      );
  `;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('s3rver did not start within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  }).catch(async (error: unknown) => {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    async stop() {
      child.kill();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
