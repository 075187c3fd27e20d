import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyMigrations, bootstrapDatabase } from '@quarry/db';
import { requiredEnv, uniqueSuffix } from '@quarry/testing';
import { Client } from 'pg';

const repoMigrations = path.resolve(__dirname, '../../prisma/migrations');

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

describe('migration runner', () => {
  const database = `quarry_mig_${uniqueSuffix()}`;
  const adminUrl = requiredEnv('DATABASE_ADMIN_URL');
  const ownerUrl = withDatabase(requiredEnv('DATABASE_OWNER_URL'), database);
  const appUrl = withDatabase(requiredEnv('DATABASE_URL'), database);
  let workDir: string;
  let migrationCount = 0;

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'quarry-migrations-'));
    await cp(repoMigrations, workDir, { recursive: true });
    await bootstrapDatabase({ adminUrl, ownerUrl, appUrl });
  });

  after(async () => {
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    await rm(workDir, { recursive: true, force: true });
  });

  async function recorded(): Promise<{ migration_name: string; checksum: string; finished: boolean; rolled_back: boolean; applied_steps_count: number }[]> {
    const client = new Client({ connectionString: ownerUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`
        SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back,
               applied_steps_count
        FROM _prisma_migrations ORDER BY started_at, migration_name`);
      return rows as Awaited<ReturnType<typeof recorded>>;
    } finally {
      await client.end();
    }
  }

  it('applies every migration and records it exactly as Prisma does', async () => {
    const expected = (await readdir(workDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    assert.ok(expected.length >= 3 && expected[0] === '20261125000000_init');
    const result = await applyMigrations(ownerUrl, workDir);
    assert.deepEqual(result.applied, expected);
    migrationCount = expected.length;
    const rows = await recorded();
    for (const row of rows) {
      const sql = await readFile(path.join(workDir, row.migration_name, 'migration.sql'), 'utf8');
      assert.equal(row.checksum, createHash('sha256').update(sql).digest('hex'));
      assert.equal(row.finished, true);
      assert.equal(row.rolled_back, false);
      assert.equal(row.applied_steps_count, 1);
    }
  });

  it('is safe to run twice', async () => {
    const again = await applyMigrations(ownerUrl, workDir);
    assert.deepEqual(again.applied, []);
    assert.equal(again.alreadyApplied.length, migrationCount);
  });

  it('rolls back a failing migration completely and records it as rolled back', async () => {
    const name = '20991231000000_broken';
    await mkdir(path.join(workDir, name));
    await writeFile(
      path.join(workDir, name, 'migration.sql'),
      'CREATE TABLE half_written (id int);\nSELECT * FROM a_table_that_does_not_exist;\n',
    );
    await assert.rejects(applyMigrations(ownerUrl, workDir), /20991231000000_broken failed and was rolled back/);
    const client = new Client({ connectionString: ownerUrl });
    await client.connect();
    const { rows } = await client.query(`SELECT to_regclass('public.half_written') AS table`);
    await client.end();
    assert.equal((rows[0] as { table: string | null }).table, null, 'nothing half-written may stay behind');
    const broken = (await recorded()).find((row) => row.migration_name === name);
    assert.deepEqual(broken && { finished: broken.finished, rolled_back: broken.rolled_back }, { finished: false, rolled_back: true });

    // Fixed, it applies on the next run.
    await writeFile(path.join(workDir, name, 'migration.sql'), 'CREATE TABLE half_written (id int);\n');
    const fixed = await applyMigrations(ownerUrl, workDir);
    assert.deepEqual(fixed.applied, [name]);
  });

  it('refuses to continue when an applied migration was edited', async () => {
    const file = path.join(workDir, '20261125000000_init', 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited after release\n`);
    await assert.rejects(applyMigrations(ownerUrl, workDir), /changed after it was applied/);
  });

  it('bootstrap is idempotent and keeps the roles unprivileged', async () => {
    await bootstrapDatabase({ adminUrl, ownerUrl, appUrl });
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    const { rows } = await client.query(
      `SELECT rolname, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname IN ('quarry_owner', 'quarry_app') ORDER BY rolname`,
    );
    await client.end();
    assert.deepEqual(rows, [
      { rolname: 'quarry_app', rolsuper: false, rolbypassrls: false, rolcreaterole: false },
      { rolname: 'quarry_owner', rolsuper: false, rolbypassrls: false, rolcreaterole: false },
    ]);
  });

  it('refuses role names the row-level security policies do not know', async () => {
    await assert.rejects(
      bootstrapDatabase({ adminUrl, ownerUrl, appUrl: appUrl.replace('quarry_app', 'someone_else') }),
      /DATABASE_URL must connect as quarry_app/,
    );
  });
});
