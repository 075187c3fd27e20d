import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { ParseOutcome } from './parse-worker';
import { ParseError, TransientParseError, type DocumentParser, type ParseInput, type ParsedDocument } from './types';

export interface ParserPoolOptions {
  /** Worker threads, i.e. files parsed at once. Default: one less than the CPUs available, at least 1. */
  maxThreads?: number;
  /** Wall-clock budget per file, counted from when a worker starts on it (not while it waits). Default 60 s. */
  timeoutMs?: number;
  /** Heap limit of each worker (V8 old generation). Default 512 MB. */
  maxMemoryMb?: number;
  /** Larger inputs are refused before any parsing. Default 100 MiB. */
  maxInputBytes?: number;
}

export const parserPoolDefaults = {
  timeoutMs: 60_000,
  maxMemoryMb: 512,
  maxInputBytes: 100 * 1024 * 1024,
} as const;

/**
 * Runs the built-in parsers in worker threads, so a hostile file can cost at most one worker: a parse over
 * its time budget is stopped by terminating its thread ('timeout'), one over its heap limit dies alone
 * ('out_of_memory'), and piscina starts a fresh worker for the next file.
 *
 * The heap limit covers the JavaScript heap only; ArrayBuffers (file bytes, decoded streams) live outside
 * it, which is one reason inputs are capped by size before parsing.
 */
export class ParserPool implements DocumentParser {
  private readonly pool: Piscina<ParseInput, ParseOutcome>;
  private readonly slots: Slots;
  private readonly timeoutMs: number;
  private readonly maxInputBytes: number;
  private closed = false;

  constructor(options: ParserPoolOptions = {}) {
    const maxThreads = positiveInteger('maxThreads', options.maxThreads ?? Math.max(1, availableParallelism() - 1));
    this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? parserPoolDefaults.timeoutMs);
    this.maxInputBytes = positiveInteger('maxInputBytes', options.maxInputBytes ?? parserPoolDefaults.maxInputBytes);
    const maxMemoryMb = positiveInteger('maxMemoryMb', options.maxMemoryMb ?? parserPoolDefaults.maxMemoryMb);
    this.slots = new Slots(maxThreads);
    this.pool = new Piscina<ParseInput, ParseOutcome>({
      filename: path.resolve(__dirname, 'parse-worker.js'),
      minThreads: 0,
      maxThreads,
      idleTimeout: 30_000,
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb },
    });
  }

  async parse(input: ParseInput): Promise<ParsedDocument> {
    if (this.closed) throw new Error('ParserPool is closed');
    if (input.bytes.byteLength > this.maxInputBytes) {
      throw new ParseError('too_large', `${input.filename} is larger than ${this.maxInputBytes} bytes`);
    }
    // Hold a slot before submitting, so the time budget starts when a worker is free, not while queued.
    await this.slots.acquire();
    try {
      const signal = AbortSignal.timeout(this.timeoutMs);
      let outcome: ParseOutcome;
      try {
        outcome = await this.pool.run(
          { bytes: ownBuffer(input.bytes), filename: input.filename, ...(input.mimeType ? { mimeType: input.mimeType } : {}) },
          { signal },
        );
      } catch (error) {
        throw this.workerFailure(error, signal, input.filename);
      }
      if (!outcome.ok) throw new ParseError(outcome.reason, outcome.message);
      return outcome.document;
    } finally {
      this.slots.release();
    }
  }

  /** Refuses new files and waits for the ones in progress (each is bounded by its time budget). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.slots.rejectWaiting(new Error('ParserPool is closed'));
    await this.pool.close();
  }

  private workerFailure(error: unknown, signal: AbortSignal, filename: string): Error {
    if (signal.aborted) {
      return new ParseError('timeout', `${filename}: parsing took longer than ${this.timeoutMs} ms`, { cause: error });
    }
    if (hasCode(error, 'ERR_WORKER_OUT_OF_MEMORY')) {
      return new ParseError('out_of_memory', `${filename}: parsing exceeded the worker's memory limit`, { cause: error });
    }
    // Anything else killed the worker itself (not the parser): worth another try later.
    return new TransientParseError(`${filename}: the parser worker failed`, { cause: error });
  }
}

/** A counting semaphore with a FIFO queue. */
class Slots {
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.free++;
  }

  rejectWaiting(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/** Structured clone copies a view's whole ArrayBuffer; a view into a larger buffer is copied down to its own bytes first. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`ParserPool: ${name} must be a positive integer, got ${value}`);
  return value;
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
