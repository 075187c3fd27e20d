/**
 * The built API and worker as child processes (as deployed), on free ports, with their output in log
 * files (so the benchmark process spends no CPU reading it), plus what /proc tells about them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export { freePort } from '@quarry/testing';

export type Env = Record<string, string | undefined>;

const children = new Set<ChildProcess>();
// A crashed or interrupted benchmark must not leave servers behind.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});


export class AppProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly name: string,
    readonly url: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    children.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        children.delete(child);
        this.exit = { code, signal };
        resolve({ code, signal });
      });
    });
  }

  static spawn(name: string, script: string, port: number, cwd: string, env: Env, logFile: string, nodeArgs: string[] = []): AppProcess {
    const fd = openSync(logFile, 'a');
    try {
      const merged: NodeJS.ProcessEnv = { ...process.env };
      for (const [key, value] of Object.entries(env)) {
        if (value === undefined) delete merged[key];
        else merged[key] = value;
      }
      const child = spawn(process.execPath, [...nodeArgs, script], { cwd, env: merged, stdio: ['ignore', fd, fd] });
      return new AppProcess(name, `http://127.0.0.1:${port}`, logFile, child);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** Throws (with the end of its log) if the process is gone. */
  assertRunning(): void {
    if (this.exit) {
      throw new Error(`${this.name} exited (code ${String(this.exit.code)}, signal ${String(this.exit.signal)}); see ${this.logFile}`);
    }
  }

  async waitFor(probe: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      this.assertRunning();
      try {
        const response = await fetch(`${this.url}${probe}`, { signal: AbortSignal.timeout(5_000) });
        const body = await response.text();
        if (response.status === 200) return;
        last = `HTTP ${response.status} ${body.slice(0, 300)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await sleep(250);
    }
    throw new Error(`${this.name} not ready at ${probe} within ${timeoutMs} ms (last: ${last}); see ${this.logFile}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last `bytes` of the process's output. */
  async tail(bytes = 6_000): Promise<string> {
    return tailOf(this.logFile, bytes);
  }
}

export async function tailOf(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------------------

/** VmHWM (peak resident set) and VmRSS of a process, in MiB. */
export async function memoryOf(pid: number): Promise<{ peakRssMb: number; rssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]);
  };
  return { peakRssMb: round(kb('VmHWM') / 1024, 1), rssMb: round(kb('VmRSS') / 1024, 1) };
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds a process (all its threads) has used so far. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** Busy CPU seconds of the whole machine so far (all cores, everything running on it). */
export async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (total - idle) / clockTicks();
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
