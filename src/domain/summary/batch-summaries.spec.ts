import fc from 'fast-check';
import { sampleRecord } from '../../../test/fixtures/sample-record.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import { queryColumns } from '../../ledger/record-columns.js';
import { summarizeBatch } from './batch-summaries.js';
import { costFactOf, summarizeCostFacts } from './cost-summary.js';
import { findingFactOf, summarizeFindingFacts } from './finding-summary.js';
import { summarizeFacts, summaryFactOf } from './traffic-summary.js';

/** Records that share keys (same minute and hour, same route) and records that do not, in any order. */
function recordOf(i: number, ms: number): CanonicalRecord {
  return sampleRecord({
    event_id: `e-${i % 23}-${i}`,
    tenant_id: ['acme', 'globex'][i % 2],
    occurred_at: new Date(Date.UTC(2026, 10, 20, 9, 59, 0) + ms).toISOString(),
    provider: i % 3 === 0 ? 'azure' : 'openai',
    fallback_used: i % 5 === 0,
    cache: i % 7 === 0 ? { status: 'hit' } : undefined,
    cost: i % 4 === 0 ? undefined : { amount: `0.00${i % 9}1`, currency: 'USD', source: 'gateway' },
    outcome: { status: i % 6 === 0 ? 'error' : 'success' },
  });
}

function factsOf(r: CanonicalRecord) {
  const q = queryColumns(r);
  return { summary: summaryFactOf(r), findings: findingFactOf(r, q.signals), costs: costFactOf(r, q) };
}

describe('summarizeBatch', () => {
  it('gives the rows of the three roll-ups run one by one, whatever the records and their order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(40), fc.integer({ min: 0, max: 7_200_000 })), { maxLength: 60 }),
        (drawn) => {
          const facts = drawn.map(([i, ms]) => factsOf(recordOf(i, ms)));
          const batch = summarizeBatch(facts);
          const at = (f: (typeof facts)[number]) => ({ occurredAt: f.summary.occurredAt, eventId: f.summary.eventId });
          expect(batch.traffic).toEqual(summarizeFacts(facts.map((f) => f.summary)));
          expect(batch.findings).toEqual(summarizeFindingFacts(facts.map((f) => ({ fact: f.findings, ...at(f) }))));
          expect(batch.costs).toEqual(summarizeCostFacts(facts.map((f) => ({ fact: f.costs, ...at(f) }))));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps each row the earliest and latest record by instant, then event id', () => {
    const facts = [recordOf(1, 5_000), recordOf(1, 1_000), recordOf(1, 9_000), recordOf(1, 1_000)].map(factsOf);
    // Same route and hour: one finding row, one cost row; the two records at 1 s are ordered by event id.
    facts[3].summary.eventId = 'e-0-0';
    const { findings, costs } = summarizeBatch(facts);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ requests: 4, first_event_id: 'e-0-0', last_event_id: 'e-1-1' });
    expect(findings[0].first_at).toBe('2026-11-20T09:59:01.000000Z');
    expect(findings[0].last_at).toBe('2026-11-20T09:59:09.000000Z');
    expect(costs[0]).toMatchObject({ requests: 4, first_event_id: 'e-0-0', last_at: '2026-11-20T09:59:09.000000Z' });
  });
});
