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

// The CSRF token lives only in memory: it is re-issued by sign-in and by every session fetch.
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
}

const MUTATING: ReadonlySet<Method> = new Set<Method>(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Same-origin JSON request. `path` is absolute on this origin, e.g. `/v1/auth/session`. */
export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const headers = new Headers({ Accept: 'application/json' });
  const hasBody = options.body !== undefined;
  if (hasBody) headers.set('Content-Type', 'application/json');
  if (MUTATING.has(method) && csrfToken !== null) headers.set('X-CSRF-Token', csrfToken);

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'include',
      body: hasBody ? JSON.stringify(options.body) : null,
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, {
      code: 'NETWORK_ERROR',
      message: 'Could not reach the server. Check your connection and try again.',
      requestId: '',
    });
  }

  const text = await response.text();
  const data = parseJson(text);

  if (!response.ok) throw new ApiError(response.status, toErrorBody(response, data));
  // The server is the source of truth for the response shape; callers name it via T.
  return data as T;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toErrorBody(response: Response, data: unknown): ApiErrorBody {
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
