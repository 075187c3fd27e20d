/** A reranker that reads text: scores each document's relevance to the query (higher is better). */
export interface TextRerankProvider {
  /** Name the deployment knows it by ('http', 'cross-encoder'). */
  readonly name: string;
  /** Scores aligned with `documents`. Rejects (never resolves partially) on failure or abort. */
  rerank(query: string, documents: readonly string[], options?: { signal?: AbortSignal }): Promise<number[]>;
}

export class RerankError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RerankError';
  }
}
