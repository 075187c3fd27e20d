import { Semaphore } from '@quarry/core';
import type { ChatWrapper, Llama, LlamaContextSequence, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { ensureBundledModel } from './bundled-model';

export type LlamaGpu = false | 'auto' | 'cuda' | 'vulkan' | 'metal';

export interface LlamaRuntimeOptions {
  /** A GGUF file; unset: the bundled TinyLlama, assembled into `cacheDir`. */
  modelPath?: string | undefined;
  cacheDir: string;
  /** false on CPU-only machines; 'auto' or 'cuda' on GPU nodes (node-llama-cpp ships prebuilt CUDA binaries). */
  gpu: LlamaGpu;
  /** llama.cpp threads per evaluation. Its default (4) is ~50x slower on 2 shared cores. */
  threads: number;
  /** Generations evaluated at once (context sequences). More requests wait in a queue. */
  concurrency: number;
  /** Tokens per sequence (prompt plus completion), at most the model's training context. */
  contextSize: number;
}

/** A loaded model with its context and a pool of sequences, shared by every provider using the same options. */
export class LlamaRuntime {
  private readonly free: LlamaContextSequence[];
  private readonly slots: Semaphore;

  private constructor(
    readonly model: LlamaModel,
    readonly chatWrapper: ChatWrapper,
    readonly contextSize: number,
    sequences: LlamaContextSequence[],
  ) {
    this.free = sequences;
    this.slots = new Semaphore(sequences.length);
  }

  static async load(options: LlamaRuntimeOptions): Promise<LlamaRuntime> {
    const modelPath = options.modelPath ?? (await ensureBundledModel(options.cacheDir));
    const llama = await llamaFor(options.gpu);
    const { LlamaChat } = await import('node-llama-cpp');
    const model = await llama.loadModel({ modelPath });
    const contextSize = Math.min(options.contextSize, model.trainContextSize);
    const context = await model.createContext({ contextSize, sequences: options.concurrency, threads: options.threads });
    const sequences = Array.from({ length: options.concurrency }, () => context.getSequence());
    // The chat template comes from the model's own metadata (Jinja), resolved once.
    const probe = new LlamaChat({ contextSequence: sequences[0]! });
    const chatWrapper = probe.chatWrapper;
    probe.dispose({ disposeSequence: false });
    return new LlamaRuntime(model, chatWrapper, context.contextSize, sequences);
  }

  /**
   * Runs `task` on a free sequence. Waits while all are busy; `signal` ends the wait (its reason is thrown).
   * The sequence's history is cleared afterwards, so no request sees another's tokens.
   */
  async withSequence<T>(task: (sequence: LlamaContextSequence) => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.slots.run(async () => {
      const sequence = this.free.pop()!;
      try {
        return await task(sequence);
      } finally {
        await sequence.clearHistory().catch(() => undefined);
        this.free.push(sequence);
      }
    }, signal);
  }
}

const llamas = new Map<string, Promise<Llama>>();
const runtimes = new Map<string, Promise<LlamaRuntime>>();

function llamaFor(gpu: LlamaGpu): Promise<Llama> {
  const key = String(gpu);
  let llama = llamas.get(key);
  if (!llama) {
    // ESM with top-level await: CommonJS can only import() it. build 'never': use the prebuilt binaries
    // from npm; compiling llama.cpp here would need a download.
    llama = import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
      getLlama({ gpu, build: 'never', logLevel: LlamaLogLevel.error }),
    );
    llamas.set(key, llama);
    llama.catch(() => llamas.delete(key));
  }
  return llama;
}

/** Loads once per process and options; a failed load is forgotten, so the next call tries again. */
export function sharedLlamaRuntime(options: LlamaRuntimeOptions): Promise<LlamaRuntime> {
  const key = JSON.stringify([options.modelPath ?? null, options.cacheDir, options.gpu, options.threads, options.concurrency, options.contextSize]);
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = LlamaRuntime.load(options);
    runtimes.set(key, runtime);
    runtime.catch(() => runtimes.delete(key));
  }
  return runtime;
}
