import type { ClsStore } from 'nestjs-cls';
import type { Actor } from './actor';

/** What travels with a request (or job) through AsyncLocalStorage. */
export interface RequestContextStore extends ClsStore {
  requestId: string;
  tenantId?: string;
  actor?: Actor;
  ip?: string;
  userAgent?: string;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client-supplied X-Request-Id is kept only when it is short and plain, so it is safe to log and echo. */
export function acceptableRequestId(value: unknown): value is string {
  return typeof value === 'string' && requestIdPattern.test(value);
}
