import { Injectable } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';

export const usageDimensions = ['day', 'model', 'user', 'apiKey', 'kind'] as const;
export type UsageDimension = (typeof usageDimensions)[number];

export interface UsageQuery {
  from: Date;
  to: Date;
  groupBy: readonly UsageDimension[];
  /** Only events of this kind, e.g. `model.call`, `ingest.embed`. */
  kind?: string;
}

export interface UsageRow {
  day?: string;
  model?: string | null;
  userId?: string | null;
  apiKeyId?: string | null;
  /** Always present: units of different kinds (tokens, pages, bytes) are never added together. */
  kind: string;
  unit: string;
  events: number;
  units: number;
  /** Model calls only: the split of `units` into prompt and completion tokens. */
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: UsageDimension[];
  rows: UsageRow[];
  totals: { events: number; costUsd: number; inputTokens: number; outputTokens: number };
  /** True when more groups existed than `maxUsageRows`; narrow the range or the grouping. */
  truncated: boolean;
}

export const maxUsageRows = 5_000;

/** Column expressions per dimension: a fixed whitelist, never text from the request. */
const columns: Record<Exclude<UsageDimension, 'kind'>, { select: Prisma.Sql; name: string }> = {
  day: { select: Prisma.sql`to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`, name: 'day' },
  model: { select: Prisma.sql`model`, name: 'model' },
  user: { select: Prisma.sql`actor_id`, name: 'user_id' },
  apiKey: { select: Prisma.sql`api_key_id::text`, name: 'api_key_id' },
};

interface RawRow {
  day?: string;
  model?: string | null;
  user_id?: string | null;
  api_key_id?: string | null;
  kind: string;
  unit: string;
  events: bigint;
  units: Prisma.Decimal;
  input_tokens: Prisma.Decimal;
  output_tokens: Prisma.Decimal;
  cost_usd: Prisma.Decimal;
}

/**
 * Usage aggregated from the append-only usage events: model calls (tokens in/out, cost) and ingestion
 * (pages parsed, tokens embedded, bytes stored), grouped by UTC day, model, user and API key, always also by
 * kind and unit.
 */
@Injectable()
export class UsageReports {
  constructor(private readonly db: Database) {}

  report(scope: TenantScope, query: UsageQuery): Promise<UsageReport> {
    const dimensions = [...new Set(query.groupBy)].filter((d): d is Exclude<UsageDimension, 'kind'> => d !== 'kind');
    const selected = dimensions.map((d) => Prisma.sql`${columns[d].select} AS ${Prisma.raw(columns[d].name)}`);
    const grouped = [...dimensions.map((d) => Prisma.raw(columns[d].name)), Prisma.raw('kind'), Prisma.raw('unit')];
    const modelTokens = (field: string) =>
      Prisma.sql`coalesce(sum(CASE WHEN kind = 'model.call' AND jsonb_typeof(metadata -> ${field}) = 'number'
                                   THEN (metadata ->> ${field})::numeric END), 0)`;
    return this.db.tenant(scope, async (tx) => {
      const rows = await tx.$queryRaw<RawRow[]>`
        SELECT ${Prisma.join([...selected, Prisma.sql`kind`, Prisma.sql`unit`])},
               count(*) AS events, sum(units) AS units, sum(cost_usd) AS cost_usd,
               ${modelTokens('inputTokens')} AS input_tokens, ${modelTokens('outputTokens')} AS output_tokens
        FROM usage_events
        WHERE tenant_id = ${scope.tenantId}::uuid AND created_at >= ${query.from} AND created_at < ${query.to}
          ${query.kind ? Prisma.sql`AND kind = ${query.kind}` : Prisma.empty}
        GROUP BY ${Prisma.join(grouped)}
        ORDER BY ${Prisma.join(grouped)}
        LIMIT ${maxUsageRows + 1}`;
      const items = rows.slice(0, maxUsageRows).map(toRow);
      return {
        from: query.from.toISOString(),
        to: query.to.toISOString(),
        groupBy: [...new Set(query.groupBy)],
        rows: items,
        totals: {
          events: items.reduce((sum, row) => sum + row.events, 0),
          costUsd: round8(items.reduce((sum, row) => sum + row.costUsd, 0)),
          inputTokens: items.reduce((sum, row) => sum + row.inputTokens, 0),
          outputTokens: items.reduce((sum, row) => sum + row.outputTokens, 0),
        },
        truncated: rows.length > maxUsageRows,
      };
    });
  }
}

function toRow(raw: RawRow): UsageRow {
  return {
    ...('day' in raw ? { day: raw.day } : {}),
    ...('model' in raw ? { model: raw.model } : {}),
    ...('user_id' in raw ? { userId: raw.user_id } : {}),
    ...('api_key_id' in raw ? { apiKeyId: raw.api_key_id } : {}),
    kind: raw.kind,
    unit: raw.unit,
    events: Number(raw.events),
    units: Number(raw.units),
    inputTokens: Number(raw.input_tokens),
    outputTokens: Number(raw.output_tokens),
    costUsd: Number(raw.cost_usd),
  };
}

function round8(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}
