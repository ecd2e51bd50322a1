import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import {
  epochMicros,
  keyText,
  mergeRows,
  summarizeRecords,
  type SummaryRow,
} from '../../src/domain/summary/traffic-summary.js';
import { normalizeDecimal } from '../../src/domain/summary/exact-decimal.js';
import { SUMMARY_SELECT, summaryFromRow } from '../../src/ledger/summary-sql.js';
import {
  findingKeyText,
  mergeFindingRows,
  summarizeFindingRecords,
  type FindingRow,
} from '../../src/domain/summary/finding-summary.js';
import { FINDING_SELECT, findingRowFromRow } from '../../src/ledger/finding-summary-sql.js';
import {
  costKeyText,
  mergeCostRows,
  summarizeCostRecords,
  type CostRow,
} from '../../src/domain/summary/cost-summary.js';
import { COST_SELECT, costRowFromRow } from '../../src/ledger/cost-summary-sql.js';
import { queryColumns } from '../../src/ledger/record-columns.js';
import type { TestDatabase } from './test-database.js';

type Comparable = Omit<SummaryRow, 'first_at' | 'cost_sum'> & { first_at_us: number; cost_sum: string };

/**
 * traffic_minutes as stored (shards added up), and as recomputed from every stored record, in one comparable form
 * (decimals normalized, instants in µs), both sorted by key: equal when the summaries count
 * exactly the records.
 */
export async function storedAndRecomputedSummaries(
  db: Pick<TestDatabase, 'query'>,
): Promise<{ stored: Comparable[]; recomputed: Comparable[] }> {
  return storedAndRecomputed(db, {
    select: `SELECT ${SUMMARY_SELECT} FROM traffic_minutes`,
    fromRow: summaryFromRow,
    merge: mergeRows,
    summarize: summarizeRecords,
    comparable: comparableSummary,
    keyText,
  });
}

function comparableSummary({ first_at, cost_sum, ...rest }: SummaryRow): Comparable {
  return { ...rest, cost_sum: normalizeDecimal(cost_sum), first_at_us: epochMicros(first_at) };
}

/** Summary rows read some other way, in the form and order of storedAndRecomputedSummaries. */
export function comparableSummaries(rows: SummaryRow[]): Comparable[] {
  return rows.map(comparableSummary).sort((a, b) => (keyText(a) < keyText(b) ? -1 : keyText(a) > keyText(b) ? 1 : 0));
}

type ComparableFinding = Omit<FindingRow, 'first_at' | 'last_at'> & { first_at_us: number; last_at_us: number };

/**
 * finding_hours as stored (shards merged) and as recomputed from every stored record, in one
 * comparable form (instants in µs), both sorted by key: equal when the finding summaries count
 * exactly the records.
 */
export async function storedAndRecomputedFindingSummaries(
  db: Pick<TestDatabase, 'query'>,
): Promise<{ stored: ComparableFinding[]; recomputed: ComparableFinding[] }> {
  return storedAndRecomputed(db, {
    select: `SELECT ${FINDING_SELECT} FROM finding_hours`,
    fromRow: findingRowFromRow,
    merge: mergeFindingRows,
    summarize: summarizeFindingRecords,
    comparable: ({ first_at, last_at, ...rest }): ComparableFinding => ({
      ...rest,
      first_at_us: epochMicros(first_at),
      last_at_us: epochMicros(last_at),
    }),
    keyText: findingKeyText,
  });
}

type ComparableCost = Omit<CostRow, 'first_at' | 'last_at'> & { first_at_us: number; last_at_us: number };

/**
 * cost_hours as stored (shards merged) and as recomputed from every stored record, in one
 * comparable form (instants in µs; sums as PostgreSQL prints them, scale included), both sorted
 * by key: equal when the cost summaries count exactly the records.
 */
export async function storedAndRecomputedCostSummaries(
  db: Pick<TestDatabase, 'query'>,
): Promise<{ stored: ComparableCost[]; recomputed: ComparableCost[] }> {
  return storedAndRecomputed(db, {
    select: `SELECT ${COST_SELECT} FROM cost_hours`,
    fromRow: costRowFromRow,
    merge: mergeCostRows,
    summarize: (records) => summarizeCostRecords(records, queryColumns),
    comparable: ({ first_at, last_at, ...rest }): ComparableCost => ({
      ...rest,
      first_at_us: epochMicros(first_at),
      last_at_us: epochMicros(last_at),
    }),
    keyText: costKeyText,
  });
}

/** A summary table's stored rows (merged by key) and the rows recomputed from every stored record, as `comparable` puts them, sorted by key. */
async function storedAndRecomputed<Row, C>(
  db: Pick<TestDatabase, 'query'>,
  table: {
    /** Selects every stored row. */
    select: string;
    fromRow: (row: Record<string, unknown>) => Row;
    merge: (rows: Row[]) => Row[];
    summarize: (records: CanonicalRecord[]) => Row[];
    comparable: (row: Row) => C;
    keyText: (row: C) => string;
  },
): Promise<{ stored: C[]; recomputed: C[] }> {
  const stored = (await db.query(table.select)).map(table.fromRow);
  const records = (await db.query<{ record: string }>('SELECT record FROM records')).map(
    (r) => JSON.parse(r.record) as CanonicalRecord,
  );
  const byKey = (rows: Row[]): C[] =>
    rows
      .map(table.comparable)
      .sort((a, b) => (table.keyText(a) < table.keyText(b) ? -1 : table.keyText(a) > table.keyText(b) ? 1 : 0));
  return { stored: byKey(table.merge(stored)), recomputed: byKey(table.summarize(records)) };
}
