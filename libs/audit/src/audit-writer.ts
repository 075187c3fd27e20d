import { Injectable } from '@nestjs/common';
import type { Actor, ActorType, RequestContextStore, TenantScope } from '@quarry/core';
import { Database, type Prisma } from '@quarry/db';
import { ClsService } from 'nestjs-cls';

export type AuditOutcome = 'success' | 'failure';

export interface AuditEventInput {
  /** Dotted verb, e.g. `auth.login`, `user.create`, `api_key.revoke`. */
  action: string;
  outcome: AuditOutcome;
  target?: { type: string; id: string };
  /** Facts about the change, never secrets or document text. */
  metadata?: Prisma.InputJsonObject;
  /** Defaults to the request's actor; sign-in failures name the attempted user here. */
  actor?: { type: ActorType; id: string | null };
}

/**
 * Appends audit events. The table is append-only for the application role (no UPDATE or DELETE grant,
 * and a trigger besides). Called inside the caller's tenant transaction, an event commits or rolls back
 * with the change it describes.
 */
@Injectable()
export class AuditWriter {
  constructor(
    private readonly db: Database,
    private readonly context: ClsService<RequestContextStore>,
  ) {}

  async record(scope: TenantScope, event: AuditEventInput): Promise<void> {
    const store = this.context.isActive() ? this.context.get() : undefined;
    const actor = event.actor ?? describeActor(store?.actor);
    await this.db.tenant(scope, (tx) =>
      tx.auditEvent.create({
        data: {
          tenantId: scope.tenantId,
          actorType: actor.type,
          actorId: actor.id,
          action: event.action,
          outcome: event.outcome,
          targetType: event.target?.type ?? null,
          targetId: event.target?.id ?? null,
          ip: store?.ip ?? null,
          userAgent: store?.userAgent?.slice(0, 512) ?? null,
          requestId: store?.requestId ?? null,
          metadata: event.metadata ?? {},
        },
      }),
    );
  }
}

function describeActor(actor: Actor | undefined): { type: ActorType; id: string | null } {
  if (!actor) return { type: 'anonymous', id: null };
  return { type: actor.type, id: actor.id };
}
