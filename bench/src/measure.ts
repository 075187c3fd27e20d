/** Shared helpers for the phases: logging, CPU accounting, waiting for documents, stage breakdowns. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DocumentView, TenantApi } from './api';
import type { OwnerDb } from './platform';
import { cpuSecondsOf, machineBusySeconds, round } from './processes';
import type { Stack } from './stack';

const benchStarted = performance.now();

export function log(message: string): void {
  const seconds = ((performance.now() - benchStarted) / 1000).toFixed(1).padStart(7);
  console.log(`[bench ${seconds}s] ${message}`);
}

export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// CPU
// ---------------------------------------------------------------------------------------------------------

export interface CpuSnapshot {
  worker: number;
  api: number;
  bench: number;
  machine: number;
  at: number;
}

export interface CpuUse {
  /** CPU seconds used in the interval by each process, and by the whole machine. */
  workerSeconds: number;
  apiSeconds: number;
  benchSeconds: number;
  /** Postgres, Redis and anything else running on the machine (machine minus the three above). */
  otherSeconds: number;
  machineSeconds: number;
  /** Wall seconds of the interval; machine seconds / wall = average busy cores. */
  wallSeconds: number;
}

export async function cpuSnapshot(stack: Stack): Promise<CpuSnapshot> {
  const usage = process.cpuUsage();
  return {
    worker: await cpuSecondsOf(stack.worker.pid),
    api: await cpuSecondsOf(stack.api.pid),
    bench: (usage.user + usage.system) / 1e6,
    machine: await machineBusySeconds(),
    at: performance.now(),
  };
}

export function cpuUse(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const worker = after.worker - before.worker;
  const api = after.api - before.api;
  const bench = after.bench - before.bench;
  const machine = after.machine - before.machine;
  return {
    workerSeconds: round(worker, 1),
    apiSeconds: round(api, 1),
    benchSeconds: round(bench, 1),
    otherSeconds: round(Math.max(0, machine - worker - api - bench), 1),
    machineSeconds: round(machine, 1),
    wallSeconds: round((after.at - before.at) / 1000, 1),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------------------

/**
 * Waits until no document of the collection is queued or in a stage. Progress comes from one cheap status
 * count in Postgres every second; the end is confirmed through the public API. Fails on a failed document,
 * on a dead process, or when nothing finishes for `stallSeconds`.
 */
export async function waitUntilSettled(
  stack: Stack,
  db: OwnerDb,
  tenant: TenantApi,
  collectionId: string,
  label: string,
  stallSeconds: number,
): Promise<void> {
  let lastDone = -1;
  let lastChange = performance.now();
  let lastReport = 0;
  for (;;) {
    stack.assertRunning();
    const rows = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM documents WHERE tenant_id = $1 AND collection_id = $2 GROUP BY status`,
      [tenant.tenantId, collectionId],
    );
    const count = (status: string): number => rows.find((row) => row.status === status)?.n ?? 0;
    const failed = count('failed');
    if (failed > 0) {
      const [example] = await tenant.listAll(collectionId, 'failed');
      throw new Error(`${label}: ${failed} document(s) failed, e.g. ${example?.name ?? '?'}: ${JSON.stringify(example?.error)}`);
    }
    const done = count('indexed') + count('superseded');
    const inFlight = rows.reduce((sum, row) => sum + row.n, 0) - done - failed;
    if (done !== lastDone) {
      lastDone = done;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallSeconds * 1000) {
      throw new Error(`${label}: no document finished for ${stallSeconds} s (${inFlight} still in flight)`);
    }
    if (performance.now() - lastReport > 15_000) {
      lastReport = performance.now();
      log(`${label}: ${count('indexed')} indexed, ${inFlight} in flight`);
    }
    if (inFlight === 0 && (await tenant.settled(collectionId))) return;
    await sleep(1_000);
  }
}

/** Polls a few documents (one list request) until every one of `ids` is indexed; returns their views. */
export async function waitForDocuments(
  stack: Stack,
  tenant: TenantApi,
  collectionId: string,
  ids: ReadonlySet<string>,
  timeoutSeconds: number,
): Promise<DocumentView[]> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  for (;;) {
    stack.assertRunning();
    const docs = (await tenant.listAll(collectionId)).filter((doc) => ids.has(doc.id));
    const failed = docs.find((doc) => doc.status === 'failed');
    if (failed) throw new Error(`${failed.name} failed: ${JSON.stringify(failed.error)}`);
    if (docs.length === ids.size && docs.every((doc) => doc.status === 'indexed')) return docs;
    if (performance.now() > deadline) throw new Error(`documents not indexed within ${timeoutSeconds} s`);
    await sleep(200);
  }
}

/** The latest indexedAt of the documents, in epoch milliseconds. */
export function lastIndexedAt(docs: readonly DocumentView[]): number {
  let latest = 0;
  for (const doc of docs) {
    if (!doc.indexedAt) throw new Error(`${doc.name} has no indexedAt`);
    latest = Math.max(latest, Date.parse(doc.indexedAt));
  }
  return latest;
}

// ---------------------------------------------------------------------------------------------------------
// Where the time goes
// ---------------------------------------------------------------------------------------------------------

export interface StageTiming {
  stage: string;
  runs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  totalSeconds: number;
}

export interface DocumentTimings {
  stages: StageTiming[];
  /** Upload accepted → first stage started. */
  queueWaitMs: { p50: number; p95: number; max: number };
  /** First stage started → indexed. */
  processingMs: { p50: number; p95: number };
  /** Time inside a job but between recorded stages (bookkeeping, heartbeats), per document. */
  betweenStagesMs: { p50: number; p95: number };
}

const stageOrder = ['fetch', 'parse', 'chunk', 'embed', 'index'];

/** Stage-run statistics (from document_stage_runs) for the documents of `version` in a collection. */
export async function documentTimings(db: OwnerDb, tenantId: string, collectionId: string, version: number): Promise<DocumentTimings> {
  const stageRows = await db.query<{ stage: string; runs: number; mean: number; p50: number; p95: number; total: number }>(
    `SELECT r.stage, count(*)::int AS runs, avg(r.duration_ms)::float8 AS mean,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p95,
            sum(r.duration_ms)::float8 AS total
     FROM document_stage_runs r JOIN documents d ON d.tenant_id = r.tenant_id AND d.id = r.document_id
     WHERE r.tenant_id = $1 AND d.collection_id = $2 AND d.version = $3 AND r.status = 'succeeded'
     GROUP BY r.stage`,
    [tenantId, collectionId, version],
  );
  const perDoc = await db.one<{ wait50: number; wait95: number; waitMax: number; proc50: number; proc95: number; gap50: number; gap95: number }>(
    `WITH per_doc AS (
       SELECT d.id,
              extract(epoch FROM min(r.started_at) - d.created_at) * 1000 AS wait,
              extract(epoch FROM max(r.finished_at) - min(r.started_at)) * 1000 AS proc,
              extract(epoch FROM max(r.finished_at) - min(r.started_at)) * 1000 - sum(r.duration_ms) AS gap
       FROM documents d JOIN document_stage_runs r ON r.tenant_id = d.tenant_id AND r.document_id = d.id
       WHERE d.tenant_id = $1 AND d.collection_id = $2 AND d.version = $3 AND r.status = 'succeeded'
       GROUP BY d.id, d.created_at)
     SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY wait)::float8 AS "wait50",
            percentile_cont(0.95) WITHIN GROUP (ORDER BY wait)::float8 AS "wait95",
            max(wait)::float8 AS "waitMax",
            percentile_cont(0.5) WITHIN GROUP (ORDER BY proc)::float8 AS "proc50",
            percentile_cont(0.95) WITHIN GROUP (ORDER BY proc)::float8 AS "proc95",
            percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)::float8 AS "gap50",
            percentile_cont(0.95) WITHIN GROUP (ORDER BY gap)::float8 AS "gap95"
     FROM per_doc`,
    [tenantId, collectionId, version],
  );
  const stages = stageRows
    .sort((a, b) => stageOrder.indexOf(a.stage) - stageOrder.indexOf(b.stage))
    .map((row) => ({
      stage: row.stage,
      runs: row.runs,
      meanMs: round(row.mean, 1),
      p50Ms: round(row.p50, 1),
      p95Ms: round(row.p95, 1),
      totalSeconds: round(row.total / 1000, 1),
    }));
  return {
    stages,
    queueWaitMs: { p50: Math.round(perDoc.wait50), p95: Math.round(perDoc.wait95), max: Math.round(perDoc.waitMax) },
    processingMs: { p50: Math.round(perDoc.proc50), p95: Math.round(perDoc.proc95) },
    betweenStagesMs: { p50: Math.round(perDoc.gap50), p95: Math.round(perDoc.gap95) },
  };
}
