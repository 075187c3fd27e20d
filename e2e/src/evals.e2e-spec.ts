import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createApiKey,
  createTenant,
  createUser,
  expectError,
  expectStatus,
  repoRoot,
  signIn,
  startStack,
  uniqueSuffix,
  type Credentials,
  type Session,
  type Stack,
} from './harness';
import { createCollection, upload, waitForStatus } from './ingestion-support';

interface Metrics {
  queries: number;
  ndcgAt10: number;
  recallAt5: number;
  recallAt100: number;
  mrrAt10: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

interface Run {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  error: string | null;
  progress: { done: number; total: number };
  metrics: Metrics | null;
  verdict: 'passed' | 'failed' | 'no_baseline' | null;
  runAsUserId: string;
}

interface DatasetCreated {
  dataset: { id: string; name: string; queryCount: number; matchBy: string; baselineRunId: string | null };
  unmatched: { count: number; sample: string[] };
}

const cliMain = path.join(repoRoot, 'apps/api/dist/cli.js');

const corpus = [
  { name: 'mitochondria.md', content: '# Mitochondria\n\nMitochondria produce ATP through oxidative phosphorylation in eukaryotic cells.' },
  { name: 'ribosome.md', content: '# Ribosomes\n\nRibosomes translate messenger RNA into proteins by linking amino acids.' },
  { name: 'photosynthesis.md', content: '# Photosynthesis\n\nChloroplasts capture light energy and convert carbon dioxide into glucose.' },
];

const jsonl = [
  { id: 'q1', query: 'how do cells make ATP', relevant: ['mitochondria.md'] },
  { id: 'q2', query: 'ribosomes translate RNA into proteins', relevant: ['ribosome.md'] },
  { id: 'q3', query: 'chloroplasts convert light into glucose', relevant: ['photosynthesis.md', 'missing.md'] },
]
  .map((line) => JSON.stringify(line))
  .join('\n');

/** BEIR layout of the same judgments: corpus ids are the file names without extension. */
const beirQueries = ['{"_id":"1","text":"ribosomes translate RNA into proteins"}', '{"_id":"2","text":"mitochondria ATP"}', '{"_id":"3","text":"unjudged"}'].join('\n');
const beirQrels = 'query-id\tcorpus-id\tscore\n1\tribosome\t1\n2\tmitochondria\t1\n';

describe('evals: API and the quarry eval CLI against the built API and worker', () => {
  let stack: Stack;
  let storageDir: string;
  let workDir: string;
  let admin: Session;
  let member: Session;
  let collectionId: string;
  let emptyCollectionId: string;

  async function uploadDataset(as: Credentials, fields: Record<string, string>, files: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    for (const [name, text] of Object.entries(files)) form.set(name, new Blob([text]), `${name}.txt`);
    const headers: Record<string, string> = 'bearer' in as ? { authorization: `Bearer ${as.bearer}` } : { cookie: as.cookie, 'x-csrf-token': as.csrfToken };
    const response = await fetch(`${stack.api.url}/v1/evals/datasets`, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function waitForRun(id: string): Promise<Run> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const run = expectStatus(await stack.http.get<Run>(`/v1/evals/runs/${id}`, { as: admin }), 200, 'get run');
      if (run.status === 'succeeded' || run.status === 'failed') return run;
      assert.ok(Date.now() < deadline, `run ${id} still ${run.status}`);
      await sleep(200);
    }
  }

  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliMain, 'eval', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-evals-'));
    workDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-evals-files-'));
    stack = await startStack({ env: { STORAGE_LOCAL_DIR: storageDir } });
    const tenant = await createTenant(stack, 'evals');
    admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    member = await signIn(stack, tenant.slug, (await createUser(stack, admin, 'member')).email);
    collectionId = (await createCollection(stack, admin, 'biology')).id;
    emptyCollectionId = (await createCollection(stack, admin, 'empty')).id;
    const uploaded = await upload(stack, admin, collectionId, corpus);
    for (const item of uploaded.body.items!) await waitForStatus(stack, admin, item.document!.id, ['indexed'], 120_000);
  });

  after(async () => {
    stack.http.assertNoServerErrors();
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  it('uploads JSONL and BEIR datasets, reporting judged ids that name no document', async () => {
    const created = await uploadDataset(admin, { name: `jsonl-${uniqueSuffix()}` }, { dataset: jsonl });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const body = created.body as unknown as DatasetCreated;
    assert.equal(body.dataset.queryCount, 3);
    assert.equal(body.dataset.matchBy, 'name');
    assert.deepEqual(body.unmatched, { count: 1, sample: ['missing.md'] });

    const beir = await uploadDataset(admin, { name: `beir-${uniqueSuffix()}` }, { queries: beirQueries, qrels: beirQrels });
    assert.equal(beir.status, 201, JSON.stringify(beir.body));
    const beirBody = beir.body as unknown as DatasetCreated;
    assert.equal(beirBody.dataset.queryCount, 2, 'unjudged queries are dropped, as BEIR does');
    assert.equal(beirBody.dataset.matchBy, 'stem');
    assert.equal(beirBody.unmatched.count, 0);

    const fetched = expectStatus(await stack.http.get<{ name: string; unmatched: { count: number } }>(`/v1/evals/datasets/${body.dataset.id}`, { as: admin }), 200);
    assert.equal(fetched.unmatched.count, 1);
    const renamed = expectStatus(await stack.http.patch<{ name: string }>(`/v1/evals/datasets/${body.dataset.id}`, { as: admin, json: { description: 'three biology questions' } }), 200);
    assert.equal(renamed.name, body.dataset.name);
    expectStatus(await stack.http.delete(`/v1/evals/datasets/${beirBody.dataset.id}`, { as: admin }), 204);
    expectError(await stack.http.get(`/v1/evals/datasets/${beirBody.dataset.id}`, { as: admin }), 404, 'NOT_FOUND');
  });

  it('refuses bad datasets and bad runs with a clear 4xx', async () => {
    const name = `bad-${uniqueSuffix()}`;
    const malformed = await uploadDataset(admin, { name }, { dataset: '{"id":"1","query":"q","relevant":["a"]}\n{not json' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'VALIDATION_FAILED');
    assert.match(String(malformed.body.message), /line 2/);
    assert.equal((await uploadDataset(admin, { name }, { dataset: '\n\n' })).body.code, 'VALIDATION_FAILED');
    assert.equal((await uploadDataset(admin, { name }, {})).status, 400);
    assert.equal((await uploadDataset(admin, { name, matchBy: 'metadata' }, { dataset: jsonl })).status, 400);
    assert.equal((await uploadDataset(admin, { name, bogus: 'x' }, { dataset: jsonl })).status, 400);
    assert.equal((await uploadDataset(admin, { name: '' }, { dataset: jsonl })).status, 400);
    assert.equal((await uploadDataset(admin, { name }, { queries: beirQueries, qrels: 'h\nbroken line\n' })).status, 400);
    expectError(await stack.http.post('/v1/evals/datasets', { as: admin, json: { name } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await uploadDataset(member, { name }, { dataset: jsonl })).status, 403, 'members do not run evals');

    const first = await uploadDataset(admin, { name }, { dataset: jsonl });
    assert.equal(first.status, 201);
    assert.equal((await uploadDataset(admin, { name }, { dataset: jsonl })).body.code, 'CONFLICT');
    const datasetId = (first.body as unknown as DatasetCreated).dataset.id;

    expectError(await stack.http.post('/v1/evals/runs', { as: admin, json: { datasetId: crypto.randomUUID() } }), 404, 'NOT_FOUND');
    const unknownCollection = expectError(
      await stack.http.post('/v1/evals/runs', { as: admin, json: { datasetId, config: { collectionIds: [crypto.randomUUID()] } } }),
      404,
      'NOT_FOUND',
    );
    assert.match(unknownCollection.message, /Collection/);
    expectError(await stack.http.post('/v1/evals/runs', { as: admin, json: { datasetId, config: { topK: 0 } } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/evals/runs', { as: admin, json: { datasetId, config: { mode: 'magic' } } }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.post('/v1/evals/runs', { as: member, json: { datasetId } }), 403, 'FORBIDDEN');
    expectError(await stack.http.get('/v1/evals/compare?runs=not-a-uuid', { as: admin }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.get(`/v1/evals/runs/${crypto.randomUUID()}/gate`, { as: admin }), 404, 'NOT_FOUND');
    expectError(await stack.http.get(`/v1/evals/runs/${crypto.randomUUID()}/gate?metrics=latency`, { as: admin }), 400, 'VALIDATION_FAILED');
    expectError(await stack.http.put(`/v1/evals/datasets/${datasetId}/baseline`, { as: admin, json: { runId: crypto.randomUUID() } }), 404, 'NOT_FOUND');
  });

  it('runs a dataset on the worker, then compares runs and gates against the baseline', async () => {
    const created = await uploadDataset(admin, { name: `runs-${uniqueSuffix()}` }, { dataset: jsonl });
    const datasetId = (created.body as unknown as DatasetCreated).dataset.id;
    const queued = expectStatus(
      await stack.http.post<Run>('/v1/evals/runs', { as: admin, json: { datasetId, config: { mode: 'hybrid', collectionIds: [collectionId], topK: 20 } } }),
      202,
    );
    assert.equal(queued.status, 'queued');
    expectError(await stack.http.get(`/v1/evals/compare?runs=${queued.id},${queued.id}`, { as: admin }), 409, 'CONFLICT');
    const good = await waitForRun(queued.id);
    assert.equal(good.status, 'succeeded', good.error ?? '');
    assert.equal(good.runAsUserId, admin.user.id);
    assert.deepEqual(good.progress, { done: 3, total: 3 });
    assert.equal(good.metrics!.queries, 3);
    assert.ok(good.metrics!.ndcgAt10 > 0.5, JSON.stringify(good.metrics));
    assert.ok(good.metrics!.latencyP95Ms > 0);
    const results = expectStatus(await stack.http.get<{ items: { queryKey: string; top: string[]; ndcgAt10: number }[] }>(`/v1/evals/runs/${good.id}/results`, { as: admin }), 200);
    assert.deepEqual(results.items.map((item) => item.queryKey), ['q1', 'q2', 'q3']);
    assert.equal(results.items[1]!.top[0], 'ribosome.md');

    expectStatus(await stack.http.put(`/v1/evals/datasets/${datasetId}/baseline`, { as: admin, json: { runId: good.id } }), 200);
    const bad = await waitForRun(
      expectStatus(await stack.http.post<Run>('/v1/evals/runs', { as: admin, json: { datasetId, config: { mode: 'lexical', collectionIds: [emptyCollectionId] } } }), 202).id,
    );
    assert.equal(bad.status, 'succeeded', bad.error ?? '');
    assert.equal(bad.verdict, 'failed');
    const gate = expectStatus(await stack.http.get<{ verdict: string; failures: { metric: string }[] }>(`/v1/evals/runs/${bad.id}/gate`, { as: admin }), 200);
    assert.equal(gate.verdict, 'failed');
    assert.ok(gate.failures.some((failure) => failure.metric === 'ndcgAt10'));
    const lenient = expectStatus(await stack.http.get<{ verdict: string }>(`/v1/evals/runs/${bad.id}/gate?margin=1&metrics=ndcgAt10`, { as: admin }), 200);
    assert.equal(lenient.verdict, 'passed');

    const comparison = expectStatus(
      await stack.http.get<{ metrics: Record<string, { a: number; b: number; delta: number }>; perQuery: { wins: number; losses: number; ties: number } }>(
        `/v1/evals/compare?runs=${good.id},${bad.id}`,
        { as: admin },
      ),
      200,
    );
    assert.equal(comparison.metrics.ndcgAt10!.b, 0);
    assert.ok(comparison.metrics.ndcgAt10!.delta < -0.5);
    assert.equal(comparison.perQuery.wins, 0);
    assert.equal(comparison.perQuery.losses + comparison.perQuery.ties, 3);

    const listed = expectStatus(await stack.http.get<{ items: Run[] }>(`/v1/evals/runs?datasetId=${datasetId}`, { as: admin }), 200);
    assert.deepEqual(listed.items.map((run) => run.id), [bad.id, good.id], 'newest first');
  });

  it('quarry eval: runs a JSONL file and a BEIR directory, prints the table, and exits 1 when the gate fails', async () => {
    const { token } = await createApiKey(stack, admin, ['evals:run']);
    const file = path.join(workDir, 'biology.jsonl');
    await writeFile(file, jsonl);
    const common = ['--url', stack.api.url, '--api-key', token, '--timeout', '200'];

    const baseline = await cli([...common, '--dataset', file, '--collections', collectionId, '--mode', 'lexical', '--set-baseline']);
    assert.equal(baseline.code, 0, baseline.stderr);
    assert.match(baseline.stdout, /nDCG@10\s+\d\.\d{4}/);
    assert.match(baseline.stdout, /latency p95 \(ms\)/);
    assert.match(baseline.stdout, /no baseline/);
    assert.match(baseline.stdout, /baseline: run /);
    assert.match(baseline.stderr, /1 judged ids name no document/);

    const same = await cli([...common, '--dataset', file, '--collections', collectionId, '--mode', 'lexical']);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /reusing dataset "biology.jsonl"/);
    assert.match(same.stdout, /gate: PASSED/);

    const regressed = await cli([...common, '--dataset', file, '--collections', emptyCollectionId, '--mode', 'lexical']);
    assert.equal(regressed.code, 1, regressed.stdout + regressed.stderr);
    assert.match(regressed.stdout, /gate: FAILED/);
    assert.match(regressed.stdout, /ndcgAt10 dropped/);

    const beirDir = path.join(workDir, 'bio-beir');
    await mkdir(path.join(beirDir, 'qrels'), { recursive: true });
    await writeFile(path.join(beirDir, 'queries.jsonl'), beirQueries);
    await writeFile(path.join(beirDir, 'qrels', 'test.tsv'), beirQrels);
    const beir = await cli([...common, '--beir', beirDir, '--collections', collectionId, '--mode', 'hybrid', '--top-k', '10']);
    assert.equal(beir.code, 0, beir.stderr);
    assert.match(beir.stdout, /\(2 queries\)/);

    const misuse = await cli(['--url', stack.api.url, '--api-key', token]);
    assert.equal(misuse.code, 2);
    assert.match(misuse.stderr, /exactly one of --dataset and --beir/);
    const badKey = await cli(['--url', stack.api.url, '--api-key', 'qk_nope', '--dataset', file]);
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /HTTP 401/);
  });
});

describe('evals: a run that cannot succeed is recorded as failed by the worker, with its reason', () => {
  let stack: Stack;
  let storageDir: string;

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-evals-fail-'));
    // No worker yet: the run stays queued until the collection it names is gone.
    stack = await startStack({ worker: false, env: { STORAGE_LOCAL_DIR: storageDir } });
  });

  after(async () => {
    stack.http.assertNoServerErrors();
    await stack.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('fails the run when its collection was deleted before it ran', async () => {
    const tenant = await createTenant(stack, 'evfail');
    const admin = await signIn(stack, tenant.slug, tenant.ownerEmail);
    const collection = await createCollection(stack, admin, 'doomed');
    const form = new FormData();
    form.set('name', 'doomed-questions');
    form.set('dataset', new Blob([jsonl]), 'doomed.jsonl');
    const created = await fetch(`${stack.api.url}/v1/evals/datasets`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken },
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(created.status, 201);
    const { dataset } = (await created.json()) as DatasetCreated;
    const queued = expectStatus(
      await stack.http.post<Run>('/v1/evals/runs', { as: admin, json: { datasetId: dataset.id, config: { mode: 'lexical', collectionIds: [collection.id] } } }),
      202,
    );
    expectStatus(await stack.http.delete(`/v1/collections/${collection.id}`, { as: admin }), 204);
    await stack.startWorker();
    const deadline = Date.now() + 120_000;
    let run: Run;
    for (;;) {
      run = expectStatus(await stack.http.get<Run>(`/v1/evals/runs/${queued.id}`, { as: admin }), 200);
      if (run.status === 'failed' || run.status === 'succeeded') break;
      assert.ok(Date.now() < deadline, `run still ${run.status}`);
      await sleep(200);
    }
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /Collection .* no longer exists/);
    assert.equal(run.verdict, null);
    expectError(await stack.http.get(`/v1/evals/runs/${run.id}/gate`, { as: admin }), 409, 'CONFLICT');
    const metrics = await fetch(`${stack.extraWorkers[0]!.url}/metrics`).then((response) => response.text());
    assert.match(metrics, /quarry_eval_runs_total\{[^}]*outcome="failed"[^}]*\} 1\b/);
  });
});
