import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@quarry/core';
import express from 'express';
import { sendError } from './error-response';
import { requestIdOf, type IdentifiedRequest } from './request-id.middleware';

interface BodyParserError {
  type?: string;
  status?: number;
}

/**
 * JSON bodies only. body-parser's failures happen before Nest sees the request, so they are turned into
 * the API's error body here rather than Express's HTML error page.
 */
export function jsonBodyMiddleware(limit: string) {
  const parse = express.json({ limit, strict: true });
  return (req: IdentifiedRequest, res: ServerResponse, next: (error?: unknown) => void): void => {
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const failure = error as BodyParserError;
      const requestId = requestIdOf(req);
      switch (failure.type) {
        case 'entity.parse.failed':
          return sendError(res, 400, { code: ErrorCode.MalformedJson, message: 'The request body is not valid JSON', requestId });
        case 'entity.too.large':
          return sendError(res, 413, {
            code: ErrorCode.PayloadTooLarge,
            message: `The request body is larger than ${limit}`,
            requestId,
          });
        case 'encoding.unsupported':
        case 'charset.unsupported':
          return sendError(res, 415, {
            code: ErrorCode.UnsupportedMediaType,
            message: 'The request body must be UTF-8 JSON',
            requestId,
          });
        default:
          return sendError(res, failure.status && failure.status < 500 ? failure.status : 400, {
            code: ErrorCode.MalformedJson,
            message: 'The request body could not be read',
            requestId,
          });
      }
    });
  };
}
