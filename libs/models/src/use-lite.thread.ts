import { UseLiteEmbeddingProvider, type UseLiteOptions } from './use-lite.provider';
import type { EmbeddingResult } from './embedding-provider';

/** Runs inside the embedding worker thread: one model instance, loaded on the first task. */
let provider: UseLiteEmbeddingProvider | undefined;

export default async function embedInThread(task: { texts: string[]; options: UseLiteOptions }): Promise<EmbeddingResult> {
  provider ??= new UseLiteEmbeddingProvider(task.options);
  return provider.embedWithUsage(task.texts);
}
