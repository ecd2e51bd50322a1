import type pg from 'pg';
import type { MIGRATIONS } from '../../migrations/index.js';
import { storeRecordsBefore, upgradedDatabase } from './migration-upgrade.js';
import type { TestDatabase } from './test-database.js';

/**
 * The test of a migration that creates a summary table (`table`) and fills it from the records
 * stored before it: `n` records over three shards, written in the old schema, are counted once
 * each, in the rows the append would have written (`storedAndRecomputed`, summary-check.ts).
 * Registers its hooks and test in the calling describe block.
 */
export function testSummaryBackfill(
  migration: (typeof MIGRATIONS)[number],
  table: string,
  storedAndRecomputed: (
    db: Pick<TestDatabase, 'query'>,
  ) => Promise<{ stored: Array<{ requests: number }>; recomputed: unknown[] }>,
  n = 12_345,
): void {
  let db: pg.Pool;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ pool: db, drop } = await upgradedDatabase(migration, (before) => storeRecordsBefore(before, n)));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('counts every record once, in the rows the append would have written', async () => {
    const { stored, recomputed } = await storedAndRecomputed({
      query: async (sql: string) => (await db.query(sql)).rows,
    } as never);
    expect(stored.reduce((sum, r) => sum + r.requests, 0)).toBe(n);
    expect(stored).toEqual(recomputed);
    const shards = await db.query<{ n: string }>(`SELECT count(DISTINCT shard) AS n FROM ${table}`);
    expect(Number(shards.rows[0].n)).toBe(3);
  });
}
