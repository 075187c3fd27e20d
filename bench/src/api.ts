/**
 * Quarry's public HTTP API, as an integrator uses it: the platform administrator creates tenants, their
 * owners sign in (session cookie + CSRF token), create collections, upload files as multipart/form-data,
 * and read documents back.
 */
import { uniqueSuffix } from '@quarry/testing';
import type { BenchFile } from './corpus';
import { batches } from './measure';

export const PASSWORD = 'bench-password-correct-horse';

export type DocumentStatus = 'queued' | 'fetching' | 'parsing' | 'chunking' | 'embedding' | 'indexing' | 'indexed' | 'failed' | 'superseded';

/** Statuses of a document that is still on its way. */
export const inFlightStatuses: readonly DocumentStatus[] = ['queued', 'fetching', 'parsing', 'chunking', 'embedding', 'indexing'];

export interface StageRunView {
  stage: string;
  status: string;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  details: Record<string, unknown> | null;
}

export interface DocumentView {
  id: string;
  name: string;
  version: number;
  status: DocumentStatus;
  chunkCount: number;
  tokenCount: number;
  error: { stage: string | null; code: string | null; message: string } | null;
  indexedAt: string | null;
  createdAt: string;
  stages?: StageRunView[];
}

export interface UploadItem {
  file: string;
  document: DocumentView | null;
  duplicate: boolean;
  error: { code: string; message: string } | null;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CollectionInfo {
  id: string;
  name: string;
  chunking: { maxTokens: number; overlapTokens: number };
  /** Text-search configuration of the collection ('english', …). */
  language: string;
  /** Null: the deployment's default model. */
  embeddingModel: string | null;
}

interface CollectionBody {
  id: string;
  name: string;
  settings: { chunking: { maxTokens: number; overlapTokens: number }; language: string; embeddingModel?: string | null };
}

function collectionInfo(body: CollectionBody): CollectionInfo {
  return {
    id: body.id,
    name: body.name,
    chunking: body.settings.chunking,
    language: body.settings.language,
    embeddingModel: body.settings.embeddingModel ?? null,
  };
}

export type SearchMode = 'lexical' | 'dense' | 'hybrid';

/** The body of POST /v1/search (apps/api/src/dto/search.dto.ts). */
export interface SearchRequestBody {
  query: string;
  collectionIds?: string[];
  topK: number;
  mode: SearchMode;
  rerank?: boolean;
  debug?: boolean;
}

export interface FusionSettings {
  method: 'rrf' | 'weighted';
  normalisation: 'minmax' | 'zscore';
  rrfK: number;
  weights: { lexical: number; dense: number };
  candidates: { lexical: number; dense: number };
}

export interface SearchResponseBody {
  results: {
    rank: number;
    chunkId: string;
    documentId: string;
    documentName: string;
    scores: { lexical: number | null; dense: number | null; fused: number; rerank: number | null };
  }[];
  rerank: { requested: boolean; applied: boolean; provider: string | null; reason: string | null; timingMs: number };
  fusion: FusionSettings;
  notices: string[];
  timingsMs: { embed: number; lexical: number; dense: number; fuse: number; rerank: number; total: number };
  trace?: { stage: string; timingMs: number; candidates: { chunkId: string; rank: number; score: number }[] }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'ApiError';
  }
}

async function call<T>(url: string, init: RequestInit, expected: number, what: string, timeoutMs = 30_000): Promise<{ body: T; headers: Headers }> {
  const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  if (response.status !== expected) throw new ApiError(response.status, what, text);
  return { body: (text === '' ? undefined : JSON.parse(text)) as T, headers: response.headers };
}

export class PlatformApi {
  constructor(
    readonly baseUrl: string,
    private readonly platformToken: string,
  ) {}

  /** A new tenant with an owner (POST /v1/platform/tenants), signed in. */
  async createTenant(label: string): Promise<TenantApi> {
    const slug = `bench-${label}-${uniqueSuffix()}`.toLowerCase().slice(0, 63);
    const email = `owner@${slug}.bench.example.com`;
    const { body } = await call<{ tenant: { id: string } }>(
      `${this.baseUrl}/v1/platform/tenants`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${this.platformToken}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ slug, name: `Benchmark ${label}`, owner: { email, displayName: `Owner of ${slug}`, password: PASSWORD } }),
      },
      201,
      `create tenant ${slug}`,
    );
    return this.signIn(slug, body.tenant.id);
  }

  /** Signs in as the owner of a tenant created by `createTenant` (here or in an earlier run against the same database). */
  async signIn(slug: string, tenantId: string): Promise<TenantApi> {
    const email = `owner@${slug}.bench.example.com`;
    const login = await call<{ csrfToken: string }>(
      `${this.baseUrl}/v1/auth/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ tenant: slug, email, password: PASSWORD }),
      },
      200,
      `sign in to ${slug}`,
    );
    const cookie = login.headers
      .getSetCookie()
      .map((header) => header.split(';')[0]?.trim() ?? '')
      .find((pair) => pair.startsWith('quarry_session='));
    if (!cookie) throw new Error(`sign in to ${slug}: no session cookie`);
    return new TenantApi(this.baseUrl, tenantId, slug, cookie, login.body.csrfToken);
  }
}

export class TenantApi {
  constructor(
    readonly baseUrl: string,
    readonly tenantId: string,
    readonly slug: string,
    private readonly cookie: string,
    private readonly csrfToken: string,
  ) {}

  private headers(unsafe: boolean): Record<string, string> {
    return { accept: 'application/json', cookie: this.cookie, ...(unsafe ? { 'x-csrf-token': this.csrfToken } : {}) };
  }

  async createCollection(name: string, chunking: { maxTokens: number; overlapTokens: number }): Promise<CollectionInfo> {
    const { body } = await call<CollectionBody>(
      `${this.baseUrl}/v1/collections`,
      {
        method: 'POST',
        headers: { ...this.headers(true), 'content-type': 'application/json' },
        body: JSON.stringify({ name, settings: { chunking } }),
      },
      201,
      `create collection ${name}`,
    );
    return collectionInfo(body);
  }

  /** GET /v1/collections/:id. */
  async collection(id: string): Promise<CollectionInfo> {
    return collectionInfo((await call<CollectionBody>(`${this.baseUrl}/v1/collections/${id}`, { headers: this.headers(false) }, 200, `get collection ${id}`)).body);
  }

  /** POST /v1/search, with the client-side round trip (request sent to response parsed) in milliseconds. */
  async search(request: SearchRequestBody, timeoutMs = 30_000): Promise<{ response: SearchResponseBody; roundTripMs: number }> {
    const started = performance.now();
    const { body } = await call<SearchResponseBody>(
      `${this.baseUrl}/v1/search`,
      { method: 'POST', headers: { ...this.headers(true), 'content-type': 'application/json' }, body: JSON.stringify(request) },
      200,
      'search',
      timeoutMs,
    );
    return { response: body, roundTripMs: performance.now() - started };
  }

  /** One multipart request with every file (POST /v1/collections/:id/documents). */
  async upload(collectionId: string, files: readonly BenchFile[]): Promise<UploadItem[]> {
    const form = new FormData();
    for (const file of files) form.append('file', new Blob([file.content], { type: file.type }), file.name);
    const { body } = await call<{ items: UploadItem[] }>(
      `${this.baseUrl}/v1/collections/${collectionId}/documents`,
      { method: 'POST', headers: this.headers(true), body: form },
      202,
      `upload ${files.length} files`,
      300_000,
    );
    const refused = body.items.filter((item) => item.error !== null || item.document === null);
    if (refused.length > 0) throw new Error(`upload refused ${refused.length} files, e.g. ${JSON.stringify(refused[0])}`);
    return body.items;
  }

  async listPage(query: { collectionId: string; status?: DocumentStatus; limit: number; cursor?: string }): Promise<Page<DocumentView>> {
    const params = new URLSearchParams({ collectionId: query.collectionId, limit: String(query.limit) });
    if (query.status) params.set('status', query.status);
    if (query.cursor) params.set('cursor', query.cursor);
    return (await call<Page<DocumentView>>(`${this.baseUrl}/v1/documents?${params.toString()}`, { headers: this.headers(false) }, 200, 'list documents')).body;
  }

  /** Every document of the collection with that status (or every current one), following nextCursor. */
  async listAll(collectionId: string, status?: DocumentStatus): Promise<DocumentView[]> {
    const items: DocumentView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listPage({ collectionId, limit: 200, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  /** True when no document of the collection is queued or in a stage (GET /v1/documents?status=… for each). */
  async settled(collectionId: string): Promise<boolean> {
    for (const status of inFlightStatuses) {
      if ((await this.listPage({ collectionId, status, limit: 1 })).items.length > 0) return false;
    }
    return true;
  }

  /** The document with its stage runs (GET /v1/documents/:id). */
  async document(id: string): Promise<DocumentView> {
    return (await call<DocumentView>(`${this.baseUrl}/v1/documents/${id}`, { headers: this.headers(false) }, 200, `get document ${id}`)).body;
  }
}

/** Uploads the files in multipart requests of `batchSize` files, in order; the documents the API answered with. */
export async function uploadAll(
  tenant: TenantApi,
  collectionId: string,
  files: readonly BenchFile[],
  batchSize: number,
): Promise<{ documents: DocumentView[]; duplicates: number; requests: number }> {
  const documents: DocumentView[] = [];
  let duplicates = 0;
  let requests = 0;
  for (const batch of batches(files, batchSize)) {
    const items = await tenant.upload(collectionId, batch);
    requests += 1;
    for (const item of items) {
      if (item.duplicate) duplicates += 1;
      if (item.document) documents.push(item.document);
    }
  }
  return { documents, duplicates, requests };
}
