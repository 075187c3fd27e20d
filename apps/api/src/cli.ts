import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { apiConfigSchema, CONFIG, loadConfig, tenantScope, type Principal } from '@quarry/core';
import { DbModule } from '@quarry/db';
import { IdentityModule, normalizeEmail, rolePermissions, TenantsService, UsersService } from '@quarry/identity';
import { ClsModule } from 'nestjs-cls';
import { runEvalCommand } from './eval-cli/eval-command';

/**
 * Operator commands that run the same services as the API, as the same database role.
 *   seed-demo: creates the demo tenant and its admin (QUARRY_DEMO_TENANT, _EMAIL, _PASSWORD) if missing.
 *   eval: runs an eval dataset against a running instance over HTTP (see eval-cli/eval-command.ts).
 */
async function main(): Promise<void> {
  const command = process.argv[2];
  // A client of a running instance: no database, no configuration of its own.
  if (command === 'eval') {
    process.exitCode = await runEvalCommand(process.argv.slice(3));
    return;
  }
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
        throw new Error(`Unknown command "${command ?? ''}" (expected: seed-demo, eval)`);
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
  // `eval` exits 1 only when the gate fails; any other failure is 2.
  process.exit(process.argv[2] === 'eval' ? 2 : 1);
});
