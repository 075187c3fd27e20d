import { Injectable } from '@nestjs/common';
import { tenantScope } from '@quarry/core';
import { Database } from '@quarry/db';

/** Deletes sessions that expired or were revoked more than `graceHours` ago, one tenant at a time. */
@Injectable()
export class SessionPurger {
  constructor(private readonly db: Database) {}

  async purge(graceHours: number): Promise<{ tenants: number; deleted: number }> {
    const cutoff = new Date(Date.now() - graceHours * 3_600_000);
    let tenants = 0;
    let deleted = 0;
    for await (const tenantId of this.db.tenantIds()) {
      const scope = tenantScope(tenantId);
      const { count } = await this.db.tenant(scope, (tx) =>
        tx.session.deleteMany({
          where: { tenantId: scope.tenantId, OR: [{ expiresAt: { lt: cutoff } }, { revokedAt: { lt: cutoff } }] },
        }),
      );
      tenants += 1;
      deleted += count;
    }
    return { tenants, deleted };
  }
}
