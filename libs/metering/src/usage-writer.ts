import { Injectable } from '@nestjs/common';
import { actingUserId, type Actor, type RequestContextStore, type TenantScope } from '@quarry/core';
import { Database, Prisma, type ActorType } from '@quarry/db';
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
  /** Who consumed it, when the caller knows better than the request context (e.g. a job acting for a user). */
  caller?: ModelCaller;
}

/** The user and/or API key a model call is made for. */
export interface ModelCaller {
  userId?: string;
  apiKeyId?: string;
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
    const who = event.caller ? describeCaller(event.caller) : describeActor(store?.actor);
    await this.db.tenant(scope, (tx) =>
      tx.usageEvent.create({
        data: {
          tenantId: scope.tenantId,
          ...who,
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

type UsageActor = { actorType: ActorType; actorId: string | null; apiKeyId: string | null };

function describeActor(actor: Actor | undefined): UsageActor {
  return {
    actorType: actor?.type ?? 'system',
    actorId: actor ? (actingUserId(actor) ?? actor.id) : null,
    apiKeyId: actor?.type === 'api_key' ? actor.id : null,
  };
}

function describeCaller(caller: ModelCaller): UsageActor {
  if (caller.apiKeyId) return { actorType: 'api_key', actorId: caller.userId ?? null, apiKeyId: caller.apiKeyId };
  if (caller.userId) return { actorType: 'user', actorId: caller.userId, apiKeyId: null };
  return { actorType: 'system', actorId: null, apiKeyId: null };
}
