import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 is right for high-entropy tokens (256 random bits); passwords use argon2id instead. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * API keys look like `qk_<prefix>_<secret>`: the prefix (12 chars) is stored in clear to find the key,
 * the secret (43 chars, 256 bits) only as a SHA-256 hash. The full key is shown once, at creation.
 */
export const API_KEY_PATTERN = /^qk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  token: string;
  prefix: string;
  secretHash: string;
}

const alphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function issueApiKey(): IssuedApiKey {
  const bytes = randomBytes(12);
  const prefix = [...bytes].map((byte) => alphanumeric[byte % alphanumeric.length]).join('');
  const secret = randomToken(32);
  return { token: `qk_${prefix}_${secret}`, prefix, secretHash: sha256Hex(secret) };
}

export function parseApiKey(token: string): { prefix: string; secret: string } | null {
  const match = API_KEY_PATTERN.exec(token);
  return match ? { prefix: match[1]!, secret: match[2]! } : null;
}
