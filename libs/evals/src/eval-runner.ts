import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode, type TenantScope } from '@quarry/core';
import { Database, type EvalQueryModel, type EvalRunModel } from '@quarry/db';
import { AccessService, CollectionsService, type CollectionView } from '@quarry/documents';
import { EmbeddingProviders } from '@quarry/models';
import { fusionDefaults, Rerankers, resolveFusion, SearchService, type FusionSettings, type SearchCollection } from '@quarry/retrieval';
import { matchingOf } from './datasets.service';
import { resolveJudgedDocuments } from './judged-documents';
import { mrrAtK, ndcgAtK, recallAtK, regressionGate, summarize, type Judgments, type QueryOutcome, type RunMetrics } from './metrics';
import { runConfigSchema, type RunConfig } from './run-config';
import type { StoredGate } from './run-view';

/** A run that cannot succeed however often it is retried (its dataset, user or collections are gone). */
export class EvalRunAbandoned extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalRunAbandoned';
  }
}

const progressEvery = 10;

/**
 * Executes an eval run in the worker: every query of the dataset through SearchService with the run's
 * configuration, as the user who started the run (their ACL tokens, resolved when the run starts), then
 * per-query metrics, the summary, and the gate against the dataset's baseline. Latency is SearchService's
 * own server-side total per query. A retried run starts over, replacing its partial results.
 */
@Injectable()
export class EvalRunner {
  private readonly logger = new Logger(EvalRunner.name);

  constructor(
    private readonly db: Database,
    private readonly search: SearchService,
    private readonly collections: CollectionsService,
    private readonly access: AccessService,
    private readonly models: EmbeddingProviders,
    private readonly rerankers: Rerankers,
  ) {}

  async execute(scope: TenantScope, runId: string): Promise<RunMetrics | null> {
    const run = await this.db.tenant(scope, (tx) => tx.evalRun.findFirst({ where: { tenantId: scope.tenantId, id: runId } }));
    if (!run) throw new EvalRunAbandoned(`Run ${runId} no longer exists`);
    if (run.status === 'succeeded') return run.metrics as unknown as RunMetrics;
    if (!run.runAsUserId) throw new EvalRunAbandoned('The user who started the run no longer exists');
    const config = runConfigSchema.parse(run.config);
    const { queries, matching, baselineRunId } = await this.db.tenant(scope, async (tx) => {
      const dataset = await tx.evalDataset.findFirst({ where: { tenantId: scope.tenantId, id: run.datasetId } });
      if (!dataset) throw new EvalRunAbandoned('The dataset no longer exists');
      await tx.evalRunResult.deleteMany({ where: { tenantId: scope.tenantId, runId } });
      await tx.evalRun.update({
        where: { id: runId },
        data: { status: 'running', startedAt: new Date(), progressDone: 0, error: null },
      });
      const rows = await tx.evalQuery.findMany({ where: { tenantId: scope.tenantId, datasetId: dataset.id }, orderBy: { position: 'asc' } });
      return { queries: rows, matching: matchingOf(dataset), baselineRunId: dataset.baselineRunId };
    });

    const collections = await this.resolveCollections(scope, config);
    const readerTokens = await this.access.tokensFor(scope, run.runAsUserId);
    const qrels = new Map<string, Judgments>(queries.map((query) => [query.id, judgmentsOf(query)]));
    const keys = [...new Set(queries.flatMap((query) => [...judgmentsOf(query).keys()]))];
    const keyOfDocument = await this.db.tenant(scope, (tx) => resolveJudgedDocuments(tx, scope, matching, keys));
    const matchedKeys = new Set(keyOfDocument.values());

    const outcomes: QueryOutcome[] = [];
    for (const [index, query] of queries.entries()) {
      const outcome = await this.runQuery(scope, config, collections, readerTokens, query, keyOfDocument);
      outcomes.push(outcome);
      const judgments = qrels.get(query.id)!;
      await this.db.tenant(scope, (tx) =>
        tx.evalRunResult.create({
          data: {
            tenantId: scope.tenantId,
            runId,
            queryId: query.id,
            ranking: outcome.ranking,
            latencyMs: outcome.latencyMs,
            ndcgAt10: ndcgAtK(outcome.ranking, judgments, 10),
            recallAt5: recallAtK(outcome.ranking, judgments, 5),
            recallAt20: recallAtK(outcome.ranking, judgments, 20),
            recallAt100: recallAtK(outcome.ranking, judgments, 100),
            mrrAt10: mrrAtK(outcome.ranking, judgments, 10),
          },
        }),
      );
      if ((index + 1) % progressEvery === 0) await this.progress(scope, runId, index + 1);
    }

    const metrics = summarize(outcomes, qrels);
    const gate = await this.gateAgainst(scope, run, baselineRunId, metrics);
    await this.db.tenant(scope, (tx) =>
      tx.evalRun.update({
        where: { id: runId },
        data: {
          status: 'succeeded',
          progressDone: queries.length,
          metrics: { ...metrics },
          gate: gate ? { ...gate } : undefined,
          unmatchedJudgments: keys.filter((key) => !matchedKeys.has(key)).length,
          finishedAt: new Date(),
        },
      }),
    );
    this.logger.log({ runId, tenantId: scope.tenantId, queries: queries.length, ndcgAt10: metrics.ndcgAt10, verdict: gate ? gate.passed : 'no_baseline' }, 'Eval run finished');
    return metrics;
  }

  /** Records a run as failed with its reason (the worker calls this once retries are exhausted). */
  async markFailed(scope: TenantScope, runId: string, reason: string): Promise<void> {
    await this.db.tenant(scope, (tx) =>
      tx.evalRun.updateMany({
        where: { tenantId: scope.tenantId, id: runId, status: { in: ['queued', 'running'] } },
        data: { status: 'failed', error: reason.slice(0, 1000), finishedAt: new Date() },
      }),
    );
  }

  private async runQuery(
    scope: TenantScope,
    config: RunConfig,
    collections: SearchCollection[],
    readerTokens: string[],
    query: EvalQueryModel,
    keyOfDocument: ReadonlyMap<string, string>,
  ): Promise<QueryOutcome> {
    const response = await this.search.search(scope, {
      query: query.text,
      collections,
      topK: config.topK,
      mode: config.mode,
      filters: {},
      readerTokens,
      fusion: runFusion(config),
      ...(config.rerank
        ? { rerank: { provider: config.rerankProvider ?? this.rerankers.defaultName, candidates: Math.max(config.topK, 100), timeoutMs: 5_000 } }
        : {}),
      debug: false,
    });
    // One entry per document, best chunk first; an unjudged document keeps its id so it still takes a rank.
    const ranking = [...new Set(response.results.map((result) => keyOfDocument.get(result.documentId) ?? result.documentId))];
    return { queryId: query.id, ranking, latencyMs: response.timingsMs.total };
  }

  private async resolveCollections(scope: TenantScope, config: RunConfig): Promise<SearchCollection[]> {
    const views: CollectionView[] = [];
    if (config.collectionIds) {
      for (const id of config.collectionIds) {
        try {
          views.push(await this.collections.get(scope, id));
        } catch (error) {
          if (error instanceof AppError && error.code === ErrorCode.NotFound) throw new EvalRunAbandoned(`Collection ${id} no longer exists`);
          throw error;
        }
      }
    } else {
      let cursor: string | undefined;
      do {
        const page = await this.collections.list(scope, { limit: 200, ...(cursor ? { cursor } : {}) });
        views.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    const defaultModel = this.models.default().model;
    return views.map((view) => ({ id: view.id, language: view.settings.language, embeddingModel: view.settings.embeddingModel ?? defaultModel }));
  }

  private async gateAgainst(scope: TenantScope, run: EvalRunModel, baselineRunId: string | null, metrics: RunMetrics): Promise<StoredGate | null> {
    if (!baselineRunId || baselineRunId === run.id) return null;
    const baseline = await this.db.tenant(scope, (tx) => tx.evalRun.findFirst({ where: { tenantId: scope.tenantId, id: baselineRunId } }));
    if (!baseline?.metrics) return null;
    const margin = run.gateMargin ?? 0;
    const result = regressionGate(baseline.metrics as unknown as RunMetrics, metrics, margin);
    return { baselineRunId, margin, passed: result.passed, failures: result.failures };
  }

  private async progress(scope: TenantScope, runId: string, done: number): Promise<void> {
    await this.db.tenant(scope, (tx) => tx.evalRun.update({ where: { id: runId }, data: { progressDone: done } }));
  }
}

function judgmentsOf(query: EvalQueryModel): Judgments {
  return new Map(Object.entries(query.judgments as Record<string, number>));
}

/** The run's fusion: the deployment's defaults with the run's overrides. */
export function runFusion(config: RunConfig): FusionSettings {
  const { candidates, ...rest } = config.fusion;
  return resolveFusion(fusionDefaults, {
    ...rest,
    ...(candidates === undefined ? {} : { candidates: typeof candidates === 'number' ? { lexical: candidates, dense: candidates } : candidates }),
  });
}
