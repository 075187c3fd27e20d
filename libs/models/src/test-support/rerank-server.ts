import type { TextRerankProvider } from '../rerank-provider';
import { EmbeddingTestServer, sendJson } from './embedding-server';

/**
 * A real reranking server over HTTP around a real ranker: TEI's `POST /rerank` (`{query, texts}` →
 * `[{index, score}]`, best first) and the Cohere-style `POST /v1/rerank` (`{query, documents}` →
 * `{results: [{index, relevance_score}]}`, best first), as vLLM, Jina and TEI answer them.
 */
export function startRerankServer(ranker: TextRerankProvider): Promise<EmbeddingTestServer> {
  return EmbeddingTestServer.start(async (request, response) => {
    const body = request.body as unknown as { query?: unknown; texts?: unknown; documents?: unknown };
    const documents = request.path === '/rerank' ? body.texts : request.path === '/v1/rerank' ? body.documents : undefined;
    if (typeof body.query !== 'string' || !Array.isArray(documents) || !documents.every((text) => typeof text === 'string')) {
      sendJson(response, 422, { error: `unexpected request to ${request.path}` });
      return;
    }
    const scores = await ranker.rerank(body.query, documents);
    const ranked = scores.map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score);
    if (request.path === '/rerank') sendJson(response, 200, ranked);
    else sendJson(response, 200, { id: 'rerank-test', results: ranked.map(({ index, score }) => ({ index, relevance_score: score })) });
  });
}
