import type { TextRerankProvider } from '@quarry/models';
import type { Reranker, RerankInput } from './reranker';

/** A text reranker (HTTP server, cross-encoder) as search uses it: it reads the title and the passage. */
export class TextReranker implements Reranker {
  readonly name: string;

  constructor(private readonly provider: TextRerankProvider) {
    this.name = provider.name;
  }

  rerank(input: RerankInput): Promise<number[]> {
    const documents = input.candidates.map((candidate) => (candidate.title && !candidate.text.startsWith(candidate.title) ? `${candidate.title}\n${candidate.text}` : candidate.text));
    return this.provider.rerank(input.query, documents, { signal: input.signal });
  }
}
