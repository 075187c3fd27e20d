import { Injectable } from '@nestjs/common';
import { actingUserId, AppError, decodeCursor, toPage, type Page, type PageQuery, type Principal, type TenantScope } from '@quarry/core';
import { Database, isUniqueViolation, type EvalDatasetModel, type TenantTx } from '@quarry/db';
import type { EvalDataset } from './dataset';
import { resolveJudgedDocuments, type DocumentMatching } from './judged-documents';

export interface DatasetView {
  id: string;
  name: string;
  description: string;
  matchBy: DocumentMatching['matchBy'];
  matchField: string | null;
  contentHash: string;
  queryCount: number;
  judgmentCount: number;
  baselineRunId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UnmatchedJudgments {
  /** Distinct judged ids that name no current document of the tenant. */
  count: number;
  /** The first of them, for the operator to check the naming. */
  sample: string[];
}

export interface NewDataset {
  name: string;
  description?: string;
  matching: DocumentMatching;
  contentHash: string;
  dataset: EvalDataset;
}

const insertBatch = 1_000;
const unmatchedSample = 50;

/** Eval datasets: queries with their judged documents, stored per tenant. */
@Injectable()
export class DatasetsService {
  constructor(private readonly db: Database) {}

  async create(principal: Principal, input: NewDataset): Promise<{ dataset: DatasetView; unmatched: UnmatchedJudgments }> {
    const judgmentCount = [...input.dataset.qrels.values()].reduce((sum, judgments) => sum + judgments.size, 0);
    try {
      return await this.db.tenant(principal, async (tx) => {
        const row = await tx.evalDataset.create({
          data: {
            tenantId: principal.tenantId,
            name: input.name,
            description: input.description ?? '',
            matchBy: input.matching.matchBy,
            matchField: input.matching.matchField,
            contentHash: input.contentHash,
            queryCount: input.dataset.queries.length,
            judgmentCount,
            createdBy: actingUserId(principal.actor) ?? null,
          },
        });
        const rows = input.dataset.queries.map((query, position) => ({
          tenantId: principal.tenantId,
          datasetId: row.id,
          position,
          queryKey: query.id,
          text: query.text,
          judgments: Object.fromEntries(input.dataset.qrels.get(query.id) ?? []),
        }));
        for (let start = 0; start < rows.length; start += insertBatch) {
          await tx.evalQuery.createMany({ data: rows.slice(start, start + insertBatch) });
        }
        const unmatched = await this.unmatchedIn(tx, principal, input.matching, input.dataset);
        return { dataset: toView(row), unmatched };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.conflict('A dataset with this name already exists');
      throw error;
    }
  }

  async list(scope: TenantScope, page: PageQuery): Promise<Page<DatasetView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.evalDataset.findMany({
        where: { tenantId: scope.tenantId, ...(after ? { id: { gt: after } } : {}) },
        orderBy: { id: 'asc' },
        take: page.limit + 1,
      }),
    );
    return toPage(rows, page.limit, toView);
  }

  async get(scope: TenantScope, id: string): Promise<DatasetView> {
    return toView(await this.row(scope, id));
  }

  /** The dataset and the judged ids that name no current document now (documents may arrive after the upload). */
  async getWithUnmatched(scope: TenantScope, id: string): Promise<DatasetView & { unmatched: UnmatchedJudgments }> {
    return this.db.tenant(scope, async (tx) => {
      const row = await this.row(scope, id);
      const queries = await tx.evalQuery.findMany({ where: { tenantId: scope.tenantId, datasetId: id }, select: { judgments: true } });
      const keys = new Set(queries.flatMap((query) => Object.keys(query.judgments as Record<string, number>)));
      const matched = new Set((await resolveJudgedDocuments(tx, scope, matchingOf(row), [...keys])).values());
      const missing = [...keys].filter((key) => !matched.has(key));
      return { ...toView(row), unmatched: { count: missing.length, sample: missing.slice(0, unmatchedSample) } };
    });
  }

  async update(scope: TenantScope, id: string, changes: { name?: string; description?: string }): Promise<DatasetView> {
    try {
      return await this.db.tenant(scope, async (tx) => {
        await this.row(scope, id);
        return toView(await tx.evalDataset.update({ where: { tenantId_id: { tenantId: scope.tenantId, id } }, data: changes }));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.conflict('A dataset with this name already exists');
      throw error;
    }
  }

  /** Makes a succeeded run of this dataset its baseline (null clears it). */
  async setBaseline(scope: TenantScope, id: string, runId: string | null): Promise<DatasetView> {
    return this.db.tenant(scope, async (tx) => {
      await this.row(scope, id);
      if (runId) {
        const run = await tx.evalRun.findFirst({ where: { tenantId: scope.tenantId, id: runId } });
        if (!run || run.datasetId !== id) throw AppError.notFound('Run of this dataset');
        if (run.status !== 'succeeded') throw AppError.conflict('Only a succeeded run can be the baseline', { status: run.status });
      }
      return toView(await tx.evalDataset.update({ where: { tenantId_id: { tenantId: scope.tenantId, id } }, data: { baselineRunId: runId } }));
    });
  }

  async remove(scope: TenantScope, id: string): Promise<void> {
    await this.db.tenant(scope, async (tx) => {
      const { count } = await tx.evalDataset.deleteMany({ where: { tenantId: scope.tenantId, id } });
      if (count === 0) throw AppError.notFound('Dataset');
    });
  }

  async row(scope: TenantScope, id: string): Promise<EvalDatasetModel> {
    const row = await this.db.tenant(scope, (tx) => tx.evalDataset.findFirst({ where: { tenantId: scope.tenantId, id } }));
    if (!row) throw AppError.notFound('Dataset');
    return row;
  }

  private async unmatchedIn(
    tx: TenantTx,
    scope: TenantScope,
    matching: DocumentMatching,
    dataset: EvalDataset,
  ): Promise<UnmatchedJudgments> {
    const keys = new Set([...dataset.qrels.values()].flatMap((judgments) => [...judgments.keys()]));
    const matched = new Set((await resolveJudgedDocuments(tx, scope, matching, [...keys])).values());
    const missing = [...keys].filter((key) => !matched.has(key));
    return { count: missing.length, sample: missing.slice(0, unmatchedSample) };
  }
}

export function matchingOf(row: EvalDatasetModel): DocumentMatching {
  return { matchBy: row.matchBy as DocumentMatching['matchBy'], matchField: row.matchField };
}

function toView(row: EvalDatasetModel): DatasetView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    matchBy: row.matchBy as DocumentMatching['matchBy'],
    matchField: row.matchField,
    contentHash: row.contentHash,
    queryCount: row.queryCount,
    judgmentCount: row.judgmentCount,
    baselineRunId: row.baselineRunId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
