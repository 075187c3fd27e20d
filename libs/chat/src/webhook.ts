import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPrivateAddress } from '@quarry/core';

/**
 * The signing secret of one job's webhook: HMAC(server key, job id). It is shown to the client once, at
 * creation, and recomputed for delivery, so no secret is ever stored.
 */
export function webhookSecret(signingKey: string, jobId: string): string {
  return createHmac('sha256', signingKey).update(`chat-job:${jobId}`).digest('base64url');
}

/**
 * `Quarry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Receivers recompute it
 * over the raw body and reject old timestamps, which stops replays.
 */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

export interface WebhookOptions {
  allowPrivateHosts: boolean;
  attempts: number;
  timeoutMs: number;
  backoffMs: number;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  error: string | null;
}

/** POSTs the body with its signature; retries network failures, 429 and 5xx with backoff. */
export async function deliverWebhook(url: string, secret: string, body: string, options: WebhookOptions): Promise<DeliveryResult> {
  const target = new URL(url);
  if (!options.allowPrivateHosts) {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((entry) => entry.address);
    const blocked = addresses.find(isPrivateAddress);
    if (blocked || addresses.length === 0) {
      return { delivered: false, attempts: 0, error: blocked ? `${target.hostname} resolves to a private address` : `${target.hostname} does not resolve` };
    }
  }
  let error = 'not attempted';
  for (let attempt = 1; attempt <= options.attempts; attempt += 1) {
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'quarry-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)) },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { delivered: true, attempts: attempt, error: null };
      error = `the receiver answered ${response.status}`;
      if (response.status !== 429 && response.status < 500) return { delivered: false, attempts: attempt, error };
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause);
    }
    if (attempt < options.attempts) await sleep(options.backoffMs * 2 ** (attempt - 1));
  }
  return { delivered: false, attempts: options.attempts, error };
}
