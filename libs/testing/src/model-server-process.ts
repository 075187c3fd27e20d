import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ModelServerMode } from './model-server';

export interface ModelServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `model-server.js` as its own process (as the benchmarks and e2e specs need: the model's CPU and
 * event loop apart from the API's) and resolves once it listens on the port the OS gave it.
 */
export async function spawnModelServer(
  options: { mode: ModelServerMode; fault?: string; tokensPerSecond?: number; pacedTokens?: number },
  startTimeoutMs = 60_000,
): Promise<ModelServerProcess> {
  const args = [require.resolve('./model-server'), '--port', '0', '--mode', options.mode];
  if (options.fault !== undefined) args.push('--fault', options.fault);
  if (options.tokensPerSecond !== undefined) args.push('--tokens-per-second', String(options.tokensPerSecond));
  if (options.pacedTokens !== undefined) args.push('--paced-tokens', String(options.pacedTokens));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model server did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    child.once('exit', (code) => reject(new Error(`model server exited with ${code} before listening`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`model server printed ${line.slice(0, 200)}`));
      }
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
