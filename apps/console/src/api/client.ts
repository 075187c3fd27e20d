import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi.gen';

/** Schemas of the API, generated from its OpenAPI document (`scripts/build.sh` refreshes openapi.gen.ts). */
export type Schemas = components['schemas'];

/** Error body every Quarry API error response carries. */
export interface ApiErrorBody {
  code: string;
  message: string;
  requestId: string;
  details?: unknown;
}

/** Thrown for every non-2xx response (and for network failures, with status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }

  get code(): string {
    return this.body.code;
  }
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}

export const NETWORK_ERROR: ApiErrorBody = {
  code: 'NETWORK_ERROR',
  message: 'Could not reach the server. Check your connection and try again.',
  requestId: '',
};

// The CSRF token lives only in memory: it is re-issued by sign-in and by every session fetch.
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function currentCsrfToken(): string | null {
  return csrfToken;
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method) && csrfToken !== null) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

/** The typed client: same origin, session cookie, CSRF header on unsafe methods. */
export const api = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: 'include',
  headers: { Accept: 'application/json' },
});
api.use(csrfMiddleware);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Awaits a typed-client call and returns its data, or throws an ApiError carrying the API's
 * `{ code, message, requestId }` (a network failure becomes NETWORK_ERROR).
 */
export async function call<T>(pending: Promise<FetchResult<T>>, signal?: AbortSignal): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await pending;
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, NETWORK_ERROR);
  }
  if (!result.response.ok) throw new ApiError(result.response.status, toErrorBody(result.response, result.error));
  // 204 answers carry no body; the schema says so through T.
  return result.data as T;
}

export function toErrorBody(response: { status: number; statusText: string; headers: Headers }, data: unknown): ApiErrorBody {
  const headerRequestId = response.headers.get('x-request-id') ?? '';
  if (typeof data === 'object' && data !== null) {
    const { code, message, requestId, details } = data as Record<string, unknown>;
    if (typeof code === 'string' && typeof message === 'string') {
      return {
        code,
        message,
        requestId: typeof requestId === 'string' ? requestId : headerRequestId,
        ...(details === undefined ? {} : { details }),
      };
    }
  }
  return {
    code: `HTTP_${response.status}`,
    message: `The server responded with ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`,
    requestId: headerRequestId,
  };
}
