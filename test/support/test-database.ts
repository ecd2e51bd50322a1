import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { runMigrations } from '../../src/database/migrate.js';

/**
 * Scratch databases on the machine's PostgreSQL, for the tests and the bench alike: create one
 * under a unique name, migrate it, drop it. The bench compiles this file too (tsconfig.build.json).
 */

/** The machine's PostgreSQL (trust auth); BENCH_PG_URL, else TEST_PG_URL, overrides it. A missing server fails the run. */
export const ADMIN_URL =
  process.env.BENCH_PG_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the server of ADMIN_URL. */
export function databaseUrl(name: string): string {
  return ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
}

/** Runs `sql` on the admin database over a connection of its own. */
export async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export const dropDatabase = (name: string) => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);

type Rows<T extends pg.QueryResultRow> = pg.QueryResult<T> | Array<pg.QueryResult<T>>;
/** A multi-statement string answers an array of results: the last one is the one asked for. */
const lastRows = <T extends pg.QueryResultRow>(res: Rows<T>): T[] =>
  (Array.isArray(res) ? res[res.length - 1] : res).rows;

export interface TestDatabase {
  url: string;
  name: string;
  /** Connections to the database (ended by drop()). */
  pool: pg.Pool;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** Creates a fresh database, migrates it, and returns a handle (a pool of `poolSize`) that drops it. */
export async function createTestDatabase(prefix = 'rl_test', poolSize = 2): Promise<TestDatabase> {
  return handleOf(await createMigratedDatabase(prefix), poolSize);
}

/**
 * A handle on database `name` that exists already (one the read bench kept, say), migrated to the
 * latest schema first. Its drop() drops it like any other.
 */
export async function openTestDatabase(name: string, poolSize = 2): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
  await runMigrations(databaseUrl(name));
  return handleOf(name, poolSize);
}

function handleOf(name: string, poolSize: number): TestDatabase {
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection PostgreSQL ends because the database is being dropped (DROP ... WITH
  // (FORCE), 57P01) is the teardown working; without a listener the pool would rethrow it as an
  // unhandled error in whichever test runs next. Anything else still surfaces.
  pool.on('error', (e: Error & { code?: string }) => {
    if (e.code !== '57P01') throw e;
  });
  return {
    url,
    name,
    pool,
    query: async <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
      lastRows<T>((await pool.query(sql, params)) as Rows<T>),
    drop: async () => {
      await pool.end().catch(() => undefined);
      await dropDatabase(name);
    },
  };
}

/**
 * A migrated database that keeps no idle connections (each query opens and closes its own), so
 * it can serve as the TEMPLATE of copies: the tampering test builds one ledger and tampers with
 * a fresh copy per case.
 */
export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A new database copied from this one (CREATE DATABASE ... TEMPLATE). */
  copy(prefix: string): Promise<ScratchDatabase>;
  drop(): Promise<void>;
}

export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  return scratchHandle(await createMigratedDatabase(prefix));
}

function scratchHandle(name: string): ScratchDatabase {
  const url = databaseUrl(name);
  return {
    name,
    url,
    query: async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return lastRows<T>((await c.query(sql, params)) as Rows<T>);
      } finally {
        await c.end();
      }
    },
    copy: async (prefix) => {
      const copyName = uniqueDatabaseName(prefix);
      await adminQuery(`CREATE DATABASE ${copyName} TEMPLATE ${name}`);
      return scratchHandle(copyName);
    },
    drop: () => dropDatabase(name),
  };
}

async function createMigratedDatabase(prefix: string): Promise<string> {
  const name = uniqueDatabaseName(prefix);
  await adminQuery(`CREATE DATABASE ${name}`);
  await runMigrations(databaseUrl(name));
  return name;
}
