/**
 * What every bench section needs: a fresh migrated database, the dev broker, and the events.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '../../src/database/migrate.js';
import { demoEvent, toWire } from '../../src/demo/traffic.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';

/** The machine's PostgreSQL (trust auth), as the integration tests use it. */
export const ADMIN_URL = process.env.BENCH_PG_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database with the service's migrations applied; drop() removes it. */
export async function createBenchDatabase(prefix = 'rl_bench'): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  await runMigrations(url);
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  return {
    url,
    name,
    pool,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    drop: async () => {
      await pool.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Headers the demo traffic carries: the format is declared, so no sniffing. */
export const WIRE_HEADERS = { 'x-routing-format': 'native' };

/**
 * Demo event `seq` (canonical v1, ~1.6 KB on the wire). The story clock advances 2 ms per
 * event so a long run includes the scripted outage (fallbacks, residency breaches).
 * `now` becomes occurred_at: the latency phases put the produce time there.
 */
export function benchEvent(seq: number, now: Date = new Date(Date.UTC(2026, 0, 1) + seq)): CanonicalRecord {
  return demoEvent(seq, { elapsedMs: (seq % 200_000) * 2, now });
}

export function wireOf(record: CanonicalRecord): Buffer {
  return toWire(record);
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}
