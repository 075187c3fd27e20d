/**
 * End-to-end harness: runs the BUILT API and worker as child processes (exactly as they are deployed) on
 * free ports, against the database and Redis that `npm test` prepared, and drives them over HTTP only.
 * Every spec file starts its own processes with its own Redis prefix, so files running in parallel share
 * no rate-limit counters or queues.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, requiredEnv, uniqueSuffix } from '@quarry/testing';
import { Redis } from 'ioredis';

export { freePort, uniqueSuffix };

export const repoRoot = path.resolve(__dirname, '../..');
export const apiMain = path.join(repoRoot, 'apps/api/dist/main.js');
export const workerMain = path.join(repoRoot, 'apps/worker/dist/main.js');

/** Default password for every user the specs create (argon2 hashing: ~30-50 ms per use). */
export const PASSWORD = 'correct-horse-battery-staple';
export const LOGIN_MAX_FAILURES = 3;
export const LOGIN_LOCKOUT_SECONDS = 30;

const STOP_GRACE_MS = 5_000;
// Generous: loading the API and worker (model SDKs, TensorFlow.js) takes over 30 s on a loaded machine.
const READY_TIMEOUT_MS = 120_000;
const OUTPUT_LIMIT = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------------------

let prefixCounter = 0;

/**
 * A Redis prefix unique to this process and call: the run's prefix (npm test exports one) plus the pid.
 * The config allows [a-z0-9_-]{1,40}.
 */
export function uniqueRedisPrefix(): string {
  prefixCounter += 1;
  const base = (process.env.REDIS_PREFIX ?? 'e2e').toLowerCase().replace(/[^a-z0-9_-]/g, '-');
  const suffix = `-${process.pid.toString(36)}-${prefixCounter.toString(36)}`;
  return `${base.slice(0, 40 - suffix.length)}${suffix}`;
}

/** Environment overrides; `undefined` removes an inherited variable. */
export type EnvOverrides = Record<string, string | undefined>;

function buildEnv(overrides: EnvOverrides): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Keeps the last OUTPUT_LIMIT characters of a stream, for failure messages. */
class OutputTail {
  private text = '';

  append(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > OUTPUT_LIMIT) this.text = this.text.slice(-OUTPUT_LIMIT);
  }

  toString(): string {
    return this.text;
  }
}

const running = new Set<ChildProcess>();
// A crashed spec must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class AppProcess {
  readonly stdout = new OutputTail();
  readonly stderr = new OutputTail();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    running.add(child);
    child.stdout?.on('data', (chunk: Buffer) => this.stdout.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.append(chunk));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exit = { code, signal };
        resolve({ code, signal });
      });
    });
  }

  static spawn(name: string, script: string, port: number, env: EnvOverrides): AppProcess {
    const child = spawn(process.execPath, [script], {
      cwd: repoRoot,
      env: buildEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(name, `http://127.0.0.1:${port}`, child);
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  describe(): string {
    return `${this.name} (pid ${this.child.pid ?? '?'}) stderr:\n${this.stderr.toString()}\nstdout:\n${this.stdout.toString()}`;
  }

  /** Polls `probe` until it answers 200; fails early, with the child's output, if the child exits. */
  async waitFor(probe: string, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(
          `${this.name} exited (code ${String(this.exit.code)}, signal ${String(this.exit.signal)}) before ${probe} was ready.\n${this.describe()}`,
        );
      }
      try {
        const response = await fetch(`${this.url}${probe}`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.status === 200) return;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await sleep(100);
    }
    await this.stop();
    throw new Error(`${this.name} not ready at ${probe} within ${timeoutMs} ms (last: ${last}).\n${this.describe()}`);
  }

  /** Sends `signal` (e.g. SIGKILL to simulate a crash) and waits until the process has exited. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs an app that is expected to exit by itself (e.g. refusing bad configuration). */
export async function runToExit(
  script: string,
  env: EnvOverrides,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const app = AppProcess.spawn(path.basename(script), script, 0, env);
  const timer = setTimeout(() => void app.stop(), timeoutMs);
  const { code } = await app.exited;
  clearTimeout(timer);
  return { code, stdout: app.stdout.toString(), stderr: app.stderr.toString() };
}

export interface StackOptions {
  /** Also start the worker (default true). */
  worker?: boolean;
  /** Extra environment for both processes. */
  env?: EnvOverrides;
  /** Path that must answer 200 before the API counts as started (default /health/ready). */
  readyPath?: string;
}

/** One API (and usually one worker) for a spec file, with the platform token the harness made up. */
export class Stack {
  readonly http: HttpClient;
  /** Workers started later with startWorker (stopped with the stack). */
  readonly extraWorkers: AppProcess[] = [];

  constructor(
    readonly api: AppProcess,
    readonly worker: AppProcess | undefined,
    readonly platformToken: string,
    readonly redisPrefix: string,
    /** The environment both processes got (Redis prefix, platform token hash, ...), for startWorker. */
    readonly env: EnvOverrides = {},
  ) {
    this.http = new HttpClient(api.url);
  }

  /**
   * Starts one more worker process against this stack (same database, Redis prefix and storage), with
   * the stack's environment plus `env` (e.g. WORKER_TENANTS), on a port of its own; waits until it is ready.
   */
  async startWorker(env: EnvOverrides = {}, name = `worker-${this.extraWorkers.length + 2}`): Promise<AppProcess> {
    const port = await freePort();
    const worker = AppProcess.spawn(name, workerMain, port, { ...this.env, ...env, WORKER_PORT: String(port) });
    this.extraWorkers.push(worker);
    await worker.waitFor('/health/ready');
    return worker;
  }

  get workerUrl(): string {
    if (!this.worker) throw new Error('this stack runs no worker');
    return this.worker.url;
  }

  /** Stops both processes, then deletes this stack's Redis keys (queues, schedulers, rate-limit counters). */
  async stop(): Promise<void> {
    await Promise.all([this.api.stop(), this.worker?.stop(), ...this.extraWorkers.map((worker) => worker.stop())]);
    await deleteRedisKeys(this.redisPrefix);
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Best effort: a test run must not fail because its leftovers could not be swept.
  } finally {
    redis.disconnect();
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  requiredEnv('DATABASE_URL');
  const platformToken = randomBytes(32).toString('base64url');
  const redisPrefix = uniqueRedisPrefix();
  const [apiPort, workerPort] = await Promise.all([freePort(), freePort()]);
  const common: EnvOverrides = {
    COOKIE_SECURE: 'false',
    LOG_LEVEL: 'warn',
    REDIS_PREFIX: redisPrefix,
    PLATFORM_ADMIN_TOKEN_SHA256: createHash('sha256').update(platformToken, 'utf8').digest('hex'),
    LOGIN_MAX_FAILURES: String(LOGIN_MAX_FAILURES),
    LOGIN_LOCKOUT_SECONDS: String(LOGIN_LOCKOUT_SECONDS),
    HOST: '127.0.0.1',
    WORKER_HOST: '127.0.0.1',
    PORT: String(apiPort),
    WORKER_PORT: String(workerPort),
    PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    // Loading the embedded model costs seconds per API process; specs that generate set it to 'true'.
    GENERATION_PRELOAD: 'false',
    ...options.env,
  };
  const api = AppProcess.spawn('api', apiMain, apiPort, common);
  const worker = options.worker === false ? undefined : AppProcess.spawn('worker', workerMain, workerPort, common);
  try {
    await Promise.all([api.waitFor(options.readyPath ?? '/health/ready'), worker?.waitFor('/health/ready')]);
  } catch (error) {
    await Promise.all([api.stop(), worker?.stop()]);
    throw error;
  }
  return new Stack(api, worker, platformToken, redisPrefix, common);
}

// ---------------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------------

/** How a request authenticates: a signed-in session (cookie + CSRF token) or a bearer token. */
export type Credentials = Session | { bearer: string };

export interface Session {
  /** `quarry_session=<token>`, ready for a Cookie header. */
  cookie: string;
  csrfToken: string;
  user: User;
  tenant: Tenant;
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with Content-Type application/json unless headers say otherwise. */
  raw?: string;
  headers?: Record<string, string>;
  as?: Credentials;
  /** Overrides the X-CSRF-Token a session would send on unsafe methods; null sends none. */
  csrf?: string | null;
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else undefined. */
  body: T;
  text: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class HttpClient {
  /** Every exchange this client made, so a spec can assert that nothing answered 5xx. */
  readonly history: { method: string; path: string; status: number }[] = [];

  constructor(readonly baseUrl: string) {}

  /** Fails listing every request that answered with a server error. */
  assertNoServerErrors(): void {
    const failures = this.history.filter((entry) => entry.status >= 500);
    assert.equal(failures.length, 0, `${failures.length} server error(s): ${failures.map((f) => `${f.method} ${f.path} -> ${f.status}`).join('; ')}`);
  }

  async request<T = unknown>(method: string, pathAndQuery: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (options.json !== undefined) body = JSON.stringify(options.json);
    if (options.raw !== undefined) body = options.raw;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const credentials = options.as;
    if (credentials && 'bearer' in credentials) {
      headers.authorization = `Bearer ${credentials.bearer}`;
    } else if (credentials) {
      headers.cookie = credentials.cookie;
      const csrf = options.csrf === undefined ? credentials.csrfToken : options.csrf;
      if (!SAFE_METHODS.has(method.toUpperCase()) && csrf !== null) headers['x-csrf-token'] = csrf;
    }
    Object.assign(headers, options.headers);
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    this.history.push({ method, path: pathAndQuery.slice(0, 200), status: response.status });
    let parsed: unknown = undefined;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  get<T = unknown>(pathAndQuery: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', pathAndQuery, options);
  }

  post<T = unknown>(pathAndQuery: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('POST', pathAndQuery, options);
  }

  patch<T = unknown>(pathAndQuery: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PATCH', pathAndQuery, options);
  }

  put<T = unknown>(pathAndQuery: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('PUT', pathAndQuery, options);
  }

  delete<T = unknown>(pathAndQuery: string, options?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('DELETE', pathAndQuery, options);
  }
}

// ---------------------------------------------------------------------------------------------------------
// API shapes (as the OpenAPI document describes them)
// ---------------------------------------------------------------------------------------------------------

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
  details?: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  createdAt: string;
}

export interface User {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  status: 'active' | 'disabled';
  lastLoginAt: string | null;
  createdAt: string;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  memberCount: number;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdById: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export interface AuditEvent {
  id: string;
  action: string;
  outcome: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string } | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: unknown;
  createdAt: string;
}

export interface Me {
  user: User | null;
  tenant: Tenant;
  actor: { type: string; id: string };
  permissions: string[];
}

export interface ValidationDetails {
  fields: { path: string; message: string; code: string }[];
}

// ---------------------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------------------

/** Status and body of a success, with the response text in the failure message. */
export function expectStatus<T>(response: HttpResponse<T>, status: number, what = 'request'): T {
  assert.equal(response.status, status, `${what}: expected HTTP ${status}, got ${response.status}: ${response.text}`);
  return response.body;
}

/**
 * An error response: the status, the stable code, and the one error shape every failure has:
 * exactly `{ code, message, requestId[, details] }`, with requestId equal to the X-Request-Id header.
 */
export function expectError(response: HttpResponse<unknown>, status: number, code: string, what = 'request'): ErrorBody {
  assert.equal(response.status, status, `${what}: expected HTTP ${status} ${code}, got ${response.status}: ${response.text}`);
  assertErrorShape(response, what);
  const body = response.body as ErrorBody;
  assert.equal(body.code, code, `${what}: expected code ${code}, got ${body.code} (${body.message})`);
  return body;
}

export function assertErrorShape(response: HttpResponse<unknown>, what = 'request'): void {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, `${what}: error is not JSON: ${response.text}`);
  const body = response.body;
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `${what}: error body is not an object: ${response.text}`);
  const keys = Object.keys(body).sort();
  const allowed = ['code', 'details', 'message', 'requestId'];
  assert.ok(
    keys.every((key) => allowed.includes(key)) && ['code', 'message', 'requestId'].every((key) => keys.includes(key)),
    `${what}: error body must be exactly {code, message, requestId[, details]}, got keys ${keys.join(', ')}`,
  );
  const error = body as ErrorBody;
  assert.equal(typeof error.code, 'string');
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, `${what}: empty error message`);
  assert.equal(typeof error.requestId, 'string');
  assert.ok(error.requestId.length > 0, `${what}: empty requestId`);
  assert.equal(error.requestId, response.headers.get('x-request-id'), `${what}: requestId must equal the X-Request-Id header`);
}

export function fieldPaths(error: ErrorBody): string[] {
  const details = error.details as Partial<ValidationDetails> | undefined;
  assert.ok(details && Array.isArray(details.fields), `expected details.fields, got ${JSON.stringify(error.details)}`);
  return details.fields.map((field) => field.path).sort();
}

// ---------------------------------------------------------------------------------------------------------
// Seeding through the public API
// ---------------------------------------------------------------------------------------------------------

export function uniqueSlug(label: string): string {
  return `${label}-${uniqueSuffix()}`.toLowerCase().slice(0, 63);
}

export function uniqueEmail(label: string): string {
  return `${label}-${uniqueSuffix()}@e2e.example.com`.toLowerCase();
}

export interface SeededTenant {
  tenant: Tenant;
  owner: User;
  slug: string;
  ownerEmail: string;
  password: string;
}

/** POST /v1/platform/tenants with a bootstrap owner; slug (unless given) and email unique per call. */
export async function createTenant(stack: Stack, label = 't', slug = uniqueSlug(label)): Promise<SeededTenant> {
  const ownerEmail = uniqueEmail(`${label}-owner`);
  const response = await stack.http.post<{ tenant: Tenant; owner: User | null }>('/v1/platform/tenants', {
    as: { bearer: stack.platformToken },
    json: { slug, name: `Tenant ${slug}`, owner: { email: ownerEmail, displayName: `Owner of ${slug}`, password: PASSWORD } },
  });
  const body = expectStatus(response, 201, 'create tenant');
  assert.ok(body.owner, 'tenant created without its owner');
  return { tenant: body.tenant, owner: body.owner, slug, ownerEmail, password: PASSWORD };
}

/** POST /v1/auth/login; returns the session cookie (from Set-Cookie) and the CSRF token. */
export async function signIn(stack: Stack, tenant: string, email: string, password = PASSWORD): Promise<Session> {
  const response = await stack.http.post<{ user: User; tenant: Tenant; csrfToken: string }>('/v1/auth/login', {
    json: { tenant, email, password },
  });
  const body = expectStatus(response, 200, `sign in ${email}`);
  return { cookie: sessionCookie(response), csrfToken: body.csrfToken, user: body.user, tenant: body.tenant };
}

export const SESSION_COOKIE = 'quarry_session';

/** The `quarry_session=<value>` pair from a response's Set-Cookie headers. */
export function sessionCookie(response: HttpResponse<unknown>): string {
  const header = setCookieHeader(response);
  const pair = header.split(';')[0]!.trim();
  assert.ok(pair.length > SESSION_COOKIE.length + 1, `empty session cookie: ${header}`);
  return pair;
}

export function setCookieHeader(response: HttpResponse<unknown>): string {
  const header = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(header, `no ${SESSION_COOKIE} cookie in Set-Cookie: ${JSON.stringify(response.headers.getSetCookie())}`);
  return header;
}

export async function createUser(
  stack: Stack,
  as: Credentials,
  role: Role,
  options: { label?: string; password?: string | null } = {},
): Promise<{ user: User; email: string; password: string | undefined }> {
  const email = uniqueEmail(options.label ?? role);
  const password = options.password === null ? undefined : (options.password ?? PASSWORD);
  const response = await stack.http.post<User>('/v1/users', {
    as,
    json: { email, displayName: `${role} ${email}`, role, ...(password ? { password } : {}) },
  });
  return { user: expectStatus(response, 201, `create ${role}`), email, password };
}

export async function createApiKey(
  stack: Stack,
  as: Credentials,
  scopes: string[],
  options: { name?: string; expiresAt?: string; requestId?: string } = {},
): Promise<{ key: ApiKey; token: string }> {
  const response = await stack.http.post<{ key: ApiKey; token: string }>('/v1/api-keys', {
    as,
    json: { name: options.name ?? `key-${uniqueSuffix()}`, scopes, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) },
    ...(options.requestId ? { headers: { 'x-request-id': options.requestId } } : {}),
  });
  return expectStatus(response, 201, 'create API key');
}

export async function createGroup(stack: Stack, as: Credentials, name = `group-${uniqueSuffix()}`): Promise<Group> {
  return expectStatus(await stack.http.post<Group>('/v1/groups', { as, json: { name } }), 201, `create group ${name}`);
}

/** Audit events of the caller's tenant, newest first, optionally filtered by action. */
export async function auditEvents(stack: Stack, as: Credentials, action?: string, limit = 200): Promise<AuditEvent[]> {
  const query = new URLSearchParams({ limit: String(limit), ...(action ? { action } : {}) });
  return expectStatus(await stack.http.get<Page<AuditEvent>>(`/v1/audit-events?${query.toString()}`, { as }), 200, 'audit events')
    .items;
}

/** Every item of a paginated list, following nextCursor. */
export async function listAll<T>(stack: Stack, as: Credentials, path: string, limit = 200): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    const body: Page<T> = expectStatus(await stack.http.get<Page<T>>(`${path}?${query.toString()}`, { as }), 200, `list ${path}`);
    items.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`${path}: more than 100 pages`);
}

/** A unique, well-formed X-Request-Id for correlating one request with what it caused. */
export function requestId(label: string): string {
  return `e2e-${label}-${uniqueSuffix()}`;
}
