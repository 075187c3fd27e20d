import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isPrivateAddress } from '@quarry/core';
import { PermanentStageError } from './stage-error';

export type FetchOutcome =
  | { changed: false }
  | { changed: true; body: Readable; contentType: string | null; etag: string | null; lastModified: string | null };

export interface FetchOptions {
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs: number;
  allowPrivateHosts: boolean;
}

/**
 * Fetches a URL source with conditional headers (ETag / Last-Modified), so an unchanged page costs one
 * 304. Refuses non-http(s) schemes and, unless allowed, hosts that resolve to loopback, private or
 * link-local addresses (a URL source must not become a way to read the deployment's internal network).
 */
export async function fetchSource(url: string, options: FetchOptions): Promise<FetchOutcome> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new PermanentStageError('URL_SCHEME', `Only http and https URLs can be sources, not ${target.protocol}`);
  }
  if (!options.allowPrivateHosts) await refusePrivateHost(target.hostname);
  const headers: Record<string, string> = { 'user-agent': 'QuarryBot/1.0 (+ingestion)' };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const response = await fetch(target, { headers, redirect: 'follow', signal: AbortSignal.timeout(options.timeoutMs) });
  if (response.status === 304) return { changed: false };
  if (response.status === 404 || response.status === 410) {
    throw new PermanentStageError('URL_GONE', `The source answered ${response.status}`);
  }
  if (!response.ok || !response.body) {
    // Other failures (5xx, 429) may pass: the job retries them.
    throw new Error(`The source answered ${response.status}`);
  }
  return {
    changed: true,
    body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
    contentType: response.headers.get('content-type'),
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
  };
}

async function refusePrivateHost(hostname: string): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) {
    throw new PermanentStageError('URL_PRIVATE_HOST', `${hostname} resolves to a private address (${blocked})`);
  }
}

export { isPrivateAddress };
