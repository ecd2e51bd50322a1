import { seedRecords } from '../../bench/lib/seed.js';
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
  beforeAll(async () => {
    db = await createTestDatabase('rl_bench_seed');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('writes records and the same summaries (traffic_minutes, finding_hours, cost_hours) a rebuild from those records gives', async () => {
    const seeded = await seedRecords(db, 2_500, 100_000_000);
    expect(seeded.rows).toBe(2_500);
    const snapshot = async () =>
      db.query(
        `SELECT shard, encode(key_sha256, 'hex') AS key, requests, affected, fallbacks, errors, cache_hits, latency_n,
                latency_sum_ms, cost_n, cost_sum::text, first_at, first_event_id
         FROM traffic_minutes ORDER BY shard, key_sha256`,
      );
    const seededSummaries = await snapshot();
    expect(seededSummaries.length).toBeGreaterThan(10);
    const [{ n }] = await db.query<{ n: string }>('SELECT sum(requests)::text AS n FROM traffic_minutes');
    expect(Number(n)).toBe(2_500);

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
  });
});
