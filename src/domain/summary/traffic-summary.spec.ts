import fc from 'fast-check';
import { sampleRecord } from '../../../test/fixtures/sample-record.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import {
  LATENCY_BUCKETS,
  keyText,
  latencyBucket,
  mergeRows,
  minuteOf,
  summarizeRecords,
  keyFromText,
  summaryKeyOf,
} from './traffic-summary.js';
import { addDecimals, divideDecimal, multiplyDecimal, normalizeDecimal, subtractDecimals } from './exact-decimal.js';
import {
  costs,
  errorClasses,
  fallbackChains,
  percentileFromBuckets,
  periodTotals,
  rowsInvolving,
  timeline,
} from './incident-rollup.js';

const PROVIDERS = ['openai', 'anthropic', 'azure'];

/** A varied record: provider, outcome, fallback, attempts, latency and cost all drawn from `i`. */
function recordOf(i: number, seconds: number): CanonicalRecord {
  const failed = i % 7 === 0;
  const fallback = i % 3 === 0;
  const provider = PROVIDERS[i % 3];
  return sampleRecord({
    event_id: `e-${i}`,
    tenant_id: ['acme', 'globex'][i % 2],
    occurred_at: new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + seconds * 1000 + (i % 1000)).toISOString(),
    provider: failed ? undefined : provider,
    fallback_used: fallback,
    retries: i % 11 === 0 ? 1 : 0,
    attempts: {
      completeness: 'full',
      items: fallback
        ? [
            { index: 0, provider: 'openai', model: 'gpt-4o', status: 'error', error_class: 'provider_unavailable' },
            { index: 1, provider, model: 'm', status: 'success' },
          ]
        : [{ index: 0, provider, model: 'm', status: failed ? 'timeout' : 'success' }],
    },
    latency: i % 5 === 0 ? {} : { total_ms: (i * 37) % 4000 },
    cost: i % 4 === 0 ? undefined : { amount: `0.00${(i % 90) + 10}`, currency: i % 9 === 0 ? 'EUR' : 'USD' },
    outcome: failed ? { status: 'error', error_class: 'timeout' } : { status: 'success' },
  });
}

const records = fc.array(fc.tuple(fc.nat(10_000), fc.nat(600)), { minLength: 1, maxLength: 120 }).map((xs) => {
  const seen = new Set<number>();
  return xs.filter(([i]) => !seen.has(i) && seen.add(i)).map(([i, s]) => recordOf(i, s));
});

const byKey = <T extends Parameters<typeof keyText>[0]>(rows: T[]) =>
  [...rows].sort((a, b) => (keyText(a) < keyText(b) ? -1 : 1));

describe('traffic summaries', () => {
  it("keys survive their text form: keyFromText(keyText(key)) is the record's key", () => {
    fc.assert(
      fc.property(records, (rs) => {
        for (const r of rs) expect(keyFromText(keyText(summaryKeyOf(r)))).toEqual(summaryKeyOf(r));
      }),
    );
  });

  it('are additive: summaries of two parts merged equal the summary of the whole', () => {
    fc.assert(
      fc.property(records, fc.nat(), (rs, cut) => {
        const k = cut % (rs.length + 1);
        const merged = mergeRows([...summarizeRecords(rs.slice(0, k)), ...summarizeRecords(rs.slice(k))]);
        expect(byKey(merged)).toEqual(byKey(summarizeRecords(rs)));
      }),
      { numRuns: 60 },
    );
  });

  it('count every record once, with the totals a direct count gives', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const t = periodTotals(summarizeRecords(rs));
        expect(t.requests).toBe(rs.length);
        expect(t.fallbacks).toBe(rs.filter((r) => r.fallback_used === true).length);
        expect(t.errors).toBe(rs.filter((r) => r.outcome.status !== 'success').length);
        const affected = rs.filter(
          (r) =>
            r.fallback_used === true ||
            r.outcome.status !== 'success' ||
            (r.retries ?? 0) > 0 ||
            (r.attempts?.items ?? []).some((a) => a.status === 'error' || a.status === 'timeout'),
        );
        expect(t.affected).toBe(affected.length);
        const lat = rs.map((r) => r.latency?.total_ms).filter((x): x is number => x !== undefined);
        expect(t.latencyAvg).toBe(
          lat.length === 0 ? null : Math.round((lat.reduce((a, b) => a + b, 0) / lat.length) * 10) / 10,
        );
      }),
      { numRuns: 60 },
    );
  });

  it('filter by involvement like the records do: served by, or tried in the chain', () => {
    fc.assert(
      fc.property(records, fc.constantFrom(...PROVIDERS), (rs, provider) => {
        const rows = rowsInvolving(summarizeRecords(rs), { provider });
        const direct = rs.filter(
          (r) => r.provider === provider || (r.attempts?.items ?? []).some((a) => a.provider === provider),
        );
        expect(periodTotals(rows).requests).toBe(direct.length);
        expect(timeline(rows).reduce((n, m) => n + m.requests, 0)).toBe(direct.length);
      }),
      { numRuns: 60 },
    );
  });

  it('sum costs exactly per currency and count failed attempts per chain', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const rows = summarizeRecords(rs);
        for (const c of costs(rows, [])) {
          const mine = rs.filter((r) => r.cost?.currency === c.currency);
          expect(c.window.requests).toBe(mine.length);
          const cents = mine.reduce((n, r) => n + Math.round(Number(r.cost!.amount) * 10_000), 0);
          expect(Math.round(Number(c.window.total) * 10_000)).toBe(cents);
        }
        const failedAttempts = rs.flatMap((r) =>
          (r.attempts?.items ?? []).filter((a) => a.status === 'error' || a.status === 'timeout'),
        );
        expect(
          errorClasses(rows)
            .filter((e) => e.source === 'attempt')
            .reduce((n, e) => n + e.count, 0),
        ).toBe(failedAttempts.length);
        const multi = rs.filter((r) => (r.attempts?.items?.length ?? 0) > 1);
        expect(fallbackChains(rows, 50).reduce((n, c) => n + c.requests, 0)).toBe(multi.length);
      }),
      { numRuns: 60 },
    );
  });

  it('key by minute, earliest record as the example', () => {
    expect(minuteOf('2026-11-20T10:02:59.999Z')).toBe('2026-11-20T10:02:00.000Z');
    expect(minuteOf('2026-11-20T10:02:00+01:00')).toBe('2026-11-20T09:02:00.000Z');
    const a = recordOf(1, 10);
    const b = { ...recordOf(1, 5), event_id: 'e-0' };
    const [row] = summarizeRecords([a, b]);
    expect(row.requests).toBe(2);
    expect(row.first_event_id).toBe('e-0');
  });
});

describe('latency buckets', () => {
  it('place a value in the bucket whose bounds hold it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(24.9)).toBe(0);
    expect(latencyBucket(25)).toBe(1);
    expect(latencyBucket(10 ** 9)).toBe(LATENCY_BUCKETS - 1);
  });

  it('give a percentile inside the bucket that holds the true one', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(70_000), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.95), (xs, q) => {
        const buckets = new Array<number>(LATENCY_BUCKETS).fill(0);
        for (const x of xs) buckets[latencyBucket(x)]++;
        const p = percentileFromBuckets(buckets, q)!;
        const sorted = [...xs].sort((a, b) => a - b);
        const truth = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)];
        expect(truth).toBeGreaterThanOrEqual(p.bucket[0]);
        if (p.bucket[1] !== null) expect(truth).toBeLessThan(p.bucket[1]);
        expect(p.value).toBeGreaterThanOrEqual(p.bucket[0]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('exact decimals', () => {
  it('add, subtract, multiply and divide without floats', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(addDecimals('999999999999999999.999999999999999999', '0.000000000000000001')).toBe('1000000000000000000');
    expect(subtractDecimals('0.1', '0.35')).toBe('-0.25');
    expect(multiplyDecimal('0.0042', 3)).toBe('0.0126');
    expect(normalizeDecimal('00012.3400')).toBe('12.34');
    expect(divideDecimal('1', 3)).toBe('0.33333333');
    expect(divideDecimal('2', 3)).toBe('0.66666667');
    expect(divideDecimal('-2', 3)).toBe('-0.66666667');
    expect(divideDecimal('1', 0)).toBeNull();
  });
});
