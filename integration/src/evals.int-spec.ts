import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { apiConfigSchema, CONFIG, loadConfig, type BaseConfig, type Principal, type TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import {
  DatasetsService,
  EvalQueue,
  EvalRunRecovery,
  EvalRunner,
  EvalRunnerModule,
  EvalsModule,
  parseJsonlDataset,
  RunsService,
  runConfigSchema,
  type RunView,
} from '@quarry/evals';
import { rolePermissions } from '@quarry/identity';
import { embeddingEnvSchema } from '@quarry/models';
import { bullRootOptions, evalRunJob, evalsQueueName, openEnvelope } from '@quarry/jobs';
import { createTestContext, seedTenant, uniqueSuffix } from '@quarry/testing';
import { Queue, Worker } from 'bullmq';

/**
 * Evals against the real database (as quarry_app, under RLS) and a real BullMQ queue: datasets with judged
 * documents, runs executed by a BullMQ worker through the real SearchService (lexical BM25 in Postgres),
 * per-query results, the summary, the baseline gate, comparison, and runs that search as their user.
 */
const corpus = {
  'alpha.md': 'Mitochondria produce ATP through oxidative phosphorylation.',
  'beta.md': 'Ribosomes translate messenger RNA into proteins.',
  'gamma.md': 'Chloroplasts capture light energy for photosynthesis.',
} as const;

const jsonl = [
  { id: 'q1', query: 'mitochondria oxidative phosphorylation', relevant: ['alpha.md'] },
  { id: 'q2', query: 'ribosomes translate proteins', relevant: ['beta.md'] },
  { id: 'q3', query: 'chloroplasts photosynthesis light', relevant: { 'gamma.md': 1, 'ghost.md': 1 } },
]
  .map((line) => JSON.stringify(line))
  .join('\n');

describe('evals: datasets, runs on the worker queue, gate and comparison', () => {
  let app: INestApplicationContext;
  let db: Database;
  let datasets: DatasetsService;
  let runs: RunsService;
  let worker: Worker;
  let tenant: TenantScope;
  let admin: Principal;
  let member: Principal;
  let collectionId: string;
  let emptyCollectionId: string;
  const documents = new Map<string, string>();

  async function addUser(role: 'admin' | 'member'): Promise<Principal> {
    const user = await db.tenant(tenant, (tx) =>
      tx.user.create({ data: { tenantId: tenant.tenantId, email: `${role}-${uniqueSuffix()}@example.com`, displayName: role, role } }),
    );
    return { ...tenant, actor: { type: 'user', id: user.id, role, sessionId: randomUUID() }, permissions: rolePermissions(role) };
  }

  async function addCollection(): Promise<string> {
    const id = randomUUID();
    await db.tenant(tenant, (tx) => tx.collection.create({ data: { id, tenantId: tenant.tenantId, name: `c-${id}`, settings: { language: 'english' } } }));
    return id;
  }

  /** A document and one chunk, written the way the index writer does; `acl` is its effective readers. */
  async function addDocument(name: string, text: string, acl: string[]): Promise<string> {
    const id = randomUUID();
    await db.tenant(tenant, async (tx) => {
      await tx.document.create({
        data: { id, tenantId: tenant.tenantId, collectionId, name, lineageId: id, title: name, sourceType: 'upload', status: 'indexed', acl },
      });
      await tx.$executeRaw`
        INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl, ts_config)
        VALUES (${randomUUID()}::uuid, ${tenant.tenantId}::uuid, ${id}::uuid, 0, ${text}, ${acl}::text[], 'english')`;
    });
    return id;
  }

  async function waitForRun(id: string, scope: TenantScope = tenant): Promise<RunView> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const run = await runs.get(scope, id);
      if (run.status === 'succeeded' || run.status === 'failed') return run;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status}`);
      await sleep(100);
    }
  }

  const lexical = (overrides: Record<string, unknown> = {}) => runConfigSchema.parse({ mode: 'lexical', collectionIds: [collectionId], ...overrides });

  before(async () => {
    // The worker's configuration includes the embedding settings SearchService reads.
    const config = loadConfig(apiConfigSchema.extend(embeddingEnvSchema.shape), { NODE_ENV: 'test', LOG_LEVEL: 'warn', COOKIE_SECURE: 'false', ...process.env });
    app = await createTestContext([EvalsModule, EvalRunnerModule], config);
    db = app.get(Database);
    datasets = app.get(DatasetsService);
    runs = app.get(RunsService);
    const runner = app.get(EvalRunner);
    // The worker's consumer, as apps/worker runs it: the job contract opened, the run executed.
    worker = new Worker(
      evalsQueueName,
      async (job) => {
        const payload = openEnvelope(evalRunJob, job.data);
        return runner.execute({ tenantId: payload.tenantId } as TenantScope, payload.runId);
      },
      { ...bullRootOptions(app.get<BaseConfig>(CONFIG)), concurrency: 1 },
    );
    worker.on('failed', (job, error) => {
      if (job) void runner.markFailed({ tenantId: (job.data as { payload: { tenantId: string } }).payload.tenantId } as TenantScope, (job.data as { payload: { runId: string } }).payload.runId, error.message);
    });
    tenant = await seedTenant(db, 'evals');
    admin = await addUser('admin');
    member = await addUser('member');
    collectionId = await addCollection();
    emptyCollectionId = await addCollection();
    const adminOnly = [`u:${admin.actor.id}`];
    documents.set('alpha.md', await addDocument('alpha.md', corpus['alpha.md'], adminOnly));
    documents.set('beta.md', await addDocument('beta.md', corpus['beta.md'], ['everyone']));
    documents.set('gamma.md', await addDocument('gamma.md', corpus['gamma.md'], ['everyone']));
  });

  after(async () => {
    await worker.close();
    await app.close();
  });

  it('stores a dataset and reports the judged ids that name no document', async () => {
    const { dataset, unmatched } = await datasets.create(admin, {
      name: `ds-${uniqueSuffix()}`,
      matching: { matchBy: 'name', matchField: null },
      contentHash: 'h',
      dataset: parseJsonlDataset(jsonl),
    });
    assert.equal(dataset.queryCount, 3);
    assert.equal(dataset.judgmentCount, 4);
    assert.deepEqual(unmatched, { count: 1, sample: ['ghost.md'] });
    await assert.rejects(
      datasets.create(admin, { name: dataset.name, matching: { matchBy: 'name', matchField: null }, contentHash: 'h', dataset: parseJsonlDataset(jsonl) }),
      (error: { status?: number; code?: string }) => error.status === 409 && error.code === 'CONFLICT',
    );
    // The stem (file name without extension) names the same documents.
    const byStem = await datasets.create(admin, {
      name: `stem-${uniqueSuffix()}`,
      matching: { matchBy: 'stem', matchField: null },
      contentHash: 'h',
      dataset: parseJsonlDataset('{"id":"s","query":"ribosomes","relevant":["beta","nothing"]}'),
    });
    assert.deepEqual(byStem.unmatched, { count: 1, sample: ['nothing'] });
  });

  it('runs a dataset on the queue: per-query results, summary, progress; gate and comparison against the baseline', async () => {
    const { dataset } = await datasets.create(admin, {
      name: `run-${uniqueSuffix()}`,
      matching: { matchBy: 'name', matchField: null },
      contentHash: 'h',
      dataset: parseJsonlDataset(jsonl),
    });
    const queued = await runs.create(admin, { datasetId: dataset.id, config: lexical() });
    assert.equal(queued.status, 'queued');
    assert.deepEqual(queued.progress, { done: 0, total: 3 });
    const first = await waitForRun(queued.id);
    assert.equal(first.status, 'succeeded', first.error ?? '');
    assert.deepEqual(first.progress, { done: 3, total: 3 });
    assert.equal(first.runAsUserId, admin.actor.id);
    assert.equal(first.unmatchedJudgments, 1);
    // q1 and q2 find their document first; q3 finds gamma.md first but ghost.md never: DCG 1 / IDCG (1 + 1/log2 3).
    const q3 = 1 / (1 + 1 / Math.log2(3));
    assert.ok(Math.abs(first.metrics!.ndcgAt10 - (2 + q3) / 3) < 1e-9, String(first.metrics!.ndcgAt10));
    assert.ok(Math.abs(first.metrics!.recallAt5 - (1 + 1 + 0.5) / 3) < 1e-9);
    assert.equal(first.metrics!.mrrAt10, 1);
    assert.equal(first.metrics!.queries, 3);
    assert.ok(first.metrics!.latencyP95Ms >= first.metrics!.latencyP50Ms && first.metrics!.latencyP50Ms > 0);
    assert.equal(first.verdict, 'no_baseline');

    const results = await runs.results(tenant, first.id, { limit: 10 });
    assert.deepEqual(results.items.map((item) => [item.queryKey, item.top[0]]), [['q1', 'alpha.md'], ['q2', 'beta.md'], ['q3', 'gamma.md']]);

    await datasets.setBaseline(tenant, dataset.id, first.id);
    // Searching a collection without the judged documents: every quality metric drops to 0.
    const worse = await waitForRun((await runs.create(admin, { datasetId: dataset.id, config: lexical({ collectionIds: [emptyCollectionId] }), gateMargin: 0.05 })).id);
    assert.equal(worse.status, 'succeeded', worse.error ?? '');
    assert.equal(worse.metrics!.ndcgAt10, 0);
    assert.equal(worse.verdict, 'failed');
    assert.equal(worse.gate?.baselineRunId, first.id);
    assert.deepEqual(worse.gate?.failures.map((failure) => failure.metric), ['ndcgAt10', 'recallAt100', 'mrrAt10']);

    const gate = await runs.gate(tenant, worse.id, {});
    assert.equal(gate.verdict, 'failed');
    assert.equal(gate.margin, 0.05);
    assert.equal((await runs.gate(tenant, worse.id, { margin: 1 })).verdict, 'passed');
    assert.equal((await runs.gate(tenant, first.id, {})).verdict, 'no_baseline', 'the baseline is not gated against itself');

    const comparison = await runs.compare(tenant, [first.id, worse.id]);
    assert.ok(Math.abs(comparison.metrics.ndcgAt10.delta + (2 + q3) / 3) < 1e-9);
    assert.deepEqual([comparison.perQuery.wins, comparison.perQuery.losses, comparison.perQuery.ties], [0, 3, 0]);
    assert.equal(comparison.perQuery.biggestLosses[0]?.delta, -1);
  });

  it('searches as the user who started the run: a document they may not read counts as not found', async () => {
    const { dataset } = await datasets.create(admin, {
      name: `acl-${uniqueSuffix()}`,
      matching: { matchBy: 'name', matchField: null },
      contentHash: 'h',
      dataset: parseJsonlDataset(jsonl),
    });
    const asMember = await waitForRun((await runs.create(member, { datasetId: dataset.id, config: lexical() })).id);
    assert.equal(asMember.status, 'succeeded', asMember.error ?? '');
    const results = await runs.results(tenant, asMember.id, { limit: 10 });
    const q1 = results.items.find((item) => item.queryKey === 'q1');
    assert.equal(q1?.ndcgAt10, 0);
    assert.ok(!results.items.some((item) => item.top.includes('alpha.md')), 'alpha.md is readable only by the admin');
    assert.ok(!results.items.some((item) => item.top.includes(documents.get('alpha.md')!)));
  });

  it('fails a run whose collection is gone, with the reason; other tenants see nothing', async () => {
    const doomed = await addCollection();
    const { dataset } = await datasets.create(admin, {
      name: `gone-${uniqueSuffix()}`,
      matching: { matchBy: 'name', matchField: null },
      contentHash: 'h',
      dataset: parseJsonlDataset(jsonl),
    });
    // Stop the consumer so the collection can be removed between creation and execution.
    await worker.pause();
    const queued = await runs.create(admin, { datasetId: dataset.id, config: lexical({ collectionIds: [doomed] }) });
    await db.tenant(tenant, (tx) => tx.collection.delete({ where: { id: doomed } }));
    worker.resume();
    const failed = await waitForRun(queued.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /Collection .* no longer exists/);
    await assert.rejects(runs.compare(tenant, [failed.id, failed.id]), (error: { status?: number }) => error.status === 409);

    const other = await seedTenant(db, 'evals-other');
    await assert.rejects(datasets.get(other, dataset.id), (error: { status?: number }) => error.status === 404);
    await assert.rejects(runs.get(other, queued.id), (error: { status?: number }) => error.status === 404);
    assert.equal((await runs.list(other, { limit: 10 })).items.length, 0);
  });

  it('re-queues a run whose job was lost (Redis keeps queues in memory)', async () => {
    const { dataset } = await datasets.create(admin, {
      name: `lost-${uniqueSuffix()}`,
      matching: { matchBy: 'name', matchField: null },
      contentHash: 'h',
      dataset: parseJsonlDataset(jsonl),
    });
    await worker.pause();
    const queued = await runs.create(admin, { datasetId: dataset.id, config: lexical() });
    const queue = new Queue(evalsQueueName, bullRootOptions(app.get<BaseConfig>(CONFIG)));
    try {
      assert.equal(await queue.remove(evalRunJob.jobId!({ tenantId: tenant.tenantId, runId: queued.id })), 1);
    } finally {
      await queue.close();
    }
    assert.equal(await app.get(EvalQueue).hasJob(tenant.tenantId, queued.id), false);
    const recovery = app.get(EvalRunRecovery);
    assert.deepEqual(await recovery.requeueOrphans(3600, [tenant.tenantId]), { requeued: 0 }, 'a fresh run is left alone');
    assert.deepEqual(await recovery.requeueOrphans(0, [tenant.tenantId]), { requeued: 1 });
    assert.deepEqual(await recovery.requeueOrphans(0, [tenant.tenantId]), { requeued: 0 }, 'its job is back');
    worker.resume();
    const run = await waitForRun(queued.id);
    assert.equal(run.status, 'succeeded', run.error ?? '');
  });
});
