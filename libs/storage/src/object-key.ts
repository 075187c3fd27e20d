import type { TenantScope } from '@quarry/core';
import { InvalidKeyError } from './errors';

/** S3's limit, applied to every driver so an object that fits one fits all. */
export const maxKeyBytes = 1024;
/** The usual file-name limit, so a key that S3 accepts also works on the local filesystem. */
const maxSegmentBytes = 255;
const controlCharacter = /\p{Cc}/u;

/**
 * Throws an InvalidKeyError unless the key is a plain relative path such as `tenants/<uuid>/documents/<id>`.
 * Segments may not start with a dot: that rules out `.` and `..` and keeps names such as the local driver's
 * `.staging` directory out of reach.
 */
export function validateKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new InvalidKeyError(key, problem);
}

/**
 * Accepts a key-shaped prefix with or without a trailing slash and returns it without one. A prefix always
 * names whole segments: `tenants/a` covers `tenants/a/x` but not `tenants/ab/x`, on every driver.
 */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = keyProblem(trimmed);
  if (problem) throw new InvalidKeyError(prefix, problem);
  return trimmed;
}

/** The prefix under which every object of one tenant lives; deleting it removes the tenant's files. */
export function tenantPrefix(scope: TenantScope): string {
  return `tenants/${scope.tenantId}`;
}

/** Builds `tenants/<tenantId>/<segments…>`; taking the scope makes a key outside the tenant's prefix impossible. */
export function tenantObjectKey(scope: TenantScope, ...segments: string[]): string {
  if (segments.length === 0) throw new InvalidKeyError(tenantPrefix(scope), 'needs at least one segment after the tenant');
  const key = [tenantPrefix(scope), ...segments].join('/');
  const withSlash = segments.find((segment) => segment.includes('/'));
  if (withSlash !== undefined) throw new InvalidKeyError(key, `segment ${JSON.stringify(withSlash)} contains a slash`);
  validateKey(key);
  return key;
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  if (Buffer.byteLength(key, 'utf8') > maxKeyBytes) return `is longer than ${maxKeyBytes} bytes`;
  if (controlCharacter.test(key)) return 'contains a control character (NUL included)';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'starts with a slash; keys are relative';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment (a double or trailing slash)';
    if (segment.startsWith('.')) return `segment ${JSON.stringify(segment)} starts with a dot`;
    if (Buffer.byteLength(segment, 'utf8') > maxSegmentBytes) return `has a segment longer than ${maxSegmentBytes} bytes`;
  }
  return undefined;
}
