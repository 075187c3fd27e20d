import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log } from './measure';
import type { Stack } from './stack';

/** Writes `<base>.json` and `<base>.md` into `outDir` and prints the table. */
export async function writeResultFiles(outDir: string, base: string, result: unknown, markdown: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, `${base}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(outDir, `${base}.md`), markdown);
  console.log(`\n${markdown}`);
  log(`results: ${path.join(outDir, `${base}.json`)} and ${base}.md`);
}

/**
 * Runs a benchmark's main function: on Ctrl-C or SIGTERM the stack it started is stopped (no servers left
 * behind), and a failure exits non-zero with its stack trace.
 */
export function runBenchmark(name: string, main: () => Promise<void>, activeStack: () => Stack | undefined): void {
  const interrupted = async (signal: NodeJS.Signals): Promise<void> => {
    console.error(`\n${signal}: stopping the API and worker`);
    await activeStack()?.stop().catch(() => undefined);
    process.exit(130);
  };
  process.once('SIGINT', (signal) => void interrupted(signal));
  process.once('SIGTERM', (signal) => void interrupted(signal));
  main().catch((error: unknown) => {
    console.error(`${name} benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}
