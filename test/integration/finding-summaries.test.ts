import { jest } from '@jest/globals';
import type { TenantScope } from '../../src/auth/principal.js';
import { FindingsRepository, type FindingScope } from '../../src/query/findings/findings.repository.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { appendRecords, startQueryApp, type QueryApp } from '../support/query-app.js';
import { scenarioRecords } from '../support/query-scenario.js';
import { storedAndRecomputedCostSummaries, storedAndRecomputedFindingSummaries } from '../support/summary-check.js';

jest.setTimeout(180_000);

/**
 * Alias history and the signal and coverage findings read finding_hours, the cost-bias findings
 * and evaluation drift's served versions cost_hours, for the whole hours of their window and
 * records for the partial hours at its ends. Over the planted scenario of the
 * query tests, written through the real append path in small batches (so rows are merged across
 * batches and shards), they must answer exactly what the records alone answer, for windows cut
 * anywhere; and the summaries must equal a recomputation from the records.
 */
describe('finding summaries: the same answers as the records', () => {
  let db: TestDatabase;
  let q: QueryApp;
  let repo: FindingsRepository;
  const records = scenarioRecords();

  beforeAll(async () => {
    db = await createTestDatabase('rl_finding_hours');
    q = await startQueryApp({ databaseUrl: db.url, dataDir: `/tmp/rl/${db.name}` });
    await appendRecords(q.append, records, { partitions: 3, batch: 37 });
    // Evaluation drift reads only aliases with an evaluation applying to the tenant: one for
    // globex alone, one for every tenant.
    await db.query(
      `INSERT INTO evaluations (tenant_id, alias, task_category, model_versions, test_set, accuracy_target, accuracy_result,
                                traffic_share, evaluated_at, registered_by)
       VALUES ('globex', 'fast-chat', 'chat', ARRAY['gpt-4o-mini-2024-07-18'], 'support-chat-v3', 0.9, 0.93, 0.9, '2026-11-19T00:00:00Z', 'test'),
              (NULL, 'smart-router', 'legal', ARRAY['gpt-4o-2024-11-20'], 'legal-v1', 0.9, 0.92, NULL, '2026-11-19T00:00:00Z', 'test')`,
    );
    repo = q.app.get(FindingsRepository, { strict: false });
  });

  afterAll(async () => {
    if (repo) repo.readSummaries = true;
    await q?.close();
    await db?.drop();
  });

  const all: TenantScope = { kind: 'all' };
  const window = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });
  // Whole hours only, partial hours at both ends, at one end, none, and the scenario's own window.
  const WINDOWS = [
    window('2026-11-20T09:00:00Z', '2026-11-20T11:00:00Z'),
    window('2026-11-20T08:00:00Z', '2026-11-21T00:00:00Z'),
    window('2026-11-20T09:13:07.5Z', '2026-11-20T10:04:59.999999Z'),
    window('2026-11-20T08:30:00Z', '2026-11-20T10:05:00Z'),
    window('2026-11-20T09:00:00Z', '2026-11-20T10:07:00Z'),
    window('2026-11-20T09:41:00Z', '2026-11-20T11:00:00Z'),
    window('2026-11-20T10:00:00Z', '2026-11-20T10:10:00Z'),
  ];
  const SCOPES: Array<Omit<FindingScope, 'window'>> = [
    { scope: all },
    { scope: { kind: 'tenants', tenants: ['eu-bank'] } },
    { scope: { kind: 'tenants', tenants: ['globex', 'acme'] } },
    { scope: all, alias: 'fast-chat' },
  ];

  const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r, Object.keys(r as object).sort())).sort();

  /** Each answer with summaries and from records alone, sorted (their order is not part of the answer). */
  async function bothWays<T>(read: () => Promise<T[]>): Promise<{ summaries: string[]; records: string[] }> {
    repo.readSummaries = true;
    const summaries = sorted(await read());
    repo.readSummaries = false;
    const fromRecords = sorted(await read());
    repo.readSummaries = true;
    return { summaries, records: fromRecords };
  }

  it('stores exactly the summaries of the stored records', async () => {
    const { stored, recomputed } = await storedAndRecomputedFindingSummaries(db);
    expect(stored.reduce((n, r) => n + r.requests, 0)).toBe(records.length);
    expect(stored).toEqual(recomputed);
    // Rows of several batches and shards were merged, flagged rows carry samples.
    expect(stored.some((r) => r.samples.length === 5)).toBe(true);
  });

  it('answers silent degradation, residency, policy bypass and coverage as the records do, for any window', async () => {
    let nonEmpty = 0;
    for (const w of WINDOWS) {
      for (const s of SCOPES) {
        const f: FindingScope = { ...s, window: w };
        const reads: Array<() => Promise<object[]>> = [
          () => repo.silentDegradation(f),
          () => repo.residencyViolations(f),
          () => repo.policyBypasses(f),
          () => repo.coverage(f),
          () => repo.coverage({ ...f, gateway: 'litellm-prod-eu' }),
        ];
        for (const read of reads) {
          const { summaries, records: fromRecords } = await bothWays(read);
          expect(summaries).toEqual(fromRecords);
          if (summaries.length > 0) nonEmpty++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(WINDOWS.length * 3);
  });

  it('answers alias targets (alias history, alias_change) as the records do, with any look-back', async () => {
    for (const w of WINDOWS) {
      for (const s of SCOPES) {
        for (const since of [
          w.from,
          new Date(w.from.getTime() - 30 * 86_400_000),
          new Date(w.from.getTime() - 5_400_000),
        ]) {
          const { summaries, records: fromRecords } = await bothWays(() =>
            repo.aliasTargets({ ...s, window: w }, since),
          );
          expect(summaries).toEqual(fromRecords);
          expect(summaries.length).toBeGreaterThan(0);
        }
      }
    }
  });

  it('stores exactly the cost summaries of the stored records', async () => {
    const { stored, recomputed } = await storedAndRecomputedCostSummaries(db);
    expect(stored.reduce((n, r) => n + r.requests, 0)).toBe(records.length);
    expect(stored).toEqual(recomputed);
    expect(stored.some((r) => r.samples.length === 5)).toBe(true);
    expect(stored.some((r) => r.amount_sum !== null)).toBe(true);
  });

  it('answers cost bias (cheaper targets, price concentration, cohorts) and served versions as the records do, for any window', async () => {
    const nonEmpty = { cheaper: 0, concentration: 0, cohorts: 0, cheapBad: 0, served: 0 };
    for (const w of WINDOWS) {
      for (const s of [...SCOPES, { scope: { kind: 'tenants', tenants: ['umbrella', 'stark'] } } as const]) {
        const f: FindingScope = { ...s, window: w };
        const reads: Array<[keyof typeof nonEmpty, () => Promise<object[]>]> = [
          ['cheaper', () => repo.cheaperTargets(f)],
          ['concentration', () => repo.priceConcentration(f)],
          ['cohorts', () => repo.cohorts(f)],
          ['cohorts', () => repo.cohorts({ ...f, alias: 'smart-router' })],
          ['served', () => repo.servedVersions(f, w.from)],
          ['served', () => repo.servedVersions(f, new Date(w.from.getTime() - 30 * 86_400_000))],
          ['served', () => repo.servedVersions(f, new Date(w.from.getTime() - 5_400_000))],
        ];
        for (const [name, read] of reads) {
          const { summaries, records: fromRecords } = await bothWays(read);
          expect(summaries).toEqual(fromRecords);
          if (summaries.length > 0) nonEmpty[name]++;
          if (name === 'cohorts' && summaries.some((r) => (JSON.parse(r) as { cheap_bad: number }).cheap_bad > 0))
            nonEmpty.cheapBad++;
        }
      }
    }
    // The planted cost bias, concentration, cheap-path retries and evaluated aliases show up.
    expect(Object.entries(nonEmpty).filter(([, n]) => n < WINDOWS.length)).toEqual([]);
  });

  it('reads the whole hours of cost answers from cost_hours, not the records', async () => {
    const f: FindingScope = { scope: all, window: WINDOWS[1] };
    const total = (rows: Array<{ requests: number }>) => rows.reduce((n, r) => n + r.requests, 0);
    const before = total(await repo.servedVersions(f, f.window.from));
    expect(before).toBeGreaterThan(0);
    await db.query('UPDATE cost_hours SET requests = requests * 2');
    try {
      expect(total(await repo.servedVersions(f, f.window.from))).toBe(2 * before);
    } finally {
      await db.query('UPDATE cost_hours SET requests = requests / 2');
    }
  });

  it('reads the whole hours from the summaries, not the records', async () => {
    const f: FindingScope = { scope: all, window: WINDOWS[1] };
    const before = await repo.coverage(f);
    expect(before.reduce((n, r) => n + r.events, 0)).toBeGreaterThan(0);
    await db.query('UPDATE finding_hours SET requests = requests * 2');
    try {
      const after = await repo.coverage(f);
      expect(after.reduce((n, r) => n + r.events, 0)).toBe(2 * before.reduce((n, r) => n + r.events, 0));
    } finally {
      await db.query('UPDATE finding_hours SET requests = requests / 2');
    }
  });
});
