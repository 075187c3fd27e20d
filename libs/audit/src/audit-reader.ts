import { Injectable } from '@nestjs/common';
import { decodeCursor, toPage, type Page, type TenantScope } from '@quarry/core';
import { Database, type AuditEventModel } from '@quarry/db';

export interface AuditQuery {
  limit: number;
  cursor?: string;
  action?: string;
  actorId?: string;
  outcome?: 'success' | 'failure';
  from?: Date;
  to?: Date;
}

export interface AuditEventView {
  id: string;
  action: string;
  outcome: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string } | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: unknown;
  createdAt: string;
}

/** Newest first; the cursor walks backwards in time (ids are UUIDv7). */
@Injectable()
export class AuditReader {
  constructor(private readonly db: Database) {}

  list(scope: TenantScope, query: AuditQuery): Promise<Page<AuditEventView>> {
    const before = decodeCursor(query.cursor);
    return this.db.tenant(scope, async (tx) => {
      const rows = await tx.auditEvent.findMany({
        where: {
          tenantId: scope.tenantId,
          ...(before ? { id: { lt: before } } : {}),
          ...(query.action ? { action: query.action } : {}),
          ...(query.actorId ? { actorId: query.actorId } : {}),
          ...(query.outcome ? { outcome: query.outcome } : {}),
          ...(query.from || query.to ? { createdAt: { gte: query.from, lt: query.to } } : {}),
        },
        orderBy: { id: 'desc' },
        take: query.limit + 1,
      });
      return toPage(rows, query.limit, toView);
    });
  }
}

function toView(row: AuditEventModel): AuditEventView {
  return {
    id: row.id,
    action: row.action,
    outcome: row.outcome,
    actor: { type: row.actorType, id: row.actorId },
    target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    metadata: row.metadata,
    createdAt: row.createdAt.toISOString(),
  };
}
