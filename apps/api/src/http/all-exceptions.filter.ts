import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { AppError, ErrorCode, type ErrorBody } from '@quarry/core';
import { isInvalidValue, isMissingReference, isUniqueViolation } from '@quarry/db';
import { ZodValidationException } from 'nestjs-zod';
import type { ZodError } from 'zod';
import { sendError } from './error-response';
import { requestIdOf, type IdentifiedRequest } from './request-id.middleware';

interface FieldProblem {
  path: string;
  message: string;
  code: string;
}

interface Mapped {
  status: number;
  body: Omit<ErrorBody, 'requestId'>;
  headers?: Record<string, string>;
}

/**
 * Every failure leaves as `{ code, message, requestId, details? }`. Anything unexpected is a 500 that
 * logs the error under the request id and tells the client nothing internal.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IdentifiedRequest>();
    const res = http.getResponse<ServerResponse>();
    const requestId = requestIdOf(req);
    const mapped = this.map(exception);
    if (mapped.status >= 500 && !(exception instanceof AppError)) {
      this.logger.error({ err: exception, requestId }, 'Unhandled error');
    } else if (mapped.status >= 500) {
      this.logger.warn({ code: mapped.body.code, requestId }, mapped.body.message);
    }
    sendError(res, mapped.status, { ...mapped.body, requestId }, mapped.headers);
  }

  private map(exception: unknown): Mapped {
    if (exception instanceof AppError) {
      return {
        status: exception.status,
        body: { code: exception.code, message: exception.message, ...(exception.details ? { details: exception.details } : {}) },
        headers: { ...exception.headers },
      };
    }
    if (exception instanceof ZodValidationException) {
      const error = exception.getZodError() as ZodError;
      const fields = error.issues.flatMap((issue): FieldProblem[] =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'is not a known field', code: issue.code }))
          : [{ path: issue.path.join('.') || '(body)', message: issue.message, code: issue.code }],
      );
      return {
        status: 400,
        body: {
          code: ErrorCode.ValidationFailed,
          message: `Invalid request: ${fields.map((field) => field.path).join(', ')}`,
          details: { fields },
        },
      };
    }
    if (isUniqueViolation(exception)) {
      return { status: 409, body: { code: ErrorCode.Conflict, message: 'This conflicts with an existing record' } };
    }
    if (isInvalidValue(exception)) {
      return {
        status: 400,
        body: { code: ErrorCode.ValidationFailed, message: 'A value in the request cannot be stored (e.g. a NUL character or a date out of range)' },
      };
    }
    if (isMissingReference(exception)) {
      return { status: 404, body: { code: ErrorCode.NotFound, message: 'A referenced record does not exist' } };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        return { status, body: { code: ErrorCode.RouteNotFound, message: 'No such route' } };
      }
      if (status < 500) {
        return { status, body: { code: codeForStatus(status), message: exception.message } };
      }
    }
    return { status: 500, body: { code: ErrorCode.Internal, message: 'Something went wrong on our side; quote the request id' } };
  }
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return ErrorCode.Unauthenticated;
    case 403:
      return ErrorCode.Forbidden;
    case 409:
      return ErrorCode.Conflict;
    case 413:
      return ErrorCode.PayloadTooLarge;
    case 415:
      return ErrorCode.UnsupportedMediaType;
    case 429:
      return ErrorCode.RateLimited;
    default:
      return ErrorCode.ValidationFailed;
  }
}
