import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allPermissions, canAssignRole, canManageUserWithRole, Permission, rolePermissions } from './permissions';

describe('roles and permissions', () => {
  it('each role includes everything the role below it has', () => {
    const order = ['viewer', 'member', 'admin', 'owner'] as const;
    for (let i = 1; i < order.length; i += 1) {
      const lower = rolePermissions(order[i - 1]!);
      const higher = rolePermissions(order[i]!);
      for (const permission of lower) assert.ok(higher.has(permission), `${order[i]} lacks ${permission}`);
      assert.ok(higher.size > lower.size, `${order[i]} must add something over ${order[i - 1]}`);
    }
  });

  it('only owners may manage the tenant; only admins and owners manage users', () => {
    assert.deepEqual(
      (['viewer', 'member', 'admin', 'owner'] as const).filter((role) => rolePermissions(role).has(Permission.TenantManage)),
      ['owner'],
    );
    assert.equal(rolePermissions('member').has(Permission.UsersManage), false);
    assert.equal(rolePermissions('admin').has(Permission.UsersManage), true);
  });

  it('the owner role holds every permission there is', () => {
    assert.deepEqual([...rolePermissions('owner')].sort(), [...allPermissions].sort());
  });

  it('never lets an actor grant more than it has, nor touch an owner unless it is one', () => {
    assert.equal(canAssignRole('admin', 'owner'), false);
    assert.equal(canAssignRole('admin', 'admin'), true);
    assert.equal(canAssignRole('member', 'admin'), false);
    assert.equal(canAssignRole('owner', 'owner'), true);
    assert.equal(canManageUserWithRole('admin', 'owner'), false);
    assert.equal(canManageUserWithRole('owner', 'owner'), true);
  });
});
