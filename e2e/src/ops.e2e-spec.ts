import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '@quarry/core';
import { requiredEnv } from '@quarry/testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import {
  apiMain,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  freePort,
  HttpClient,
  runToExit,
  signIn,
  startStack,
  workerMain,
  type SeededTenant,
  type Session,
  type Stack,
} from './harness';

interface Readiness {
  status: 'ok' | 'error';
  checks: Record<string, { status: 'ok' | 'error'; latencyMs: number; error?: string }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string };
  paths: Record<string, unknown>;
}

/** The metric lines (not comments) of a Prometheus text exposition. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

function redisConnection(): { host: string; port: number; maxRetriesPerRequest: null } {
  const url = new URL(requiredEnv('REDIS_URL'));
  return { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
}

describe('operations: health, metrics, docs, configuration errors and the worker', () => {
  let stack: Stack;
  let seeded: SeededTenant;
  let owner: Session;
  let worker: HttpClient;

  before(async () => {
    stack = await startStack();
    worker = new HttpClient(stack.workerUrl);
    seeded = await createTenant(stack, 'ops');
    owner = await signIn(stack, seeded.slug, seeded.ownerEmail);
  });

  after(async () => {
    await stack?.stop();
  });

  it('GET /health/live answers 200', async () => {
    const live = await stack.http.get<{ status: string }>('/health/live');
    assert.deepEqual(expectStatus(live, 200), { status: 'ok' });
  });

  it('GET /health/ready answers 200 with postgres and redis ok, and is not cached', async () => {
    const ready = await stack.http.get<Readiness>('/health/ready');
    const body = expectStatus(ready, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.checks.postgres?.status, 'ok');
    assert.equal(body.checks.redis?.status, 'ok');
    assert.equal(typeof body.checks.postgres?.latencyMs, 'number');
    assert.equal(ready.headers.get('cache-control'), 'no-store');
  });

  it('GET /metrics has request latency labelled by route pattern, and process metrics', async () => {
    expectStatus(await stack.http.get('/v1/me', { as: owner }), 200);
    expectStatus(await stack.http.get(`/v1/users/${owner.user.id}`, { as: owner }), 200);
    const probe = `/v1/probe-${Date.now().toString(36)}`;
    expectError(await stack.http.get(probe), 404, ErrorCode.RouteNotFound);
    const metrics = await stack.http.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const buckets = samples(metrics.text, 'http_request_duration_seconds_bucket');
    const me = buckets.filter((line) => line.includes('route="/v1/me"') && line.includes('method="GET"') && line.includes('status_code="200"'));
    assert.ok(me.length > 0, `no latency buckets for GET /v1/me:\n${buckets.slice(0, 20).join('\n')}`);
    assert.ok(me.some((line) => line.includes('le="+Inf"') && / [1-9]\d*$/.test(line)), 'the +Inf bucket counts the request');
    assert.ok(
      buckets.some((line) => line.includes('route="/v1/users/:id"')),
      'a route with a parameter is labelled by its pattern',
    );
    assert.ok(!metrics.text.includes(owner.user.id), 'ids never become label values');
    assert.ok(!metrics.text.includes(probe), 'unknown paths never become label values');
    assert.ok(samples(metrics.text, 'process_cpu_user_seconds_total').length > 0, 'process metrics are exported');
    assert.ok(metrics.text.includes('service="api"'), 'samples carry the service label');
  });

  it('requests refused before routing (malformed JSON, oversized or non-UTF-8 bodies) are counted in the latency metric too', async () => {
    expectError(await stack.http.post('/v1/groups', { raw: '{' }), 400, ErrorCode.MalformedJson);
    expectError(await stack.http.post('/v1/groups', { json: { name: 'x'.repeat(1024 * 1024 + 10) } }), 413, ErrorCode.PayloadTooLarge);
    expectError(
      await stack.http.post('/v1/groups', { raw: '{}', headers: { 'content-type': 'application/json; charset=latin1' } }),
      415,
      ErrorCode.UnsupportedMediaType,
    );
    const metrics = await stack.http.get('/metrics');
    const counts = samples(metrics.text, 'http_request_duration_seconds_count');
    const missing = ['400', '413', '415'].filter(
      (status) => !counts.some((line) => line.includes('method="POST"') && line.includes(`status_code="${status}"`)),
    );
    assert.deepEqual(
      missing,
      [],
      `POST requests answered ${missing.join(', ')} are missing from http_request_duration_seconds:\n${counts.join('\n')}`,
    );
  });

  it("the worker's /health/ready and /metrics answer, with queue depth by state", async () => {
    const ready = expectStatus(await worker.get<Readiness>('/health/ready'), 200, 'worker readiness');
    assert.equal(ready.status, 'ok');
    assert.equal(ready.checks.postgres?.status, 'ok');
    assert.equal(ready.checks.redis?.status, 'ok');
    expectStatus(await worker.get('/health/live'), 200, 'worker liveness');
    const metrics = await worker.get('/metrics');
    assert.equal(metrics.status, 200);
    const queue = samples(metrics.text, 'quarry_queue_jobs');
    for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
      assert.ok(
        queue.some((line) => line.includes('queue="maintenance"') && line.includes(`state="${state}"`)),
        `quarry_queue_jobs has maintenance/${state}:\n${queue.join('\n')}`,
      );
    }
    assert.ok(metrics.text.includes('service="worker"'));
    assert.ok(samples(metrics.text, 'process_cpu_user_seconds_total').length > 0);
  });

  it('GET /openapi.json is the API contract; GET /docs serves the HTML explorer', async () => {
    const document = await stack.http.get<OpenApiDocument>('/openapi.json');
    const body = expectStatus(document, 200);
    assert.doesNotThrow(() => JSON.parse(document.text) as unknown);
    assert.match(body.openapi, /^3\./);
    assert.equal(body.info.title, 'Quarry API');
    for (const path of ['/v1/users', '/v1/users/{id}', '/v1/groups', '/v1/api-keys', '/v1/audit-events', '/v1/auth/login']) {
      assert.ok(path in body.paths, `${path} is documented`);
    }
    assert.ok(!('/health/ready' in body.paths), 'ops routes are not part of the API contract');
    const docs = await stack.http.get('/docs', { headers: { accept: 'text/html' } });
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
    assert.match(docs.text, /<html/i);
    assert.match(docs.text, /swagger/i);
  });

  it('with Redis unreachable, /health/ready answers 503 naming redis (postgres ok), and sign-in fails closed', async () => {
    const closed = await freePort();
    const broken = await startStack({
      worker: false,
      readyPath: '/health/live',
      env: { REDIS_URL: `redis://127.0.0.1:${closed}`, HEALTH_TIMEOUT_MS: '500' },
    });
    try {
      const started = Date.now();
      const ready = await broken.http.get<Readiness>('/health/ready');
      assert.equal(ready.status, 503, `expected 503, got ${ready.status}: ${ready.text}`);
      assert.ok(Date.now() - started < 5_000, 'readiness answers within its time limit');
      assert.equal(ready.body.status, 'error');
      assert.equal(ready.body.checks.redis?.status, 'error');
      assert.ok(ready.body.checks.redis?.error, 'the failing check says why');
      assert.ok(!ready.text.includes('redis://'), 'no connection string in the report');
      assert.equal(ready.body.checks.postgres?.status, 'ok');
      expectStatus(await broken.http.get('/health/live'), 200, 'still alive');
      // Rate limits live in Redis: without it, sign-in refuses rather than allowing unlimited guessing.
      expectError(
        await broken.http.post('/v1/auth/login', { json: { tenant: seeded.slug, email: seeded.ownerEmail, password: 'guess-guess-guess' } }),
        503,
        ErrorCode.DependencyUnavailable,
        'sign-in without Redis',
      );
    } finally {
      await broken.stop();
    }
  });

  it('bad configuration stops the API and the worker with exit code 78, naming every bad variable', async () => {
    const [apiMissing, apiInvalid, workerInvalid] = await Promise.all([
      runToExit(apiMain, { PORT: 'abc', DATABASE_URL: undefined }),
      runToExit(apiMain, { PORT: '99999', DATABASE_URL: 'mysql://root@localhost/quarry', COOKIE_SECURE: 'maybe' }),
      runToExit(workerMain, { WORKER_PORT: 'abc', DATABASE_URL: 'not a url' }),
    ]);
    assert.equal(apiMissing.code, 78, `API exit code: ${apiMissing.stderr}`);
    assert.match(apiMissing.stderr, /PORT/);
    assert.match(apiMissing.stderr, /DATABASE_URL: is required/);
    assert.equal(apiInvalid.code, 78, `API exit code: ${apiInvalid.stderr}`);
    for (const name of ['PORT', 'DATABASE_URL', 'COOKIE_SECURE']) assert.match(apiInvalid.stderr, new RegExp(`${name}:`));
    assert.ok(!apiInvalid.stderr.includes('root@localhost'), 'the bad value (which may hold a password) is not echoed');
    assert.equal(workerInvalid.code, 78, `worker exit code: ${workerInvalid.stderr}`);
    assert.match(workerInvalid.stderr, /WORKER_PORT:/);
    assert.match(workerInvalid.stderr, /DATABASE_URL:/);
  });

  it('the worker runs a sessions.purge job: the expired session row is deleted and counted', async () => {
    const { user, email } = await createUser(stack, owner, 'viewer', { label: 'purge' });
    const session = await signIn(stack, seeded.slug, email);
    const db = new Client({ connectionString: requiredEnv('DATABASE_OWNER_URL') });
    await db.connect();
    const queue = new Queue('maintenance', { prefix: `${stack.redisPrefix}:bull`, connection: redisConnection() });
    try {
      // quarry_app cannot touch a session outside its tenant scope; the owner role has a maintenance policy.
      const { rows } = await db.query<{ id: string }>(
        `UPDATE sessions SET expires_at = now() - interval '1 hour'
          WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
          RETURNING id`,
        [seeded.tenant.id, user.id],
      );
      assert.ok(rows.length >= 1, 'the sign-in made a session row');
      const expiredIds = rows.map((row) => row.id);
      expectError(await stack.http.get('/v1/me', { as: session }), 401, ErrorCode.SessionExpired, 'expired session');

      const job = await queue.add('sessions.purge', { v: 1, payload: { graceHours: 0 } });
      assert.ok(job.id);
      const deadline = Date.now() + 20_000;
      let state = await job.getState();
      while (state !== 'completed' && state !== 'failed' && Date.now() < deadline) {
        await sleep(100);
        state = await job.getState();
      }
      const finished = await queue.getJob(job.id);
      assert.equal(state, 'completed', `job state ${state}: ${finished?.failedReason ?? ''}`);
      const result = finished?.returnvalue as { tenants?: number; deleted?: number } | undefined;
      assert.ok(result, 'the job returns what it did');
      assert.ok((result.deleted ?? 0) >= expiredIds.length, `deleted ${String(result.deleted)}, expected at least ${expiredIds.length}`);
      assert.ok((result.tenants ?? 0) >= 1, 'it visited the tenants');

      const left = await db.query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE id = ANY($1::uuid[])', [expiredIds]);
      assert.equal(left.rows[0]?.n, '0', 'the expired session rows are gone');
      expectError(await stack.http.get('/v1/me', { as: session }), 401, ErrorCode.Unauthenticated, 'purged session');
      expectStatus(await stack.http.get('/v1/me', { as: owner }), 200, 'a live session survives the purge');

      const metrics = await worker.get('/metrics');
      const completed = samples(metrics.text, 'quarry_queue_jobs').find((line) => line.includes('state="completed"'));
      assert.ok(completed && / [1-9]\d*$/.test(completed), `completed jobs are counted: ${completed ?? 'none'}`);

      const invalid = await queue.add(
        'sessions.purge',
        { v: 2, payload: { graceHours: 0 } },
        { attempts: 3, backoff: { type: 'fixed', delay: 60_000 } },
      );
      let invalidState = await invalid.getState();
      while (invalidState !== 'failed' && invalidState !== 'completed' && Date.now() < deadline) {
        await sleep(100);
        invalidState = await invalid.getState();
      }
      assert.equal(invalidState, 'failed', 'a payload of an unknown version is refused');
      const failed = await queue.getJob(invalid.id ?? '');
      assert.equal(failed?.attemptsMade, 1, 'a contract violation is not retried');
      assert.match(failed?.failedReason ?? '', /version/);
    } finally {
      await db.end();
      await queue.close();
    }
  });

  it('SIGTERM stops the API and the worker gracefully (no SIGKILL needed)', async () => {
    const started = Date.now();
    await stack.stop();
    const [api, workerExit] = await Promise.all([stack.api.exited, stack.worker?.exited]);
    assert.ok(Date.now() - started < 5_000, 'both stopped within the grace period');
    assert.ok(api.code === 0 || api.signal === 'SIGTERM', `API exit: ${JSON.stringify(api)}`);
    assert.ok(workerExit && (workerExit.code === 0 || workerExit.signal === 'SIGTERM'), `worker exit: ${JSON.stringify(workerExit)}`);
    assert.ok(!stack.api.stderr.toString().includes('"level":"fatal"'), stack.api.stderr.toString());
  });
});
