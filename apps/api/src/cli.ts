import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { apiConfigSchema, CONFIG, loadConfig, tenantScope, type Principal } from '@quarry/core';
import { DbModule } from '@quarry/db';
import { IdentityModule, normalizeEmail, rolePermissions, TenantsService, UsersService } from '@quarry/identity';
import { ClsModule } from 'nestjs-cls';

/**
 * Operator commands that run the same services as the API, as the same database role.
 *   seed-demo: creates the demo tenant and its admin (QUARRY_DEMO_TENANT, _EMAIL, _PASSWORD) if missing.
 */
async function main(): Promise<void> {
  const command = process.argv[2];
  const config = loadConfig(apiConfigSchema);

  @Module({
    imports: [
      { module: class ConfigHolder {}, global: true, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] },
      ClsModule.forRoot({ global: true }),
      DbModule,
      IdentityModule,
    ],
  })
  class CliModule {}

  const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    switch (command) {
      case 'seed-demo':
        await seedDemo(app.get(TenantsService), app.get(UsersService));
        break;
      default:
        throw new Error(`Unknown command "${command ?? ''}" (expected: seed-demo)`);
    }
  } finally {
    await app.close();
  }
}

async function seedDemo(tenants: TenantsService, users: UsersService): Promise<void> {
  const slug = process.env.QUARRY_DEMO_TENANT ?? 'demo';
  const email = normalizeEmail(process.env.QUARRY_DEMO_EMAIL ?? 'admin@demo.quarry.local');
  const password = process.env.QUARRY_DEMO_PASSWORD ?? 'quarry-demo-password';
  const owner = { email, displayName: 'Demo Admin', password };

  const existing = await tenants.findBySlug(slug);
  if (!existing) {
    await tenants.create({ slug, name: 'Demo', owner });
    console.log(`[seed] created tenant "${slug}" with owner ${email}`);
    return;
  }
  const scope = tenantScope(existing.id);
  const system: Principal = { ...scope, actor: { type: 'system', id: 'seed-demo' }, permissions: rolePermissions('owner') };
  if (await users.findByEmail(scope, email)) {
    console.log(`[seed] tenant "${slug}" and ${email} already exist; left as they are`);
    return;
  }
  await users.create(system, { ...owner, role: 'owner' });
  console.log(`[seed] added owner ${email} to tenant "${slug}"`);
}

main().catch((error: unknown) => {
  console.error(`[quarry] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
