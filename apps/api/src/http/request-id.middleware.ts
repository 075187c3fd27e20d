import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptableRequestId } from '@quarry/core';

/** pino-http declares `IncomingMessage.id`; this middleware is what fills it, before anything else runs. */
export type IdentifiedRequest = IncomingMessage;

export function requestIdOf(req: IncomingMessage): string {
  return typeof req.id === 'string' ? req.id : '';
}

/**
 * Runs first: keeps a well-formed X-Request-Id from the client (or makes one), and echoes it.
 * The CLS context, the pino request logger and every error body read the same `req.id`.
 */
export function requestIdMiddleware(req: IdentifiedRequest, res: ServerResponse, next: () => void): void {
  const offered = req.headers['x-request-id'];
  const id = acceptableRequestId(offered) ? offered : randomUUID();
  req.id = id;
  res.setHeader('X-Request-Id', id);
  next();
}
