import { Injectable, Logger } from '@nestjs/common';
import { actingUserId, AppError, decodeCursor, ErrorCode, toPage, type Page, type PageQuery, type Principal, type TenantScope } from '@quarry/core';
import { Database, type EvalRunModel } from '@quarry/db';
import { CollectionsService } from '@quarry/documents';
import { EvalQueue } from './eval-queue';
import { regressionGate, type GateResult, type RunMetrics } from './metrics';
import { defaultGateMargin, type GateMetric, type RunConfig } from './run-config';
import { toRunView, type RunView } from './run-view';

export interface QueryResultView {
  queryId: string;
  queryKey: string;
  query: string;
  judged: Record<string, number>;
  /** The run's top 10, as judged ids (or document ids of unjudged documents). */
  top: string[];
  latencyMs: number;
  ndcgAt10: number;
  recallAt5: number;
  recallAt20: number;
  recallAt100: number;
  mrrAt10: number;
}

export interface GateView {
  runId: string;
  baselineRunId: string | null;
  margin: number;
  metrics: GateMetric[];
  verdict: 'passed' | 'failed' | 'no_baseline';
  failures: GateResult['failures'];
}

export interface QueryChange {
  queryKey: string;
  query: string;
  a: number;
  b: number;
  delta: number;
}

export interface ComparisonView {
  runs: [RunView, RunView];
  /** Per metric: the first run's value, the second's, and second minus first. */
  metrics: Record<keyof RunMetrics, { a: number; b: number; delta: number }>;
  /** Per query on nDCG@10: where the second run is better, worse, or equal. */
  perQuery: { metric: 'ndcgAt10'; wins: number; losses: number; ties: number; biggestWins: QueryChange[]; biggestLosses: QueryChange[] };
}

const changesShown = 20;
const tieEpsilon = 1e-9;

/** Eval runs as the API sees them: create (queued for the worker), read, compare, gate. */
@Injectable()
export class RunsService {
  private readonly logger = new Logger(RunsService.name);

  constructor(
    private readonly db: Database,
    private readonly queue: EvalQueue,
    private readonly collections: CollectionsService,
  ) {}

  /** Stores the run (it will search as the calling user) and queues it. */
  async create(principal: Principal, input: { datasetId: string; config: RunConfig; gateMargin?: number }): Promise<RunView> {
    const userId = actingUserId(principal.actor);
    if (!userId) throw AppError.forbidden('Eval runs search as a user; use a user session or a user’s API key');
    await this.requireCollections(principal, input.config.collectionIds ?? []);
    const row = await this.db.tenant(principal, async (tx) => {
      const dataset = await tx.evalDataset.findFirst({ where: { tenantId: principal.tenantId, id: input.datasetId } });
      if (!dataset) throw AppError.notFound('Dataset');
      return tx.evalRun.create({
        data: {
          tenantId: principal.tenantId,
          datasetId: dataset.id,
          config: input.config,
          gateMargin: input.gateMargin ?? defaultGateMargin,
          runAsUserId: userId,
          progressTotal: dataset.queryCount,
        },
      });
    });
    try {
      await this.queue.enqueue(principal.tenantId, row.id);
    } catch (error) {
      this.logger.error({ err: error, runId: row.id }, 'Could not queue an eval run');
      await this.db.tenant(principal, (tx) =>
        tx.evalRun.update({ where: { id: row.id }, data: { status: 'failed', error: 'The run could not be queued', finishedAt: new Date() } }),
      );
      throw new AppError(503, ErrorCode.DependencyUnavailable, 'The job queue is unavailable; try again');
    }
    return toRunView(row);
  }

  async list(scope: TenantScope, query: PageQuery & { datasetId?: string }): Promise<Page<RunView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.evalRun.findMany({
        where: { tenantId: scope.tenantId, ...(query.datasetId ? { datasetId: query.datasetId } : {}), ...(after ? { id: { lt: after } } : {}) },
        orderBy: { id: 'desc' },
        take: query.limit + 1,
      }),
    );
    return toPage(rows, query.limit, toRunView);
  }

  async get(scope: TenantScope, id: string): Promise<RunView> {
    return toRunView(await this.row(scope, id));
  }

  async remove(scope: TenantScope, id: string): Promise<void> {
    await this.db.tenant(scope, async (tx) => {
      const { count } = await tx.evalRun.deleteMany({ where: { tenantId: scope.tenantId, id } });
      if (count === 0) throw AppError.notFound('Run');
    });
  }

  async results(scope: TenantScope, runId: string, page: PageQuery): Promise<Page<QueryResultView>> {
    const after = decodeCursor(page.cursor);
    await this.row(scope, runId);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.evalRunResult.findMany({
        where: { tenantId: scope.tenantId, runId, ...(after ? { queryId: { gt: after } } : {}) },
        include: { query: true },
        orderBy: { queryId: 'asc' },
        take: page.limit + 1,
      }),
    );
    return toPage(
      rows.map((row) => ({ ...row, id: row.queryId })),
      page.limit,
      (row) => ({
        queryId: row.queryId,
        queryKey: row.query.queryKey,
        query: row.query.text,
        judged: row.query.judgments as Record<string, number>,
        top: row.ranking.slice(0, 10),
        latencyMs: row.latencyMs,
        ndcgAt10: row.ndcgAt10,
        recallAt5: row.recallAt5,
        recallAt20: row.recallAt20,
        recallAt100: row.recallAt100,
        mrrAt10: row.mrrAt10,
      }),
    );
  }

  /** Two succeeded runs of one dataset side by side: metric deltas and per-query wins and losses. */
  async compare(scope: TenantScope, ids: [string, string]): Promise<ComparisonView> {
    const [a, b] = [await this.succeeded(scope, ids[0]), await this.succeeded(scope, ids[1])];
    if (a.datasetId !== b.datasetId) throw AppError.conflict('Only runs of the same dataset can be compared', { datasets: [a.datasetId, b.datasetId] });
    const [ma, mb] = [metricsOf(a), metricsOf(b)];
    const metrics = Object.fromEntries(
      (Object.keys(ma) as (keyof RunMetrics)[]).map((key) => [key, { a: ma[key], b: mb[key], delta: mb[key] - ma[key] }]),
    ) as ComparisonView['metrics'];
    const rows = await this.db.tenant(scope, (tx) =>
      tx.evalRunResult.findMany({ where: { tenantId: scope.tenantId, runId: { in: [a.id, b.id] } }, include: { query: true } }),
    );
    const byQuery = new Map<string, { key: string; text: string; a?: number; b?: number }>();
    for (const row of rows) {
      const entry = byQuery.get(row.queryId) ?? { key: row.query.queryKey, text: row.query.text };
      entry[row.runId === a.id ? 'a' : 'b'] = row.ndcgAt10;
      byQuery.set(row.queryId, entry);
    }
    const changes: QueryChange[] = [...byQuery.values()].map((entry) => ({
      queryKey: entry.key,
      query: entry.text,
      a: entry.a ?? 0,
      b: entry.b ?? 0,
      delta: (entry.b ?? 0) - (entry.a ?? 0),
    }));
    const wins = changes.filter((change) => change.delta > tieEpsilon).sort((x, y) => y.delta - x.delta);
    const losses = changes.filter((change) => change.delta < -tieEpsilon).sort((x, y) => x.delta - y.delta);
    return {
      runs: [toRunView(a), toRunView(b)],
      metrics,
      perQuery: {
        metric: 'ndcgAt10',
        wins: wins.length,
        losses: losses.length,
        ties: changes.length - wins.length - losses.length,
        biggestWins: wins.slice(0, changesShown),
        biggestLosses: losses.slice(0, changesShown),
      },
    };
  }

  /**
   * The regression gate on demand (CI asks this): the run fails when a metric drops more than `margin`
   * below the baseline's (the dataset's baseline unless another run is named).
   */
  async gate(scope: TenantScope, runId: string, options: { margin?: number; baselineRunId?: string; metrics?: GateMetric[] }): Promise<GateView> {
    const run = await this.succeeded(scope, runId);
    const metrics = options.metrics ?? ['ndcgAt10', 'recallAt100', 'mrrAt10'];
    const margin = options.margin ?? run.gateMargin ?? defaultGateMargin;
    const dataset = await this.db.tenant(scope, (tx) => tx.evalDataset.findFirst({ where: { tenantId: scope.tenantId, id: run.datasetId } }));
    const baselineId = options.baselineRunId ?? dataset?.baselineRunId ?? null;
    if (!baselineId || baselineId === run.id) return { runId, baselineRunId: null, margin, metrics, verdict: 'no_baseline', failures: [] };
    const baseline = await this.succeeded(scope, baselineId);
    if (baseline.datasetId !== run.datasetId) throw AppError.conflict('The baseline is a run of another dataset');
    const result = regressionGate(metricsOf(baseline), metricsOf(run), margin, metrics);
    return { runId, baselineRunId: baseline.id, margin, metrics, verdict: result.passed ? 'passed' : 'failed', failures: result.failures };
  }

  private async succeeded(scope: TenantScope, id: string): Promise<EvalRunModel> {
    const row = await this.row(scope, id);
    if (row.status !== 'succeeded' || !row.metrics) throw AppError.conflict(`Run ${id} has not succeeded`, { runId: id, status: row.status });
    return row;
  }

  private async row(scope: TenantScope, id: string): Promise<EvalRunModel> {
    const row = await this.db.tenant(scope, (tx) => tx.evalRun.findFirst({ where: { tenantId: scope.tenantId, id } }));
    if (!row) throw AppError.notFound('Run');
    return row;
  }

  private async requireCollections(scope: TenantScope, ids: readonly string[]): Promise<void> {
    const unknown: string[] = [];
    for (const id of new Set(ids)) {
      try {
        await this.collections.get(scope, id);
      } catch (error) {
        if (error instanceof AppError && error.code === ErrorCode.NotFound) unknown.push(id);
        else throw error;
      }
    }
    if (unknown.length > 0) throw new AppError(404, ErrorCode.NotFound, 'Collection not found', { collectionIds: unknown });
  }
}

function metricsOf(run: EvalRunModel): RunMetrics {
  return run.metrics as unknown as RunMetrics;
}
