import { Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, CONFIG, ErrorCode, tenantScope, type ApiConfig, type Principal, type TenantScope } from '@quarry/core';
import { Database, type UserModel } from '@quarry/db';
import { rolePermissions } from './permissions';
import { randomToken, sha256Hex } from './secrets';

export interface IssuedSession {
  /** Goes into the HttpOnly cookie; only its SHA-256 is stored. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface AuthenticatedSession {
  principal: Principal;
  csrfToken: string;
  user: UserModel;
}

/** Sessions are refreshed on use at most this often, to keep reads from turning into writes. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Server-side sessions behind an opaque cookie: revocable at once (sign-out, disable, password change),
 * with an idle timeout that slides on use and an absolute lifetime that does not.
 */
@Injectable()
export class SessionsService {
  private readonly idleMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
    @Inject(CONFIG) config: ApiConfig,
  ) {
    this.idleMs = config.SESSION_IDLE_MINUTES * 60_000;
    this.maxMs = config.SESSION_MAX_HOURS * 3_600_000;
  }

  async issue(scope: TenantScope, userId: string, client: { ip?: string; userAgent?: string }): Promise<IssuedSession> {
    const token = randomToken();
    const csrfToken = randomToken();
    const expiresAt = new Date(Date.now() + this.maxMs);
    await this.db.tenant(scope, (tx) =>
      tx.session.create({
        data: {
          tenantId: scope.tenantId,
          userId,
          tokenHash: sha256Hex(token),
          csrfToken,
          ip: client.ip ?? null,
          userAgent: client.userAgent?.slice(0, 512) ?? null,
          expiresAt,
        },
      }),
    );
    return { token, csrfToken, expiresAt };
  }

  async authenticate(token: string): Promise<AuthenticatedSession> {
    const tokenHash = sha256Hex(token);
    const [found] = await this.db.unscoped(
      (client) => client.$queryRaw<{ id: string; tenant_id: string }[]>`
        SELECT id, tenant_id FROM quarry_session_by_token_hash(${tokenHash})`,
    );
    if (!found) throw AppError.unauthenticated('Your session is not valid; sign in again');
    const scope = tenantScope(found.tenant_id);
    return this.db.tenant(scope, async (tx) => {
      const session = await tx.session.findFirst({
        where: { tenantId: scope.tenantId, id: found.id },
        include: { user: true, tenant: true },
      });
      const now = Date.now();
      if (!session || session.revokedAt || session.user.status !== 'active') {
        throw AppError.unauthenticated('Your session has ended; sign in again');
      }
      if (session.expiresAt.getTime() <= now || session.lastSeenAt.getTime() + this.idleMs <= now) {
        throw new AppError(401, ErrorCode.SessionExpired, 'Your session has expired; sign in again');
      }
      if (session.tenant.status !== 'active') {
        throw new AppError(403, ErrorCode.TenantSuspended, 'This tenant is suspended');
      }
      if (now - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
        await tx.session.update({ where: { id: session.id, tenantId: scope.tenantId }, data: { lastSeenAt: new Date(now) } });
      }
      const principal: Principal = {
        tenantId: scope.tenantId,
        actor: { type: 'user', id: session.userId, role: session.user.role, sessionId: session.id },
        permissions: rolePermissions(session.user.role),
      };
      return { principal, csrfToken: session.csrfToken, user: session.user };
    });
  }

  async revoke(principal: Principal): Promise<void> {
    if (principal.actor.type !== 'user') return;
    const { id: userId, sessionId } = principal.actor;
    await this.db.tenant(principal, async (tx) => {
      await tx.session.updateMany({
        where: { tenantId: principal.tenantId, id: sessionId, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      await this.audit.record(principal, { action: 'auth.logout', outcome: 'success', target: { type: 'user', id: userId } });
    });
  }
}
