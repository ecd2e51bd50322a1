import fc from 'fast-check';
import { sampleRecord } from '../../../test/fixtures/sample-record.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import { queryColumns } from '../../ledger/record-columns.js';
import {
  costKeyFromText,
  costKeyOf,
  costKeyText,
  mergeCostRows,
  summarizeCostRecords,
  type CostRow,
} from './cost-summary.js';
import { sumDecimalTexts } from './exact-decimal.js';
import { sampleEventId } from './finding-summary.js';
import { epochMicros } from './traffic-summary.js';

/** A varied record: cheap and premium targets, escalations, retries, cache answers, price reasons drawn from `i`. */
function recordOf(i: number, seconds: number): CanonicalRecord {
  const escalated = i % 4 === 0;
  const cached = i % 9 === 0;
  return sampleRecord({
    event_id: `e-${i}`,
    tenant_id: ['acme', 'globex'][i % 2],
    occurred_at: new Date(Date.UTC(2026, 10, 20, 9, 30, 0) + seconds * 1000).toISOString(),
    provider: i % 3 === 0 ? 'azure' : 'openai',
    resolved_model: { value: i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini', asserted_by: 'gateway' },
    fallback_used: i % 11 === 0,
    model_version: i % 5 === 0 ? undefined : { version: `v${i % 2}` },
    attempts: {
      completeness: 'full',
      items: [
        { index: 0, provider: 'openai', model: 'gpt-4o-mini', status: escalated ? 'error' : 'success' },
        ...(escalated ? [{ index: 1, provider: 'azure', model: 'gpt-4o', status: 'success' as const }] : []),
      ],
    },
    cache: cached ? { status: 'hit' } : undefined,
    retries: i % 7 === 0 ? 1 : undefined,
    routing: { objective: i % 2 === 0 ? 'quality' : 'cost', reason: i % 6 === 0 ? 'cheapest healthy target' : 'rule' },
    task: i % 8 === 0 ? undefined : { category: ['chat', 'legal'][i % 2] },
    usage: { input_tokens: 100 + i, output_tokens: i % 3 === 0 ? undefined : 7 },
    cost:
      i % 10 === 0
        ? undefined
        : {
            amount: [
              '0.0042',
              '0.001',
              '1.50',
              '-0.000100',
              '999999999999999999.999999999999999999',
              '-0.000000000000000001',
              '12',
            ][i % 7],
            currency: 'USD',
          },
    outcome: { status: i % 13 === 0 ? 'error' : 'success' },
  });
}

const records = fc.array(fc.tuple(fc.nat(10_000), fc.nat(7200)), { minLength: 1, maxLength: 80 }).map((xs) => {
  const seen = new Set<number>();
  return xs.filter(([i]) => !seen.has(i) && seen.add(i)).map(([i, s]) => recordOf(i, s));
});

const summarize = (rs: CanonicalRecord[]) => summarizeCostRecords(rs, queryColumns);
const byKey = (rows: CostRow[]) => [...rows].sort((a, b) => costKeyText(a).localeCompare(costKeyText(b)));

describe('cost summaries', () => {
  it('keys a record by what the cost findings read, keeping details where they are read', () => {
    const r = recordOf(1, 0);
    const primary = costKeyOf(r, queryColumns(r));
    expect(primary).toMatchObject({
      hour: '2026-11-20T09:00:00.000Z',
      is_primary: true,
      version: 'v1',
      currency: 'USD',
      objective: 'cost',
      category: 'legal',
      first_provider: 'openai',
      first_model: 'gpt-4o-mini',
      bad: false,
      price_driven: false,
      providers: ['openai'],
    });
    const e = recordOf(12, 1800);
    const escalated = costKeyOf(e, queryColumns(e));
    expect(escalated).toMatchObject({ hour: '2026-11-20T10:00:00.000Z', bad: true, price_driven: true });
    expect(escalated.providers).toEqual(['azure', 'openai']);
    const c = recordOf(9, 0);
    const cached = costKeyOf(c, queryColumns(c));
    expect(cached).toMatchObject({ cached: true, is_primary: false, category: null, first_provider: null, bad: false });
    expect(cached).toMatchObject({ version: null, currency: null, objective: null });
    expect(costKeyFromText(costKeyText(escalated))).toEqual(escalated);
  });

  it('sums decimals exactly, at the largest scale of the terms (as numeric addition does)', () => {
    expect(sumDecimalTexts('0.0042', '1.50')).toBe('1.5042');
    expect(sumDecimalTexts('1.50', '1.50')).toBe('3.00');
    expect(sumDecimalTexts('0.001', '-0.000100')).toBe('0.000900');
    expect(sumDecimalTexts('-0.50', '0.25')).toBe('-0.25');
    expect(sumDecimalTexts('7', '0.0')).toBe('7.0');
    expect(sumDecimalTexts('123456789012345678.5', '0.5')).toBe('123456789012345679.0');
  });

  it('counts every record once, with its sums, first and last sighting and earliest samples', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const rows = summarize(rs);
        expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(rs.length);
        for (const row of rows) {
          const mine = rs.filter((r) => costKeyText(costKeyOf(r, queryColumns(r))) === costKeyText(row));
          const order = mine
            .map((r) => ({ us: epochMicros(r.occurred_at), id: r.event_id }))
            .sort((a, b) => a.us - b.us || (a.id < b.id ? -1 : 1));
          expect(row.requests).toBe(mine.length);
          expect([row.first_event_id, row.last_event_id]).toEqual([order[0].id, order[order.length - 1].id]);
          expect(row.samples.map(sampleEventId)).toEqual(order.slice(0, 5).map((m) => m.id));
          const priced = row.is_primary && row.provider !== null ? mine.filter((r) => r.cost !== undefined) : [];
          if (priced.length === 0) expect([row.amount_sum, row.priced_tokens]).toEqual([null, null]);
          else {
            expect(row.amount_sum).toBe(priced.map((r) => r.cost!.amount).reduce(sumDecimalTexts));
            const tokens = priced.reduce((n, r) => n + (r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0), 0);
            expect(row.priced_tokens).toBe(String(tokens));
          }
        }
      }),
    );
  });

  it('merges summaries of any split of the records into the summary of all of them', () => {
    fc.assert(
      fc.property(records, fc.nat(), (rs, cut) => {
        const k = cut % (rs.length + 1);
        const parts = [...summarize(rs.slice(k).reverse()), ...summarize(rs.slice(0, k))];
        expect(byKey(mergeCostRows(parts))).toEqual(byKey(summarize(rs)));
      }),
    );
  });
});
