import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, decodeCursor, toPage, type Page, type PageQuery, type Principal, type TenantScope } from '@quarry/core';
import { Database, isUniqueViolation, type GroupModel, type TenantTx } from '@quarry/db';
import { toUserView, type UserView } from './users.service';

export interface GroupView {
  id: string;
  name: string;
  description: string;
  memberCount: number;
  createdAt: string;
}

export interface GroupInput {
  name: string;
  description?: string;
}

type GroupWithCount = GroupModel & { _count: { members: number } };

@Injectable()
export class GroupsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  async list(scope: TenantScope, page: PageQuery): Promise<Page<GroupView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.group.findMany({
        where: { tenantId: scope.tenantId, ...(after ? { id: { gt: after } } : {}) },
        include: { _count: { select: { members: true } } },
        orderBy: { id: 'asc' },
        take: page.limit + 1,
      }),
    );
    return toPage(rows, page.limit, toGroupView);
  }

  async get(scope: TenantScope, id: string): Promise<GroupView> {
    return toGroupView(await this.db.tenant(scope, (tx) => this.require(tx, scope, id)));
  }

  async create(principal: Principal, input: GroupInput): Promise<GroupView> {
    return this.uniqueName(() =>
      this.db.tenant(principal, async (tx) => {
        const group = await tx.group.create({
          data: { tenantId: principal.tenantId, name: input.name, description: input.description ?? '' },
          include: { _count: { select: { members: true } } },
        });
        await this.audit.record(principal, {
          action: 'group.create',
          outcome: 'success',
          target: { type: 'group', id: group.id },
          metadata: { name: group.name },
        });
        return toGroupView(group);
      }),
    );
  }

  async update(principal: Principal, id: string, input: Partial<GroupInput>): Promise<GroupView> {
    return this.uniqueName(() =>
      this.db.tenant(principal, async (tx) => {
        const before = await this.require(tx, principal, id);
        const group = await tx.group.update({
          where: { id: before.id, tenantId: principal.tenantId },
          data: { name: input.name, description: input.description },
          include: { _count: { select: { members: true } } },
        });
        await this.audit.record(principal, {
          action: 'group.update',
          outcome: 'success',
          target: { type: 'group', id: group.id },
          metadata: { name: { from: before.name, to: group.name } },
        });
        return toGroupView(group);
      }),
    );
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.db.tenant(principal, async (tx) => {
      const group = await this.require(tx, principal, id);
      await tx.group.delete({ where: { id: group.id, tenantId: principal.tenantId } });
      await this.audit.record(principal, {
        action: 'group.delete',
        outcome: 'success',
        target: { type: 'group', id: group.id },
        metadata: { name: group.name },
      });
    });
  }

  async members(scope: TenantScope, groupId: string, page: PageQuery): Promise<Page<UserView>> {
    const after = decodeCursor(page.cursor);
    return this.db.tenant(scope, async (tx) => {
      await this.require(tx, scope, groupId);
      const rows = await tx.user.findMany({
        where: {
          tenantId: scope.tenantId,
          memberships: { some: { groupId } },
          ...(after ? { id: { gt: after } } : {}),
        },
        orderBy: { id: 'asc' },
        take: page.limit + 1,
      });
      return toPage(rows, page.limit, toUserView);
    });
  }

  /** Idempotent: adding a member twice leaves one membership and one audit event. */
  async addMember(principal: Principal, groupId: string, userId: string): Promise<void> {
    await this.db.tenant(principal, async (tx) => {
      await this.require(tx, principal, groupId);
      const user = await tx.user.findFirst({ where: { tenantId: principal.tenantId, id: userId } });
      if (!user) throw AppError.notFound('User');
      const { count } = await tx.groupMember.createMany({
        data: [{ tenantId: principal.tenantId, groupId, userId }],
        skipDuplicates: true,
      });
      if (count > 0) {
        await this.audit.record(principal, {
          action: 'group.member_add',
          outcome: 'success',
          target: { type: 'group', id: groupId },
          metadata: { userId },
        });
      }
    });
  }

  async removeMember(principal: Principal, groupId: string, userId: string): Promise<void> {
    await this.db.tenant(principal, async (tx) => {
      await this.require(tx, principal, groupId);
      const { count } = await tx.groupMember.deleteMany({ where: { tenantId: principal.tenantId, groupId, userId } });
      if (count === 0) throw AppError.notFound('Membership');
      await this.audit.record(principal, {
        action: 'group.member_remove',
        outcome: 'success',
        target: { type: 'group', id: groupId },
        metadata: { userId },
      });
    });
  }

  private async require(tx: TenantTx, scope: TenantScope, id: string): Promise<GroupWithCount> {
    const group = await tx.group.findFirst({
      where: { tenantId: scope.tenantId, id },
      include: { _count: { select: { members: true } } },
    });
    if (!group) throw AppError.notFound('Group');
    return group;
  }

  private async uniqueName<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.conflict('A group with this name already exists');
      throw error;
    }
  }
}

function toGroupView(group: GroupWithCount): GroupView {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    memberCount: group._count.members,
    createdAt: group.createdAt.toISOString(),
  };
}
