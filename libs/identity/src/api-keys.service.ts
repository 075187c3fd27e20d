import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import {
  actingUserId,
  AppError,
  decodeCursor,
  ErrorCode,
  tenantScope,
  toPage,
  type Page,
  type PageQuery,
  type Principal,
} from '@quarry/core';
import { Database, type ApiKeyModel } from '@quarry/db';
import { Permission, rolePermissions } from './permissions';
import { issueApiKey, parseApiKey, safeEqual, sha256Hex } from './secrets';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdById: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export interface CreateApiKeyInput {
  name: string;
  scopes: string[];
  expiresAt?: Date;
}

/** last_used_at is written at most once a minute per key, so a busy key does not write on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  /** The key's scopes must be a subset of what its creator may do right now: keys only ever narrow. */
  async create(principal: Principal, input: CreateApiKeyInput): Promise<{ key: ApiKeyView; token: string }> {
    const ownerId = actingUserId(principal.actor);
    if (!ownerId) throw AppError.forbidden('Only users and their keys can create API keys');
    const scopes = [...new Set(input.scopes)].sort();
    const beyond = scopes.filter((scope) => !principal.permissions.has(scope));
    if (beyond.length > 0) {
      throw new AppError(403, ErrorCode.ScopeExceedsRole, 'A key cannot have scopes its creator does not have', {
        scopes: beyond,
      });
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new AppError(400, ErrorCode.ValidationFailed, 'expiresAt must be in the future', {
        fields: [{ path: 'expiresAt', message: 'must be in the future' }],
      });
    }
    const issued = issueApiKey();
    return this.db.tenant(principal, async (tx) => {
      const key = await tx.apiKey.create({
        data: {
          tenantId: principal.tenantId,
          createdById: ownerId,
          name: input.name,
          prefix: issued.prefix,
          secretHash: issued.secretHash,
          scopes,
          expiresAt: input.expiresAt ?? null,
        },
      });
      await this.audit.record(principal, {
        action: 'api_key.create',
        outcome: 'success',
        target: { type: 'api_key', id: key.id },
        metadata: { name: key.name, prefix: key.prefix, scopes, expiresAt: key.expiresAt?.toISOString() ?? null },
      });
      return { key: toView(key), token: issued.token };
    });
  }

  async list(principal: Principal, page: PageQuery): Promise<Page<ApiKeyView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.db.tenant(principal, (tx) =>
      tx.apiKey.findMany({
        where: { tenantId: principal.tenantId, ...this.visibleTo(principal), ...(after ? { id: { gt: after } } : {}) },
        orderBy: { id: 'asc' },
        take: page.limit + 1,
      }),
    );
    return toPage(rows, page.limit, toView);
  }

  async get(principal: Principal, id: string): Promise<ApiKeyView> {
    const key = await this.db.tenant(principal, (tx) =>
      tx.apiKey.findFirst({ where: { tenantId: principal.tenantId, id, ...this.visibleTo(principal) } }),
    );
    if (!key) throw AppError.notFound('API key');
    return toView(key);
  }

  /** Revoking is permanent and idempotent; a key you may not see is "not found", never "forbidden". */
  async revoke(principal: Principal, id: string): Promise<ApiKeyView> {
    return this.db.tenant(principal, async (tx) => {
      const key = await tx.apiKey.findFirst({ where: { tenantId: principal.tenantId, id, ...this.visibleTo(principal) } });
      if (!key) throw AppError.notFound('API key');
      // Conditional update: of concurrent revocations exactly one changes the row and is audited.
      const { count } = await tx.apiKey.updateMany({
        where: { tenantId: principal.tenantId, id: key.id, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      if (count === 1) {
        await this.audit.record(principal, {
          action: 'api_key.revoke',
          outcome: 'success',
          target: { type: 'api_key', id: key.id },
          metadata: { name: key.name, prefix: key.prefix },
        });
      }
      const revoked = await tx.apiKey.findFirst({ where: { tenantId: principal.tenantId, id: key.id } });
      return toView(revoked ?? key);
    });
  }

  async authenticate(token: string): Promise<Principal> {
    const parsed = parseApiKey(token);
    const invalid = new AppError(401, ErrorCode.ApiKeyInvalid, 'The API key is not valid');
    if (!parsed) throw invalid;
    const [found] = await this.db.unscoped(
      (client) => client.$queryRaw<{ id: string; tenant_id: string }[]>`
        SELECT id, tenant_id FROM quarry_api_key_by_prefix(${parsed.prefix})`,
    );
    if (!found) throw invalid;
    const scope = tenantScope(found.tenant_id);
    return this.db.tenant(scope, async (tx) => {
      const key = await tx.apiKey.findFirst({ where: { tenantId: scope.tenantId, id: found.id }, include: { createdBy: true, tenant: true } });
      if (!key || !safeEqual(key.secretHash, sha256Hex(parsed.secret))) throw invalid;
      if (key.revokedAt) throw new AppError(401, ErrorCode.ApiKeyRevoked, 'The API key has been revoked');
      if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) {
        throw new AppError(401, ErrorCode.ApiKeyExpired, 'The API key has expired');
      }
      if (key.createdBy.status !== 'active') {
        throw new AppError(401, ErrorCode.ApiKeyRevoked, 'The API key’s owner has been disabled');
      }
      if (key.tenant.status !== 'active') {
        throw new AppError(403, ErrorCode.TenantSuspended, 'This tenant is suspended');
      }
      if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await tx.apiKey.update({ where: { id: key.id, tenantId: scope.tenantId }, data: { lastUsedAt: new Date() } });
      }
      // The owner's current role bounds the key: a demoted owner's keys lose what the role lost.
      const ownerPermissions = rolePermissions(key.createdBy.role);
      const permissions = new Set(key.scopes.filter((scope) => ownerPermissions.has(scope)));
      return {
        tenantId: scope.tenantId,
        actor: { type: 'api_key', id: key.id, userId: key.createdById, role: key.createdBy.role, scopes: key.scopes },
        permissions,
      } satisfies Principal;
    });
  }

  private visibleTo(principal: Principal): { createdById?: string } {
    if (principal.permissions.has(Permission.ApiKeysAll)) return {};
    return { createdById: actingUserId(principal.actor) ?? '00000000-0000-0000-0000-000000000000' };
  }
}

function toView(key: ApiKeyModel): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdById: key.createdById,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    createdAt: key.createdAt.toISOString(),
  };
}
