import { Injectable } from '@nestjs/common';
import { actingUserId, type RequestContextStore, type TenantScope } from '@quarry/core';
import { Database, Prisma } from '@quarry/db';
import { ClsService } from 'nestjs-cls';

export interface UsageEventInput {
  /** What was consumed, e.g. `chat.completion`, `embedding`, `parse.pages`, `storage.bytes`. */
  kind: string;
  model?: string;
  units: number | bigint;
  /** e.g. `input_tokens`, `output_tokens`, `pages`, `bytes`. */
  unit: string;
  /** In US dollars; kept as a decimal string or number, stored exactly as numeric(18,8). */
  costUsd?: number | string;
  metadata?: Prisma.InputJsonObject;
}

/** Appends usage events (append-only table). The actor and API key come from the request context. */
@Injectable()
export class UsageWriter {
  constructor(
    private readonly db: Database,
    private readonly context: ClsService<RequestContextStore>,
  ) {}

  async record(scope: TenantScope, event: UsageEventInput): Promise<void> {
    if (typeof event.units === 'number' && (!Number.isInteger(event.units) || event.units < 0)) {
      throw new Error(`usage units must be a non-negative integer, got ${event.units}`);
    }
    const store = this.context.isActive() ? this.context.get() : undefined;
    const actor = store?.actor;
    await this.db.tenant(scope, (tx) =>
      tx.usageEvent.create({
        data: {
          tenantId: scope.tenantId,
          actorType: actor?.type ?? 'system',
          actorId: actor ? (actingUserId(actor) ?? actor.id) : null,
          apiKeyId: actor?.type === 'api_key' ? actor.id : null,
          kind: event.kind,
          model: event.model ?? null,
          units: BigInt(event.units),
          unit: event.unit,
          costUsd: new Prisma.Decimal(event.costUsd ?? 0),
          requestId: store?.requestId ?? null,
          metadata: event.metadata ?? {},
        },
      }),
    );
  }
}
