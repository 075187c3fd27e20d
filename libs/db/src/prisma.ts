import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client';

export { Prisma, PrismaClient };
export type * from './generated/prisma/models';
export * from './generated/prisma/enums';

/** The transaction client handed to tenant-scoped work: everything but connection and transaction control. */
export type TenantTx = Prisma.TransactionClient;

export function createPrismaClient(connectionString: string, poolMax: number): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: poolMax }) });
}
