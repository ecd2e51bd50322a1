import { secondaryIndexes, seedRecords } from '../../bench/lib/seed.js';
import { canonicalRecordForm } from '../../src/domain/ledger-entry/ledger-entry.js';
import { columnMismatch } from '../../src/ledger/record-columns.js';
import {
  summarizeStoredCosts,
  summarizeStoredFindings,
  summarizeStoredRecords,
} from '../../src/ledger/summary-rebuild.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

// The read bench's seeded records must carry the summaries the append would have written, or
// every summary-backed answer (incidents) is measured over empty minutes.
describe('bench seeding', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('rl_bench_seed');
  });
  afterEach(async () => {
    await db.drop();
  });

  /** The stored summaries equal a rebuild from the stored records. */
  async function expectSummariesAsRebuilt(records: number): Promise<void> {
    const snapshot = async () =>
      db.query(
        `SELECT shard, encode(key_sha256, 'hex') AS key, requests, affected, fallbacks, errors, cache_hits, latency_n,
                latency_sum_ms, cost_n, cost_sum::text, first_at, first_event_id
         FROM traffic_minutes ORDER BY shard, key_sha256`,
      );
    const seededSummaries = await snapshot();
    expect(seededSummaries.length).toBeGreaterThan(10);
    const [{ n }] = await db.query<{ n: string }>('SELECT sum(requests)::text AS n FROM traffic_minutes');
    expect(Number(n)).toBe(records);

    await db.query('DELETE FROM traffic_minutes');
    await summarizeStoredRecords((sql, params) => db.query(sql, params));
    expect(await snapshot()).toEqual(seededSummaries);

    const findings = () => db.query('SELECT * FROM finding_hours ORDER BY shard, key_sha256');
    const seededFindings = await findings();
    expect(seededFindings.length).toBeGreaterThan(10);
    await db.query('DELETE FROM finding_hours');
    await summarizeStoredFindings((sql, params) => db.query(sql, params));
    expect(await findings()).toEqual(seededFindings);

    const costs = () => db.query('SELECT * FROM cost_hours ORDER BY shard, key_sha256');
    const seededCosts = await costs();
    expect(seededCosts.length).toBeGreaterThan(10);
    await db.query('DELETE FROM cost_hours');
    await summarizeStoredCosts((sql, params) => db.query(sql, params));
    expect(await costs()).toEqual(seededCosts);
  }

  it('writes records and the same summaries (traffic_minutes, finding_hours, cost_hours) a rebuild from those records gives', async () => {
    const seeded = await seedRecords(db, 2_500, 100_000_000);
    expect(seeded.rows).toBe(2_500);
    await expectSummariesAsRebuilt(2_500);
  }, 120_000);

  it('spreads occurred_at over days, in two seeds, around a rebuild of the indexes, and stores rows as the append would', async () => {
    const indexes = await secondaryIndexes(db.pool);
    expect(indexes.length).toBeGreaterThan(5);
    // 3,000 records 100 s apart: ~3.5 days, the demo's 4 tenants and 3 aliases in every hour.
    await seedRecords(db, 1_000, 100_000_000, { spacingMs: 100_000 });
    const seeded = await seedRecords(db, 2_000, 100_000_000, { spacingMs: 100_000, rebuildIndexes: true });
    expect(seeded.rows).toBe(3_000);
    expect(await secondaryIndexes(db.pool)).toEqual(indexes);

    const [span] = await db.query<{ first: Date; last: Date; tenants: string; aliases: string; fallbacks: string }>(
      `SELECT min(occurred_at) AS first, max(occurred_at) AS last, count(DISTINCT tenant_id) AS tenants,
              count(DISTINCT requested_model) AS aliases, count(*) FILTER (WHERE fallback_used = 'true') AS fallbacks
       FROM records`,
    );
    expect(span.last.getTime() - span.first.getTime()).toBe(2_999 * 100_000);
    expect([Number(span.tenants), Number(span.aliases)]).toEqual([4, 3]);
    const [{ gaps }] = await db.query<{ gaps: string }>(
      `SELECT count(*) AS gaps FROM (SELECT occurred_at - lag(occurred_at) OVER (ORDER BY leaf_index) AS d FROM records) x
       WHERE d <> interval '100 seconds'`,
    );
    expect(Number(gaps)).toBe(0);
    await expectSummariesAsRebuilt(3_000);

    // Each row's canonical text, content hash and query columns are the record's own.
    const rows = await db.query<Record<string, unknown> & { record: string; content_sha256: Buffer }>(
      'SELECT * FROM records ORDER BY leaf_index LIMIT 300',
    );
    for (const row of rows) {
      const record = JSON.parse(row.record);
      const form = canonicalRecordForm(record);
      expect(form.json).toBe(row.record);
      expect(form.contentSha256.toString('hex')).toBe(row.content_sha256.toString('hex'));
      expect(columnMismatch(record, row)).toBeUndefined();
    }
  }, 120_000);
});
