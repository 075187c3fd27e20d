import { gateMetrics, matchModes, runConfigSchema } from '@quarry/evals';
import { pageQuerySchema } from '@quarry/core';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema, pageSchema } from './common.dto';

/** The text fields of a dataset upload (multipart): the files are `dataset` (JSONL) or `queries` + `qrels` (BEIR). */
export const datasetFormSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200),
    description: z.string().max(2000).optional(),
    /** How judged ids name documents; default `name` for JSONL, `stem` (file name without extension) for BEIR. */
    matchBy: z.enum(matchModes).optional(),
    /** The metadata field holding the judged id (matchBy `metadata` only). */
    matchField: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'metadata field names are letters, digits, _ . -').optional(),
  })
  .strict()
  .refine((form) => (form.matchBy === 'metadata') === (form.matchField !== undefined), {
    message: 'matchField is required with matchBy "metadata", and only then',
    path: ['matchField'],
  });

const metricsSchema = z.object({
  queries: z.number(),
  ndcgAt10: z.number(),
  recallAt5: z.number(),
  recallAt20: z.number(),
  recallAt100: z.number(),
  mrrAt10: z.number(),
  latencyP50Ms: z.number(),
  latencyP95Ms: z.number(),
});

const datasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  matchBy: z.enum(matchModes),
  matchField: z.string().nullable(),
  contentHash: z.string(),
  queryCount: z.number().int(),
  judgmentCount: z.number().int(),
  baselineRunId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const unmatchedSchema = z.object({ count: z.number().int(), sample: z.array(z.string()) });

export class DatasetDto extends createZodDto(datasetSchema.extend({ unmatched: unmatchedSchema })) {}
export class DatasetPageDto extends createZodDto(pageSchema(datasetSchema)) {}
export class DatasetCreatedDto extends createZodDto(z.object({ dataset: datasetSchema, unmatched: unmatchedSchema })) {}

export class UpdateDatasetBody extends createZodDto(
  z
    .object({ name: z.string().trim().min(1).max(200).optional(), description: z.string().max(2000).optional() })
    .strict()
    .refine((body) => Object.keys(body).length > 0, 'nothing to change'),
) {}

export class BaselineBody extends createZodDto(z.object({ runId: idSchema.nullable() }).strict()) {}

export class CreateRunBody extends createZodDto(
  z
    .object({
      datasetId: idSchema,
      config: runConfigSchema.default(runConfigSchema.parse({})),
      /** The gate's margin (absolute drop allowed below the baseline) stored with the run. */
      gateMargin: z.number().min(0).max(1).optional(),
    })
    .strict(),
) {}

export class RunListQuery extends createZodDto(pageQuerySchema.extend({ datasetId: idSchema.optional() }).strict()) {}

const gateMetricsParam = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.enum(gateMetrics)).min(1));

export class GateQuery extends createZodDto(
  z
    .object({
      margin: z.coerce.number().min(0).max(1).optional(),
      baselineRunId: idSchema.optional(),
      metrics: gateMetricsParam.optional(),
    })
    .strict(),
) {}

export class CompareQuery extends createZodDto(
  z
    .object({
      runs: z
        .string()
        .transform((value) => value.split(',').map((item) => item.trim()))
        .pipe(z.tuple([idSchema, idSchema])),
    })
    .strict(),
) {}

const runSchema = z.object({
  id: z.string(),
  datasetId: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  config: runConfigSchema,
  runAsUserId: z.string().nullable(),
  error: z.string().nullable(),
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  metrics: metricsSchema.nullable(),
  unmatchedJudgments: z.number().int().nullable(),
  verdict: z.enum(['passed', 'failed', 'no_baseline']).nullable(),
  gate: z
    .object({
      baselineRunId: z.string(),
      margin: z.number(),
      passed: z.boolean(),
      failures: z.array(z.object({ metric: z.string(), baseline: z.number(), candidate: z.number(), drop: z.number() })),
    })
    .nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export class RunDto extends createZodDto(runSchema) {}
export class RunPageDto extends createZodDto(pageSchema(runSchema)) {}

export class RunResultPageDto extends createZodDto(
  pageSchema(
    z.object({
      queryId: z.string(),
      queryKey: z.string(),
      query: z.string(),
      judged: z.record(z.string(), z.number()),
      top: z.array(z.string()),
      latencyMs: z.number(),
      ndcgAt10: z.number(),
      recallAt5: z.number(),
      recallAt20: z.number(),
      recallAt100: z.number(),
      mrrAt10: z.number(),
    }),
  ),
) {}

export class GateDto extends createZodDto(
  z.object({
    runId: z.string(),
    baselineRunId: z.string().nullable(),
    margin: z.number(),
    metrics: z.array(z.enum(gateMetrics)),
    verdict: z.enum(['passed', 'failed', 'no_baseline']),
    failures: z.array(z.object({ metric: z.string(), baseline: z.number(), candidate: z.number(), drop: z.number() })),
  }),
) {}

const change = z.object({ queryKey: z.string(), query: z.string(), a: z.number(), b: z.number(), delta: z.number() });
const metricDelta = z.object({ a: z.number(), b: z.number(), delta: z.number() });
export class ComparisonDto extends createZodDto(
  z.object({
    runs: z.tuple([runSchema, runSchema]),
    metrics: z.record(z.string(), metricDelta),
    perQuery: z.object({
      metric: z.literal('ndcgAt10'),
      wins: z.number().int(),
      losses: z.number().int(),
      ties: z.number().int(),
      biggestWins: z.array(change),
      biggestLosses: z.array(change),
    }),
  }),
) {}
