import { createHash } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConsumes, ApiCookieAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppError, ErrorCode, type Principal } from '@quarry/core';
import { DatasetError, DatasetsService, parseBeirDataset, parseJsonlDataset, RunsService, type EvalDataset } from '@quarry/evals';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import type { Request } from 'express';
import { IdParam, PageQueryDto } from '../dto/common.dto';
import {
  BaselineBody,
  CompareQuery,
  ComparisonDto,
  CreateRunBody,
  DatasetCreatedDto,
  DatasetDto,
  datasetFormSchema,
  DatasetPageDto,
  GateDto,
  GateQuery,
  RunDto,
  RunListQuery,
  RunPageDto,
  RunResultPageDto,
  UpdateDatasetBody,
} from '../dto/evals.dto';
import { readBufferedForm, type BufferedForm } from '../http/multipart-form';

const maxDatasetFileBytes = 20 * 1024 * 1024;
const maxQueries = 10_000;

/**
 * Retrieval evals (administrators): datasets of judged queries, runs of a dataset against a retrieval
 * configuration (executed by the worker, as the user who started them), side-by-side comparison, and the
 * regression gate against the dataset's baseline.
 */
@ApiTags('evals')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/evals')
export class EvalsController {
  constructor(
    private readonly datasets: DatasetsService,
    private readonly runs: RunsService,
  ) {}

  /**
   * Upload a dataset (multipart): fields `name`, `description`, `matchBy` (id | name | stem | metadata),
   * `matchField`; files `dataset` (Quarry JSONL: `{"id","query","relevant"}` per line) or `queries` +
   * `qrels` (BEIR: queries.jsonl and the qrels TSV). The answer lists judged ids that name no document yet.
   */
  @Authorize(Permission.EvalsRun)
  @Post('datasets')
  @ApiConsumes('multipart/form-data')
  @ApiCreatedResponse({ type: DatasetCreatedDto })
  async createDataset(@CurrentPrincipal() principal: Principal, @Req() req: Request): Promise<DatasetCreatedDto> {
    const form = await readBufferedForm(req, { maxFiles: 2, maxFileBytes: maxDatasetFileBytes });
    const fields = datasetFormSchema.safeParse(form.fields);
    if (!fields.success) {
      throw new AppError(400, ErrorCode.ValidationFailed, 'The dataset form is invalid', {
        fields: fields.error.issues.map((issue) => ({ path: issue.path.join('.') || 'form', message: issue.message })),
      });
    }
    const { dataset, format, contentHash } = parseUpload(form);
    return this.datasets.create(principal, {
      name: fields.data.name,
      ...(fields.data.description !== undefined ? { description: fields.data.description } : {}),
      matching: { matchBy: fields.data.matchBy ?? (format === 'beir' ? 'stem' : 'name'), matchField: fields.data.matchField ?? null },
      contentHash,
      dataset,
    });
  }

  @Authorize(Permission.EvalsRun)
  @Get('datasets')
  @ApiOkResponse({ type: DatasetPageDto })
  listDatasets(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.datasets.list(principal, query);
  }

  /** The dataset, with the judged ids that name no current document now. */
  @Authorize(Permission.EvalsRun)
  @Get('datasets/:id')
  @ApiOkResponse({ type: DatasetDto })
  getDataset(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.datasets.getWithUnmatched(principal, params.id);
  }

  @Authorize(Permission.EvalsRun)
  @Patch('datasets/:id')
  @ApiOkResponse({ type: DatasetDto })
  async updateDataset(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: UpdateDatasetBody) {
    await this.datasets.update(principal, params.id, body);
    return this.datasets.getWithUnmatched(principal, params.id);
  }

  /** Sets (or clears, with null) the run later runs of this dataset are gated against. */
  @Authorize(Permission.EvalsRun)
  @Put('datasets/:id/baseline')
  @ApiOkResponse({ type: DatasetDto })
  async setBaseline(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: BaselineBody) {
    await this.datasets.setBaseline(principal, params.id, body.runId);
    return this.datasets.getWithUnmatched(principal, params.id);
  }

  /** Deletes the dataset with its queries and runs. */
  @Authorize(Permission.EvalsRun)
  @Delete('datasets/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async removeDataset(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.datasets.remove(principal, params.id);
  }

  /** Queues a run of a dataset against a retrieval configuration; poll it for progress and status. */
  @Authorize(Permission.EvalsRun)
  @Post('runs')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunDto })
  createRun(@CurrentPrincipal() principal: Principal, @Body() body: CreateRunBody) {
    return this.runs.create(principal, { datasetId: body.datasetId, config: body.config, ...(body.gateMargin !== undefined ? { gateMargin: body.gateMargin } : {}) });
  }

  /** Runs, newest first; `datasetId` narrows to one dataset. */
  @Authorize(Permission.EvalsRun)
  @Get('runs')
  @ApiOkResponse({ type: RunPageDto })
  listRuns(@CurrentPrincipal() principal: Principal, @Query() query: RunListQuery) {
    return this.runs.list(principal, query);
  }

  @Authorize(Permission.EvalsRun)
  @Get('runs/:id')
  @ApiOkResponse({ type: RunDto })
  getRun(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.runs.get(principal, params.id);
  }

  /** Per-query metrics and top 10 of a run. */
  @Authorize(Permission.EvalsRun)
  @Get('runs/:id/results')
  @ApiOkResponse({ type: RunResultPageDto })
  runResults(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Query() query: PageQueryDto) {
    return this.runs.results(principal, params.id, query);
  }

  /**
   * The regression gate for CI: `failed` when a metric (default nDCG@10, recall@100, MRR@10) drops more
   * than `margin` below the baseline's (the dataset's baseline unless `baselineRunId` is given).
   */
  @Authorize(Permission.EvalsRun)
  @Get('runs/:id/gate')
  @ApiOkResponse({ type: GateDto })
  gate(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Query() query: GateQuery) {
    return this.runs.gate(principal, params.id, {
      ...(query.margin !== undefined ? { margin: query.margin } : {}),
      ...(query.baselineRunId ? { baselineRunId: query.baselineRunId } : {}),
      ...(query.metrics ? { metrics: query.metrics } : {}),
    });
  }

  @Authorize(Permission.EvalsRun)
  @Delete('runs/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async removeRun(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.runs.remove(principal, params.id);
  }

  /** Two succeeded runs of one dataset side by side: metric deltas (second minus first) and per-query wins/losses. */
  @Authorize(Permission.EvalsRun)
  @Get('compare')
  @ApiOkResponse({ type: ComparisonDto })
  compare(@CurrentPrincipal() principal: Principal, @Query() query: CompareQuery) {
    return this.runs.compare(principal, query.runs);
  }
}

function parseUpload(form: BufferedForm): { dataset: EvalDataset; format: 'jsonl' | 'beir'; contentHash: string } {
  const names = [...form.files.keys()].sort();
  const text = (name: string) => form.files.get(name)!.toString('utf8');
  try {
    if (names.length === 1 && names[0] === 'dataset') {
      return { dataset: parseJsonlDataset(text('dataset'), maxQueries), format: 'jsonl', contentHash: sha256(text('dataset')) };
    }
    if (names.length === 2 && names[0] === 'qrels' && names[1] === 'queries') {
      const dataset = parseBeirDataset(text('queries'), text('qrels'));
      if (dataset.queries.length > maxQueries) throw new DatasetError(`at most ${maxQueries} queries per dataset`);
      return { dataset, format: 'beir', contentHash: sha256(`${text('queries')}\u0000${text('qrels')}`) };
    }
  } catch (error) {
    if (error instanceof DatasetError) {
      throw new AppError(400, ErrorCode.ValidationFailed, `The dataset is invalid: ${error.message}`, { line: error.line ?? null });
    }
    throw error;
  }
  throw new AppError(400, ErrorCode.ValidationFailed, 'Upload a file "dataset" (JSONL), or "queries" and "qrels" (BEIR)', {
    fields: [{ path: 'dataset', message: 'is required' }],
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
