import type pg from 'pg';
import { FindingHours1764320000000 } from '../../migrations/1764320000000-finding-hours.js';
import { upgradedDatabase } from '../support/migration-upgrade.js';
import { storedAndRecomputedFindingSummaries } from '../support/summary-check.js';
import { validEvent } from '../support/workload.js';

/**
 * Records stored before finding summaries existed are summarized by the migration that creates
 * them, across chunks and shards, exactly as the append would have counted them.
 */
describe('migration FindingHours: existing records are summarized', () => {
  const N = 12_345;
  let db: pg.Pool;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ pool: db, drop } = await upgradedDatabase(FindingHours1764320000000, async (before) => {
      const records = Array.from({ length: N }, (_, i) => validEvent(i));
      await before.query(
        `INSERT INTO records (event_id, shard, leaf_index, tenant_id, tenant_seq, leaf_hash, content_sha256, occurred_at, received_at, request_id, gateway_id, requested_model, outcome_status, record)
         SELECT id, i % 3, i / 3, t, i, sha256(id::bytea), sha256(id::bytea), at, at, 'req', 'gw', 'alias', 'success', rec
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS u(id, t, at, rec, i)`,
        [
          records.map((r) => r.event_id),
          records.map((r) => r.tenant_id),
          records.map((r) => r.occurred_at),
          records.map((r) => JSON.stringify(r)),
        ],
      );
    }));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('counts every record once, in the rows the append would have written', async () => {
    const { stored, recomputed } = await storedAndRecomputedFindingSummaries({
      query: async (sql: string) => (await db.query(sql)).rows,
    } as never);
    expect(stored.reduce((n, r) => n + r.requests, 0)).toBe(N);
    expect(stored).toEqual(recomputed);
    const shards = await db.query<{ n: string }>('SELECT count(DISTINCT shard) AS n FROM finding_hours');
    expect(Number(shards.rows[0].n)).toBe(3);
  });
});
