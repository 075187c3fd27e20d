/**
 * Stable, machine-readable error codes. Clients switch on `code`; messages may change, codes may not.
 * Every error leaves the API as `{ code, message, requestId, details? }`.
 */
export const ErrorCode = {
  ValidationFailed: 'VALIDATION_FAILED',
  MalformedJson: 'MALFORMED_JSON',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  Unauthenticated: 'UNAUTHENTICATED',
  InvalidCredentials: 'INVALID_CREDENTIALS',
  AccountLocked: 'ACCOUNT_LOCKED',
  RateLimited: 'RATE_LIMITED',
  BudgetExceeded: 'BUDGET_EXCEEDED',
  GenerationDisabled: 'GENERATION_DISABLED',
  ApiKeyInvalid: 'API_KEY_INVALID',
  ApiKeyExpired: 'API_KEY_EXPIRED',
  ApiKeyRevoked: 'API_KEY_REVOKED',
  SessionExpired: 'SESSION_EXPIRED',
  CsrfTokenMissing: 'CSRF_TOKEN_MISSING',
  CsrfTokenInvalid: 'CSRF_TOKEN_INVALID',
  Forbidden: 'FORBIDDEN',
  ScopeExceedsRole: 'SCOPE_EXCEEDS_ROLE',
  TenantSuspended: 'TENANT_SUSPENDED',
  NotFound: 'NOT_FOUND',
  RouteNotFound: 'ROUTE_NOT_FOUND',
  Conflict: 'CONFLICT',
  LastOwner: 'LAST_OWNER',
  InvalidCursor: 'INVALID_CURSOR',
  Internal: 'INTERNAL',
  DependencyUnavailable: 'DEPENDENCY_UNAVAILABLE',
  // Chat and model calls
  MessageTooLong: 'MESSAGE_TOO_LONG',
  ModelTimeout: 'MODEL_TIMEOUT',
  ModelUnavailable: 'MODEL_UNAVAILABLE',
  ModelRateLimited: 'MODEL_RATE_LIMITED',
  ModelBadResponse: 'MODEL_BAD_RESPONSE',
  ModelEmptyResponse: 'MODEL_EMPTY_RESPONSE',
  ModelRejected: 'MODEL_REJECTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  details?: unknown;
}

/** An error the client caused or may act on; anything else becomes a 500 with code INTERNAL. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string): AppError {
    return new AppError(404, ErrorCode.NotFound, `${what} not found`);
  }

  static forbidden(message = 'You do not have permission to do this'): AppError {
    return new AppError(403, ErrorCode.Forbidden, message);
  }

  static conflict(message: string, details?: unknown): AppError {
    return new AppError(409, ErrorCode.Conflict, message, details);
  }

  static unauthenticated(message = 'Authentication is required'): AppError {
    return new AppError(401, ErrorCode.Unauthenticated, message);
  }

  static tooManyRequests(code: ErrorCode, message: string, retryAfterSeconds: number): AppError {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return new AppError(429, code, message, { retryAfterSeconds: seconds }, { 'Retry-After': String(seconds) });
  }
}
