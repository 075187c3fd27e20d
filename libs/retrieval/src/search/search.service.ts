import type { TenantScope } from '@quarry/core';
import type { Database } from '@quarry/db';
import type { EmbeddingProviders } from '@quarry/models';
import { LRUCache } from 'lru-cache';
import { DenseRetriever, denseDefaults } from '../dense/dense-retriever';
import { fuse, type Candidate, type FusedCandidate } from '../fusion/fusion';
import type { LexicalQuery } from '../lexical/bm25-retriever';
import { rerankWithinBudget, type Rerankers } from '../rerank/reranker';
import { chunkConditions } from './search-filter';
import type { SearchCollection, SearchRequest, SearchResponse, SearchResult, StageTrace } from './search-types';

/** Lexical retrieval as the search service uses it (BM25 in Postgres). */
export interface LexicalSearcher {
  search(scope: TenantScope, query: LexicalQuery): Promise<Candidate[]>;
}

interface ChunkRow {
  id: string;
  document_id: string;
  collection_id: string;
  name: string;
  title: string;
  text: string;
  heading_path: string[] | null;
  page_start: number | null;
  page_end: number | null;
}

/**
 * Hybrid search: BM25 and dense candidates, each already filtered by the reader's ACL and the caller's
 * filters inside SQL, fused (RRF or weighted score fusion, as the request's resolved fusion settings say),
 * optionally reranked within a time budget (on failure or timeout the fused order stands and the response
 * says why), then the top k hydrated with text and citation fields. Query embeddings are cached per model
 * and text. Rerankers that use lexical features read the first searched collection's language.
 */
export class SearchService {
  private readonly dense: DenseRetriever;
  private readonly queryVectors = new LRUCache<string, number[]>({ max: 2_000 });

  constructor(
    private readonly db: Database,
    private readonly models: EmbeddingProviders,
    private readonly lexical: LexicalSearcher,
    private readonly rerankers?: Rerankers,
  ) {
    this.dense = new DenseRetriever(db);
  }

  async search(scope: TenantScope, request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const notices: string[] = [];
    const timings = { embed: 0, lexical: 0, dense: 0, fuse: 0, rerank: 0, total: 0 };
    const trace: StageTrace[] = [];
    const rerank: SearchResponse['rerank'] = { requested: request.rerank !== undefined, applied: false, provider: request.rerank?.provider ?? null, reason: null, timingMs: 0 };
    const empty = (reasons: string[]): SearchResponse => {
      if (rerank.requested) rerank.reason = 'Nothing to rerank';
      return { results: [], notices: reasons, timingsMs: timings, rerank, fusion: request.fusion };
    };
    if (request.readerTokens.length === 0 || request.collections.length === 0) return empty(['You may not read any document in these collections']);
    const missing = await this.missingMetadataFields(scope, Object.keys(request.filters.metadata ?? {}));
    if (missing.length > 0) return empty(missing.map((field) => `No document has the metadata field "${field}"`));
    const { lexicalLimit, denseLimit } = candidateLimits(request);
    const lists: Record<string, Candidate[]> = {};
    const vectors: { model: string; vector: number[] }[] = [];

    const lexicalRun = request.mode === 'dense' ? undefined : this.runLexical(scope, request, lexicalLimit, timings, notices);
    const denseRun = request.mode === 'lexical' ? undefined : this.runDense(scope, request, denseLimit, timings, notices, vectors);
    const [lexical, dense] = await Promise.all([lexicalRun, denseRun]);
    if (lexical) lists.lexical = lexical;
    if (dense) lists.dense = dense;

    const fuseStarted = performance.now();
    const allFused = fuse(lists, {
      method: request.fusion.method,
      normalisation: request.fusion.normalisation,
      weights: { lexical: request.fusion.weights.lexical, dense: request.fusion.weights.dense },
      rrfK: request.fusion.rrfK,
    });
    timings.fuse = elapsed(fuseStarted);

    const pool = allFused.slice(0, Math.max(request.topK, request.rerank?.candidates ?? 0));
    const rows = await this.hydrate(scope, pool.map((candidate) => candidate.chunkId));
    const rerankScores = new Map<string, number>();
    let ordered: FusedCandidate[] = pool;
    if (request.rerank) {
      const started = performance.now();
      const outcome = await this.rerank(scope, request, pool, rows, vectors.length === 1 ? vectors[0] : undefined);
      rerank.timingMs = timings.rerank = elapsed(started);
      if (outcome.ok) {
        pool.forEach((candidate, index) => rerankScores.set(candidate.chunkId, outcome.scores[index]!));
        ordered = pool
          .map((candidate, index) => ({ candidate, score: outcome.scores[index]!, index }))
          .sort((a, b) => b.score - a.score || a.index - b.index)
          .map((entry) => entry.candidate);
        rerank.applied = true;
      } else {
        rerank.reason = outcome.reason;
      }
    }
    const fused = ordered.slice(0, request.topK);
    const results: SearchResult[] = fused.flatMap((candidate, index) => {
      const row = rows.get(candidate.chunkId);
      if (!row) return [];
      return [
        {
          rank: index + 1,
          chunkId: row.id,
          documentId: row.document_id,
          collectionId: row.collection_id,
          documentName: row.name,
          documentTitle: row.title,
          text: row.text,
          headingPath: row.heading_path ?? [],
          pageStart: row.page_start,
          pageEnd: row.page_end,
          scores: {
            lexical: candidate.scores.lexical ?? null,
            dense: candidate.scores.dense ?? null,
            fused: candidate.score,
            rerank: rerankScores.get(candidate.chunkId) ?? null,
          },
        },
      ];
    });
    if (results.length === 0 && notices.length === 0) notices.push('No readable passage matched the query');
    timings.total = elapsed(started);
    if (request.debug) {
      for (const [stage, list] of Object.entries(lists) as ['lexical' | 'dense', Candidate[]][]) {
        trace.push({
          stage,
          timingMs: timings[stage],
          candidates: list.map((candidate, index) => ({ chunkId: candidate.chunkId, rank: index + 1, score: candidate.score })),
        });
      }
      trace.push({
        stage: 'fused',
        timingMs: timings.fuse,
        candidates: pool.map((candidate, index) => ({ chunkId: candidate.chunkId, rank: index + 1, score: candidate.score })),
      });
      if (rerank.applied) {
        trace.push({
          stage: 'rerank',
          timingMs: timings.rerank,
          candidates: ordered.map((candidate, index) => ({ chunkId: candidate.chunkId, rank: index + 1, score: rerankScores.get(candidate.chunkId)! })),
        });
      }
    }
    return { results, notices, timingsMs: timings, rerank, fusion: request.fusion, ...(request.debug ? { trace } : {}) };
  }

  private async rerank(
    scope: TenantScope,
    request: SearchRequest,
    pool: readonly FusedCandidate[],
    rows: ReadonlyMap<string, ChunkRow>,
    queryVector: { model: string; vector: number[] } | undefined,
  ): Promise<{ ok: true; scores: number[] } | { ok: false; reason: string }> {
    const wanted = request.rerank!;
    const reranker = this.rerankers?.get(wanted.provider);
    if (!reranker) {
      const configured = this.rerankers?.names() ?? [];
      return { ok: false, reason: `Reranker "${wanted.provider}" is not configured for this deployment (configured: ${configured.join(', ') || 'none'})` };
    }
    if (pool.length === 0) return { ok: false, reason: 'Nothing to rerank' };
    const languages = new Set(request.collections.map((collection) => collection.language));
    return rerankWithinBudget(
      reranker,
      {
        scope,
        query: request.query,
        language: [...languages][0]!,
        queryVector,
        candidates: pool.map((candidate) => {
          const row = rows.get(candidate.chunkId);
          return { chunkId: candidate.chunkId, documentId: candidate.documentId, title: row?.title ?? '', text: row?.text ?? '', fusedScore: candidate.score };
        }),
      },
      wanted.timeoutMs,
    );
  }

  private async runLexical(
    scope: TenantScope,
    request: SearchRequest,
    limit: number,
    timings: SearchResponse['timingsMs'],
    notices: string[],
  ): Promise<Candidate[]> {
    const started = performance.now();
    const lists = await Promise.all(
      groupBy(request.collections, (collection) => collection.language).map(([language, collections]) =>
        this.lexical.search(scope, {
          text: request.query,
          language,
          limit,
          filter: chunkConditions(collections.map((collection) => collection.id), request.readerTokens, request.filters),
        }),
      ),
    );
    timings.lexical = elapsed(started);
    const merged = mergeByScore(lists, limit);
    if (merged.length === 0) notices.push('Lexical search found no query term in any readable passage (stop words alone match nothing)');
    return merged;
  }

  private async runDense(
    scope: TenantScope,
    request: SearchRequest,
    limit: number,
    timings: SearchResponse['timingsMs'],
    notices: string[],
    vectors: { model: string; vector: number[] }[],
  ): Promise<Candidate[]> {
    const lists: Candidate[][] = [];
    for (const [model, collections] of groupBy(request.collections, (collection) => collection.embeddingModel)) {
      const provider = this.models.get(model);
      const embedStarted = performance.now();
      const vector = await this.queryVector(model, request.query);
      vectors.push({ model, vector });
      timings.embed += elapsed(embedStarted);
      const started = performance.now();
      const { candidates } = await this.dense.search(
        scope,
        {
          vector,
          model,
          dimensions: provider.dimensions,
          limit,
          filter: chunkConditions(collections.map((collection) => collection.id), request.readerTokens, request.filters),
          restriction: {
            readerTokens: request.readerTokens,
            collectionIds: collections.map((collection) => collection.id),
            narrowedFurther: narrowsFurther(request.filters),
          },
        },
        denseDefaults,
      );
      timings.dense += elapsed(started);
      lists.push(candidates);
    }
    const merged = mergeByScore(lists, limit);
    if (merged.length === 0) notices.push('No readable passage has an embedding yet');
    return merged;
  }

  private async missingMetadataFields(scope: TenantScope, fields: string[]): Promise<string[]> {
    if (fields.length === 0) return [];
    const rows = await this.db.tenant(scope, (tx) =>
      tx.$queryRaw<{ field: string }[]>`
        SELECT f AS field FROM unnest(${fields}::text[]) AS f
        WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.tenant_id = ${scope.tenantId}::uuid AND d.metadata ? f)`,
    );
    return rows.map((row) => row.field);
  }

  private async queryVector(model: string, query: string): Promise<number[]> {
    const key = `${model}\u0000${query}`;
    const cached = this.queryVectors.get(key);
    if (cached) return cached;
    const [vector] = await this.models.get(model).embed([query], { purpose: 'query' });
    if (!vector) throw new Error(`${model} returned no vector`);
    this.queryVectors.set(key, vector);
    return vector;
  }

  private async hydrate(scope: TenantScope, chunkIds: string[]): Promise<Map<string, ChunkRow>> {
    if (chunkIds.length === 0) return new Map();
    const rows = await this.db.tenant(scope, (tx) =>
      tx.$queryRaw<ChunkRow[]>`
        SELECT c.id, c.document_id, d.collection_id, d.name, d.title, c.text, c.heading_path, c.page_start, c.page_end
        FROM chunks c JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id
        WHERE c.tenant_id = ${scope.tenantId}::uuid AND c.id = ANY(${chunkIds}::uuid[])`,
    );
    return new Map(rows.map((row) => [row.id, row]));
  }
}

function groupBy(collections: readonly SearchCollection[], key: (collection: SearchCollection) => string): [string, SearchCollection[]][] {
  const groups = new Map<string, SearchCollection[]>();
  for (const collection of collections) {
    const name = key(collection);
    groups.set(name, [...(groups.get(name) ?? []), collection]);
  }
  return [...groups.entries()];
}

function mergeByScore(lists: Candidate[][], limit: number): Candidate[] {
  if (lists.length === 1) return lists[0]!;
  return lists
    .flat()
    .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1))
    .slice(0, limit);
}

/**
 * How many candidates each retriever returns: the fusion settings' counts (hybrid fuses exactly what was
 * tuned), raised only so that the page can be filled: a mode alone gives at least topK, and in hybrid the
 * larger list does.
 */
export function candidateLimits(request: Pick<SearchRequest, 'mode' | 'topK' | 'fusion'>): { lexicalLimit: number; denseLimit: number } {
  const { lexical, dense } = request.fusion.candidates;
  if (request.mode === 'lexical') return { lexicalLimit: Math.max(lexical, request.topK), denseLimit: 0 };
  if (request.mode === 'dense') return { lexicalLimit: 0, denseLimit: Math.max(dense, request.topK) };
  if (Math.max(lexical, dense) >= request.topK) return { lexicalLimit: lexical, denseLimit: dense };
  return lexical >= dense ? { lexicalLimit: request.topK, denseLimit: dense } : { lexicalLimit: lexical, denseLimit: request.topK };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/** Filters beyond collections and ACL: the dense retriever cannot bound them from statistics. */
function narrowsFurther(filters: SearchRequest['filters']): boolean {
  return Boolean(filters.documentIds?.length || filters.createdAfter || filters.createdBefore || Object.keys(filters.metadata ?? {}).length);
}
