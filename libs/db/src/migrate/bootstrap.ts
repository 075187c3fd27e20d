import { Client } from 'pg';

/** Role names are fixed: the row-level security policies in the migrations name them. */
export const OWNER_ROLE = 'quarry_owner';
export const APP_ROLE = 'quarry_app';

export interface BootstrapUrls {
  /** A superuser (or a role with CREATEROLE and CREATEDB) on the same server. */
  adminUrl: string;
  ownerUrl: string;
  appUrl: string;
}

interface Credentials {
  user: string;
  password: string;
  database: string;
}

function credentials(url: string, expectedRole: string, variable: string): Credentials {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  if (user !== expectedRole) {
    throw new Error(`${variable} must connect as ${expectedRole} (it names ${user || 'no user'})`);
  }
  return { user, password: decodeURIComponent(parsed.password), database: decodeURIComponent(parsed.pathname.slice(1)) };
}

/**
 * Creates (or brings up to date) the two roles, the database and the pgvector extension. Idempotent.
 * The owner role owns the schema and runs migrations; the application role may only read and write
 * rows, never bypasses row-level security, and cannot create objects.
 */
export async function bootstrapDatabase(urls: BootstrapUrls): Promise<void> {
  const owner = credentials(urls.ownerUrl, OWNER_ROLE, 'DATABASE_OWNER_URL');
  const app = credentials(urls.appUrl, APP_ROLE, 'DATABASE_URL');
  if (owner.database !== app.database) {
    throw new Error('DATABASE_URL and DATABASE_OWNER_URL must name the same database');
  }
  const admin = new Client({ connectionString: urls.adminUrl });
  await admin.connect();
  try {
    await ensureRole(admin, owner, 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS');
    await ensureRole(admin, app, 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT');
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [owner.database]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${quoteIdent(owner.database)} OWNER ${OWNER_ROLE}`);
    }
  } finally {
    await admin.end();
  }

  const adminUrlForDb = new URL(urls.adminUrl);
  adminUrlForDb.pathname = `/${encodeURIComponent(owner.database)}`;
  const inDb = new Client({ connectionString: adminUrlForDb.toString() });
  await inDb.connect();
  try {
    // pgvector is not a trusted extension: only a superuser can create it, so it is done here.
    await inDb.query('CREATE EXTENSION IF NOT EXISTS vector');
    await inDb.query(`ALTER DATABASE ${quoteIdent(owner.database)} OWNER TO ${OWNER_ROLE}`);
    await inDb.query(`ALTER SCHEMA public OWNER TO ${OWNER_ROLE}`);
    await inDb.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await inDb.query(`REVOKE ALL ON DATABASE ${quoteIdent(owner.database)} FROM PUBLIC`);
    await inDb.query(`GRANT CONNECT ON DATABASE ${quoteIdent(owner.database)} TO ${APP_ROLE}`);
  } finally {
    await inDb.end();
  }
}

async function ensureRole(admin: Client, role: Credentials, attributes: string): Promise<void> {
  const found = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.user]);
  const verb = found.rowCount === 0 ? 'CREATE' : 'ALTER';
  // Role and password cannot be bind parameters in DDL; both are quoted here.
  await admin.query(`${verb} ROLE ${quoteIdent(role.user)} LOGIN ${attributes} PASSWORD ${quoteLiteral(role.password)}`);
}

function quoteIdent(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
