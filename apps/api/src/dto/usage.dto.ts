import { budgetPolicyPatchSchema, usageDimensions } from '@quarry/metering';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { pageSchema } from './common.dto';
import { isoDate } from './identity.dto';

const dayMs = 86_400_000;
export const maxUsageRangeDays = 366;

/** `?from=&to=&groupBy=day,model&kind=`: defaults to the last 30 days grouped by day and model. */
export class UsageQueryDto extends createZodDto(
  z
    .object({
      from: isoDate.optional(),
      to: isoDate.optional(),
      groupBy: z
        .string()
        .max(200)
        .default('day,model')
        .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
        .pipe(z.array(z.enum(usageDimensions, { message: `each must be one of ${usageDimensions.join(', ')}` })).min(1).max(usageDimensions.length)),
      kind: z.string().regex(/^[a-z0-9._-]{1,64}$/, 'must be a usage kind like model.call or ingest.embed').optional(),
    })
    .strict()
    .transform((query, ctx) => {
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * dayMs);
      if (from.getTime() >= to.getTime()) {
        ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
      } else if (to.getTime() - from.getTime() > maxUsageRangeDays * dayMs) {
        ctx.addIssue({ code: 'custom', path: ['from'], message: `the range may span at most ${maxUsageRangeDays} days` });
      }
      return { from, to, groupBy: query.groupBy, kind: query.kind };
    }),
) {}

const usageRowSchema = z.object({
  day: z.string().optional(),
  model: z.string().nullable().optional(),
  userId: z.string().nullable().optional(),
  apiKeyId: z.string().nullable().optional(),
  kind: z.string(),
  unit: z.string(),
  events: z.number(),
  units: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
});
export class UsageReportDto extends createZodDto(
  z.object({
    from: z.string(),
    to: z.string(),
    groupBy: z.array(z.enum(usageDimensions)),
    rows: z.array(usageRowSchema),
    totals: z.object({ events: z.number(), costUsd: z.number(), inputTokens: z.number(), outputTokens: z.number() }),
    truncated: z.boolean(),
  }),
) {}

const usageAlertSchema = z.object({
  id: z.string(),
  subject: z.object({ type: z.enum(['tenant', 'user']), id: z.string() }),
  metric: z.enum(['tokens', 'cost']),
  period: z.enum(['day', 'month']),
  periodStart: z.string(),
  threshold: z.number(),
  used: z.number(),
  budget: z.number(),
  createdAt: z.string(),
});
export class UsageAlertPageDto extends createZodDto(pageSchema(usageAlertSchema)) {}

/** Every field optional: what is left out keeps its value; null removes a limit. */
export class BudgetSettingsPatchBody extends createZodDto(budgetPolicyPatchSchema) {}

const priceSchema = z.object({ inputPerMTokUsd: z.number(), outputPerMTokUsd: z.number() });
const policySchema = z.object({
  generationEnabled: z.boolean(),
  period: z.enum(['day', 'month']),
  tenantTokenBudget: z.number().nullable(),
  tenantCostBudgetUsd: z.number().nullable(),
  userTokenBudget: z.number().nullable(),
  userCostBudgetUsd: z.number().nullable(),
  onExceeded: z.enum(['block', 'fallback']),
  fallbackModel: z.string().nullable(),
  tenantRequestsPerMinute: z.number().nullable(),
  tenantTokensPerMinute: z.number().nullable(),
  userRequestsPerMinute: z.number().nullable(),
  userTokensPerMinute: z.number().nullable(),
  priceOverrides: z.record(z.string(), priceSchema),
  updatedAt: z.string().nullable(),
});
export class BudgetOverviewDto extends createZodDto(
  z.object({
    policy: policySchema,
    current: z.object({
      period: z.enum(['day', 'month']),
      periodStart: z.string(),
      resetsAt: z.string(),
      tokens: z.number(),
      costUsd: z.number(),
      tokenUtilisation: z.number().nullable(),
      costUtilisation: z.number().nullable(),
    }),
  }),
) {}
