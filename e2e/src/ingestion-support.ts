import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { requiredEnv } from '@quarry/testing';
import { Client } from 'pg';
import { expectStatus, type Credentials, type Session, type Stack } from './harness';

export interface Collection {
  id: string;
  name: string;
  settings: { chunking: { maxTokens: number; overlapTokens: number }; embeddingModel?: string; language: string };
  documentCount: number;
}

export interface StageRun {
  stage: string;
  status: string;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  details: Record<string, unknown>;
}

export interface DocumentBody {
  id: string;
  collectionId: string;
  name: string;
  version: number;
  lineageId: string;
  status: string;
  stage: string | null;
  error: { stage: string | null; code: string | null; message: string } | null;
  chunkCount: number;
  pageCount: number | null;
  stale: boolean;
  supersededAt: string | null;
  embeddingModel: string | null;
  stages?: StageRun[];
}

export interface UploadItem {
  file: string;
  document: DocumentBody | null;
  duplicate: boolean;
  error: { code: string; message: string } | null;
}

export interface FileSpec {
  name: string;
  content: string | Buffer;
  type?: string;
}

export async function createCollection(stack: Stack, as: Credentials, name: string, settings?: unknown): Promise<Collection> {
  const response = await stack.http.post<Collection>('/v1/collections', { as, json: { name, ...(settings ? { settings } : {}) } });
  return expectStatus(response, 201, 'create collection');
}

/** Multipart upload through fetch/FormData, exactly as a browser or integrator would send it. */
export async function upload(
  stack: Stack,
  session: Session | { bearer: string },
  collectionId: string,
  files: FileSpec[],
): Promise<{ status: number; body: { items?: UploadItem[]; code?: string; message?: string } }> {
  const form = new FormData();
  for (const file of files) {
    form.append('file', new Blob([file.content], { type: file.type ?? 'application/octet-stream' }), file.name);
  }
  const headers: Record<string, string> = {};
  if ('bearer' in session) headers.authorization = `Bearer ${session.bearer}`;
  else {
    headers.cookie = session.cookie;
    headers['x-csrf-token'] = session.csrfToken;
  }
  const response = await fetch(`${stack.api.url}/v1/collections/${collectionId}/documents`, {
    method: 'POST',
    headers,
    body: form,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as { items?: UploadItem[] }) : {} };
}

export async function getDocument(stack: Stack, as: Credentials, id: string): Promise<DocumentBody> {
  return expectStatus(await stack.http.get<DocumentBody>(`/v1/documents/${id}`, { as }), 200, 'get document');
}

/** Polls a document until its status is one of `wanted` (fails on a different terminal status). */
export async function waitForStatus(
  stack: Stack,
  as: Credentials,
  id: string,
  wanted: string[],
  timeoutMs = 60_000,
): Promise<DocumentBody> {
  const deadline = Date.now() + timeoutMs;
  let last: DocumentBody | undefined;
  while (Date.now() < deadline) {
    last = await getDocument(stack, as, id);
    if (wanted.includes(last.status)) return last;
    if (['indexed', 'failed'].includes(last.status) && !wanted.includes(last.status)) {
      assert.fail(`document ${id} ended ${last.status} (wanted ${wanted.join('/')}): ${JSON.stringify(last.error)}`);
    }
    await sleep(100);
  }
  assert.fail(`document ${id} still ${last?.status ?? 'unknown'} after ${timeoutMs} ms (wanted ${wanted.join('/')})`);
}

/** Read-only checks straight in Postgres as the owner role (which has a maintenance policy). */
export async function ownerQuery<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A markdown document with `sections` sections of a few sentences each. */
export function markdownDocument(title: string, sections: number, salt = ''): string {
  const parts = [`# ${title}`];
  for (let i = 1; i <= sections; i += 1) {
    parts.push(
      `## Section ${i}${salt}`,
      `Section ${i} of ${title} describes experiment ${i * 7} on protein folding, with cell cultures grown for ${i} days. ` +
        `The results show a ${i * 3}% change in expression under condition ${String.fromCharCode(65 + (i % 26))}${salt}.`,
    );
  }
  return parts.join('\n\n');
}
