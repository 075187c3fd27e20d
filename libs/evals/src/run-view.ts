import type { EvalRunModel } from '@quarry/db';
import type { GateResult, RunMetrics } from './metrics';
import type { RunConfig } from './run-config';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** The gate as stored on a run: measured against the dataset's baseline when the run finished. */
export interface StoredGate {
  baselineRunId: string;
  margin: number;
  passed: boolean;
  failures: GateResult['failures'];
}

export interface RunView {
  id: string;
  datasetId: string;
  status: RunStatus;
  config: RunConfig;
  runAsUserId: string | null;
  /** Why the run failed (status failed). */
  error: string | null;
  progress: { done: number; total: number };
  metrics: RunMetrics | null;
  /** Judged ids that named no current document when the run started. */
  unmatchedJudgments: number | null;
  /**
   * `passed`/`failed` against the dataset's baseline at the time the run finished; `no_baseline` when the
   * dataset had none (or this run is it); null until the run has succeeded.
   */
  verdict: 'passed' | 'failed' | 'no_baseline' | null;
  gate: StoredGate | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export function toRunView(row: EvalRunModel): RunView {
  const gate = (row.gate ?? null) as StoredGate | null;
  return {
    id: row.id,
    datasetId: row.datasetId,
    status: row.status as RunStatus,
    config: row.config as RunConfig,
    runAsUserId: row.runAsUserId,
    error: row.error,
    progress: { done: row.progressDone, total: row.progressTotal },
    metrics: (row.metrics ?? null) as RunMetrics | null,
    unmatchedJudgments: row.unmatchedJudgments,
    verdict: row.status !== 'succeeded' ? null : gate ? (gate.passed ? 'passed' : 'failed') : 'no_baseline',
    gate,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
