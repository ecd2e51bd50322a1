import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { runMigrations } from '../../src/database/migrate.js';
import { ADMIN_URL } from './test-database.js';

/**
 * A database on the machine's PostgreSQL that keeps no idle connections (each query opens and
 * closes its own), so it can serve as the TEMPLATE of copies: the tampering test builds one
 * ledger and tampers with a fresh copy per case.
 */
export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A new database copied from this one (CREATE DATABASE ... TEMPLATE). */
  copy(prefix: string): Promise<ScratchDatabase>;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function handle(name: string): ScratchDatabase {
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const db: ScratchDatabase = {
    name,
    url,
    query: async (sql, params) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const res = await c.query(sql, params);
        // A multi-statement string answers an array of results: the last one is the one asked for.
        const last = Array.isArray(res) ? res[res.length - 1] : res;
        return last.rows;
      } finally {
        await c.end();
      }
    },
    copy: async (prefix) => {
      const copyName = uniqueName(prefix);
      await admin((c) => c.query(`CREATE DATABASE ${copyName} TEMPLATE ${name}`));
      return handle(copyName);
    },
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
  return db;
}

function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
}

export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = uniqueName(prefix);
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const db = handle(name);
  await runMigrations(db.url);
  return db;
}
