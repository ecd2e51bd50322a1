import fc from 'fast-check';
import { sampleRecord } from '../../../test/fixtures/sample-record.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import {
  findingKeyFromText,
  findingKeyOf,
  findingKeyText,
  hourOf,
  isoMicrosOf,
  mergeFindingRows,
  sampleEventId,
  sampleKey,
  summarizeFindingRecords,
  type FindingRow,
} from './finding-summary.js';
import { epochMicros } from './traffic-summary.js';

/** A varied record: substitutions, residency and check results drawn from `i`. */
function recordOf(i: number, seconds: number): CanonicalRecord {
  const substituted = i % 4 === 0;
  return sampleRecord({
    event_id: `e-${i}`,
    tenant_id: ['acme', 'globex'][i % 2],
    occurred_at: new Date(Date.UTC(2026, 10, 20, 9, 30, 0) + seconds * 1000).toISOString(),
    provider: 'azure',
    fallback_used: substituted,
    model_version: i % 5 === 0 ? undefined : { version: `v${i % 2}` },
    region: { served: i % 3 === 0 ? 'us-east-1' : 'eu-west-1', required: ['eu'] },
    attempts: {
      completeness: 'full',
      items: [
        { index: 0, provider: 'openai', model: 'gpt-4o', status: substituted ? 'error' : 'success' },
        ...(substituted ? [{ index: 1, provider: 'azure', model: 'gpt-4o', status: 'success' as const }] : []),
      ],
    },
    policy_checks: [{ name: 'pii', result: i % 6 === 0 ? 'skipped' : 'pass', required: true }],
    routing: i % 7 === 0 ? { strategy: 'loadbalance' } : {},
    outcome: { status: 'success' },
  });
}

const records = fc.array(fc.tuple(fc.nat(10_000), fc.nat(7200)), { minLength: 1, maxLength: 80 }).map((xs) => {
  const seen = new Set<number>();
  return xs.filter(([i]) => !seen.has(i) && seen.add(i)).map(([i, s]) => recordOf(i, s));
});

const byKey = (rows: FindingRow[]) => [...rows].sort((a, b) => findingKeyText(a).localeCompare(findingKeyText(b)));

describe('finding summaries', () => {
  it('keys a record by its hour and keeps flagged details on flagged rows only', () => {
    const plain = findingKeyOf(recordOf(1, 0));
    expect(plain).toMatchObject({
      hour: '2026-11-20T09:00:00.000Z',
      signals: [],
      first_provider: null,
      bypassed_checks: null,
    });
    const flagged = findingKeyOf(recordOf(12, 1800));
    expect(flagged.hour).toBe('2026-11-20T10:00:00.000Z');
    expect(flagged.signals).toEqual(['silent_substitution', 'residency_violation', 'policy_bypass']);
    expect(flagged).toMatchObject({
      first_provider: 'openai',
      first_model: 'gpt-4o',
      region_served: 'us-east-1',
      region_required: ['eu'],
      bypassed_checks: [['pii', 'skipped']],
      load_balanced: null,
    });
    expect(findingKeyFromText(findingKeyText(flagged))).toEqual(flagged);
  });

  it('counts every record once, with its first and last sighting and the earliest samples of flagged rows', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const rows = summarizeFindingRecords(rs);
        expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(rs.length);
        for (const row of rows) {
          const mine = rs
            .filter((r) => findingKeyText(findingKeyOf(r)) === findingKeyText(row))
            .map((r) => ({ us: epochMicros(r.occurred_at), id: r.event_id }))
            .sort((a, b) => a.us - b.us || (a.id < b.id ? -1 : 1));
          expect(row.requests).toBe(mine.length);
          expect([row.first_event_id, row.last_event_id]).toEqual([mine[0].id, mine[mine.length - 1].id]);
          expect(epochMicros(row.first_at)).toBe(mine[0].us);
          const flagged = row.signals.some((s) =>
            ['silent_substitution', 'residency_violation', 'policy_bypass'].includes(s),
          );
          expect(row.samples.map(sampleEventId)).toEqual(flagged ? mine.slice(0, 5).map((m) => m.id) : []);
        }
      }),
    );
  });

  it('merges summaries of any split of the records into the summary of all of them', () => {
    fc.assert(
      fc.property(records, fc.nat(), (rs, cut) => {
        const k = cut % (rs.length + 1);
        const parts = [...summarizeFindingRecords(rs.slice(k).reverse()), ...summarizeFindingRecords(rs.slice(0, k))];
        expect(byKey(mergeFindingRows(parts))).toEqual(byKey(summarizeFindingRecords(rs)));
      }),
    );
  });

  it('writes instants at a fixed width, so sample keys sort by (instant, event id)', () => {
    expect(isoMicrosOf(epochMicros('2026-11-20T10:00:00.1234567Z'))).toBe('2026-11-20T10:00:00.123456Z');
    expect(isoMicrosOf(epochMicros('2026-11-20T10:00:00Z'))).toBe('2026-11-20T10:00:00.000000Z');
    expect(hourOf('2026-11-20T10:59:59.999Z')).toBe('2026-11-20T10:00:00.000Z');
    const a = sampleKey(epochMicros('2026-11-20T10:00:00.000001Z'), 'z');
    const b = sampleKey(epochMicros('2026-11-20T10:00:00.00001Z'), 'a');
    expect([b, a].sort()).toEqual([a, b]);
    expect(sampleEventId(a)).toBe('z');
  });
});
