import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import {
  actingUserId,
  AppError,
  decodeCursor,
  ErrorCode,
  toPage,
  type Page,
  type PageQuery,
  type Principal,
  type Role,
  type TenantScope,
} from '@quarry/core';
import { Database, isUniqueViolation, type TenantTx, type UserModel, type UserStatus } from '@quarry/db';
import { PasswordHasher } from './passwords';
import { canAssignRole, canManageUserWithRole } from './permissions';

export interface UserView {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  status: UserStatus;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface CreateUserInput {
  email: string;
  displayName: string;
  role: Role;
  password?: string;
}

export interface UpdateUserInput {
  displayName?: string;
  role?: Role;
  status?: UserStatus;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

@Injectable()
export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditWriter,
  ) {}

  async list(scope: TenantScope, page: PageQuery): Promise<Page<UserView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.user.findMany({
        where: { tenantId: scope.tenantId, ...(after ? { id: { gt: after } } : {}) },
        orderBy: { id: 'asc' },
        take: page.limit + 1,
      }),
    );
    return toPage(rows, page.limit, toUserView);
  }

  async get(scope: TenantScope, id: string): Promise<UserView> {
    return toUserView(await this.db.tenant(scope, (tx) => this.require(tx, scope, id)));
  }

  async findByEmail(scope: TenantScope, email: string): Promise<UserView | null> {
    const user = await this.db.tenant(scope, (tx) =>
      tx.user.findFirst({ where: { tenantId: scope.tenantId, email: normalizeEmail(email) } }),
    );
    return user ? toUserView(user) : null;
  }

  /** The first owner of a new tenant, created by the platform administrator or the demo seed. */
  async createBootstrapOwner(
    scope: TenantScope,
    input: { email: string; displayName: string; password: string },
  ): Promise<UserView> {
    const passwordHash = await this.hasher.hash(input.password);
    return this.db.tenant(scope, async (tx) => {
      const user = await tx.user.create({
        data: { tenantId: scope.tenantId, email: normalizeEmail(input.email), displayName: input.displayName, role: 'owner', passwordHash },
      });
      await this.audit.record(scope, {
        action: 'user.create',
        outcome: 'success',
        actor: { type: 'platform', id: null },
        target: { type: 'user', id: user.id },
        metadata: { role: 'owner', bootstrap: true },
      });
      return toUserView(user);
    });
  }

  async create(principal: Principal, input: CreateUserInput): Promise<UserView> {
    const actorRole = principal.actor.type === 'system' ? 'owner' : principal.actor.role;
    if (!canAssignRole(actorRole, input.role)) {
      throw AppError.forbidden(`A ${actorRole} cannot create a user with role ${input.role}`);
    }
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    try {
      return await this.db.tenant(principal, async (tx) => {
        const user = await tx.user.create({
          data: {
            tenantId: principal.tenantId,
            email: normalizeEmail(input.email),
            displayName: input.displayName,
            role: input.role,
            passwordHash,
          },
        });
        await this.audit.record(principal, {
          action: 'user.create',
          outcome: 'success',
          target: { type: 'user', id: user.id },
          metadata: { role: user.role, email: user.email, localPassword: passwordHash !== null },
        });
        return toUserView(user);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.conflict('A user with this email already exists');
      throw error;
    }
  }

  async update(principal: Principal, id: string, input: UpdateUserInput): Promise<UserView> {
    const actorRole = principal.actor.type === 'system' ? 'owner' : principal.actor.role;
    return this.db.tenant(principal, async (tx) => {
      const user = await this.require(tx, principal, id);
      if (!canManageUserWithRole(actorRole, user.role)) throw AppError.forbidden('Only an owner can change an owner');
      if (input.role && !canAssignRole(actorRole, input.role)) {
        throw AppError.forbidden(`A ${actorRole} cannot grant the role ${input.role}`);
      }
      const losesOwnership = user.role === 'owner' && ((input.role && input.role !== 'owner') || input.status === 'disabled');
      if (losesOwnership) await this.requireAnotherOwner(tx, principal, user.id);

      const updated = await tx.user.update({
        where: { id: user.id, tenantId: principal.tenantId },
        data: { displayName: input.displayName, role: input.role, status: input.status },
      });
      let keysRevoked = 0;
      if (input.status === 'disabled' && user.status !== 'disabled') {
        // Disabling is deliberate: sessions and keys end for good, re-enabling does not revive them.
        const now = new Date();
        await tx.session.updateMany({
          where: { tenantId: principal.tenantId, userId: user.id, revokedAt: null },
          data: { revokedAt: now },
        });
        ({ count: keysRevoked } = await tx.apiKey.updateMany({
          where: { tenantId: principal.tenantId, createdById: user.id, revokedAt: null },
          data: { revokedAt: now },
        }));
      }
      const changes = diff(user, updated);
      if (Object.keys(changes).length > 0) {
        await this.audit.record(principal, {
          action: input.role && input.role !== user.role ? 'user.role_change' : 'user.update',
          outcome: 'success',
          target: { type: 'user', id: user.id },
          metadata: { changes, ...(keysRevoked > 0 ? { apiKeysRevoked: keysRevoked } : {}) },
        });
      }
      return toUserView(updated);
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const actorRole = principal.actor.type === 'system' ? 'owner' : principal.actor.role;
    await this.db.tenant(principal, async (tx) => {
      const user = await this.require(tx, principal, id);
      if (!canManageUserWithRole(actorRole, user.role)) throw AppError.forbidden('Only an owner can delete an owner');
      if (user.id === actingUserId(principal.actor)) throw AppError.forbidden('You cannot delete yourself');
      if (user.role === 'owner') await this.requireAnotherOwner(tx, principal, user.id);
      await tx.user.delete({ where: { id: user.id, tenantId: principal.tenantId } });
      await this.audit.record(principal, {
        action: 'user.delete',
        outcome: 'success',
        target: { type: 'user', id: user.id },
        metadata: { email: user.email, role: user.role },
      });
    });
  }

  async changeOwnPassword(principal: Principal, currentPassword: string, newPassword: string): Promise<void> {
    const userId = actingUserId(principal.actor);
    if (!userId || principal.actor.type !== 'user') throw AppError.forbidden('Only a signed-in user can change a password');
    const sessionId = principal.actor.sessionId;
    const user = await this.db.tenant(principal, (tx) => this.require(tx, principal, userId));
    const valid = user.passwordHash ? await this.hasher.verify(user.passwordHash, currentPassword) : false;
    if (!valid) {
      await this.audit.record(principal, { action: 'user.password_change', outcome: 'failure', target: { type: 'user', id: userId } });
      throw new AppError(400, ErrorCode.InvalidCredentials, 'The current password is wrong');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.db.tenant(principal, async (tx) => {
      await tx.user.update({ where: { id: userId, tenantId: principal.tenantId }, data: { passwordHash } });
      // Other sessions may belong to whoever knew the old password.
      await tx.session.updateMany({
        where: { tenantId: principal.tenantId, userId, revokedAt: null, NOT: { id: sessionId } },
        data: { revokedAt: new Date() },
      });
      await this.audit.record(principal, { action: 'user.password_change', outcome: 'success', target: { type: 'user', id: userId } });
    });
  }

  private async require(tx: TenantTx, scope: TenantScope, id: string): Promise<UserModel> {
    const user = await tx.user.findFirst({ where: { tenantId: scope.tenantId, id } });
    if (!user) throw AppError.notFound('User');
    return user;
  }

  /**
   * Locks the tenant's active owners (FOR UPDATE) before counting them, so two owners demoting each other
   * at once serialise here and the second sees the first's change.
   */
  private async requireAnotherOwner(tx: TenantTx, scope: TenantScope, exceptUserId: string): Promise<void> {
    const owners = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM users
      WHERE tenant_id = ${scope.tenantId}::uuid AND role = 'owner' AND status = 'active'
      ORDER BY id FOR UPDATE`;
    if (!owners.some((owner) => owner.id !== exceptUserId)) {
      throw new AppError(409, ErrorCode.LastOwner, 'A tenant must keep at least one active owner');
    }
  }
}

export function toUserView(user: UserModel): UserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    status: user.status,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
  };
}

function diff(before: UserModel, after: UserModel): Record<string, { from: string; to: string }> {
  const changes: Record<string, { from: string; to: string }> = {};
  for (const key of ['displayName', 'role', 'status'] as const) {
    if (before[key] !== after[key]) changes[key] = { from: before[key], to: after[key] };
  }
  return changes;
}
