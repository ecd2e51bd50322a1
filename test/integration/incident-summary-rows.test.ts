import { seedRecords } from '../../bench/lib/seed.js';
import { involves } from '../../src/domain/summary/incident-rollup.js';
import { IncidentsRepository } from '../../src/query/incidents/incidents.repository.js';
import { comparableSummaries, storedAndRecomputedSummaries } from '../support/summary-check.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

// Incident reconstruction reads traffic_minutes with each minute's shards added together in SQL:
// the rows it gets must be the stored rows merged by key, i.e. what the records recompute to.
describe('incident summary rows', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('rl_incident_rows');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('are the stored rows of every shard added together by key', async () => {
    // 3,000 records 2 s apart over 8 shards: most keys of a minute are stored in several shards.
    await seedRecords(db, 3_000, 300_000_000, { spacingMs: 2_000 });
    const [{ stored: perShard, first, last }] = await db.query<{ stored: string; first: Date; last: Date }>(
      'SELECT count(*) AS stored, min(minute) AS first, max(minute) AS last FROM traffic_minutes',
    );
    const repo = new IncidentsRepository({ query: (sql: string, params: unknown[]) => db.query(sql, params) } as never);
    const period = { from: new Date(first), to: new Date(new Date(last).getTime() + 60_000) };
    const rows = await repo.summaryRows({ scope: { kind: 'all' } }, period);

    const { stored, recomputed } = await storedAndRecomputedSummaries(db);
    expect(stored).toEqual(recomputed);
    expect(rows.length).toBeLessThan(Number(perShard));
    expect(comparableSummaries(rows)).toEqual(stored);

    // With a provider, model or region: exactly the rows that involve it (served or in the chain).
    const merged = (await repo.summaryRows({ scope: { kind: 'all' } }, period)).map((r) => ({ ...r }));
    for (const filter of [
      { provider: 'openai' },
      { model: merged[0].resolved_model ?? 'x' },
      { region: 'eu-west-1' },
    ]) {
      const involved = await repo.summaryRows({ scope: { kind: 'all' }, ...filter }, period);
      const expected = merged.filter((r) => involves(r, filter));
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(merged.length);
      expect(comparableSummaries(involved)).toEqual(comparableSummaries(expected));
    }

    // A tenant's rows are that tenant's part of the whole.
    const tenant = rows[0].tenant_id;
    const own = await repo.summaryRows({ scope: { kind: 'tenants', tenants: [tenant] } }, period);
    expect(comparableSummaries(own)).toEqual(stored.filter((r) => r.tenant_id === tenant));
  }, 120_000);
});
