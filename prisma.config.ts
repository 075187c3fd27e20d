import { defineConfig } from 'prisma/config';

// Migrations are applied by libs/db/src/migrate (Prisma's schema engine cannot be downloaded here);
// this file serves `prisma generate` and, on connected machines, `prisma migrate` as the owner role.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_OWNER_URL ?? 'postgresql://quarry_owner:quarry_owner@127.0.0.1:5432/quarry',
  },
});
