import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import {
  epochMicros,
  keyText,
  mergeRows,
  normalizeDecimal,
  summarizeRecords,
  type SummaryRow,
} from '../../src/domain/summary/traffic-summary.js';
import { SUMMARY_SELECT, summaryFromRow } from '../../src/ledger/summary-sql.js';
import {
  findingKeyText,
  mergeFindingRows,
  summarizeFindingRecords,
  type FindingRow,
} from '../../src/domain/summary/finding-summary.js';
import { FINDING_SELECT, findingRowFromRow } from '../../src/ledger/finding-summary-sql.js';
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
  const stored = (await db.query(`SELECT ${SUMMARY_SELECT} FROM traffic_minutes`)).map(summaryFromRow);
  const records = (await db.query<{ record: string }>('SELECT record FROM records')).map(
    (r) => JSON.parse(r.record) as CanonicalRecord,
  );
  return { stored: comparable(mergeRows(stored)), recomputed: comparable(summarizeRecords(records)) };
}

function comparable(rows: SummaryRow[]): Comparable[] {
  return rows
    .map(({ first_at, cost_sum, ...rest }) => ({
      ...rest,
      cost_sum: normalizeDecimal(cost_sum),
      first_at_us: epochMicros(first_at),
    }))
    .sort((a, b) => (keyText(a) < keyText(b) ? -1 : keyText(a) > keyText(b) ? 1 : 0));
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
  const stored = (await db.query(`SELECT ${FINDING_SELECT} FROM finding_hours`)).map(findingRowFromRow);
  const records = (await db.query<{ record: string }>('SELECT record FROM records')).map(
    (r) => JSON.parse(r.record) as CanonicalRecord,
  );
  const comparableFindings = (rows: FindingRow[]): ComparableFinding[] =>
    rows
      .map(({ first_at, last_at, ...rest }) => ({
        ...rest,
        first_at_us: epochMicros(first_at),
        last_at_us: epochMicros(last_at),
      }))
      .sort((a, b) => (findingKeyText(a) < findingKeyText(b) ? -1 : findingKeyText(a) > findingKeyText(b) ? 1 : 0));
  return {
    stored: comparableFindings(mergeFindingRows(stored)),
    recomputed: comparableFindings(summarizeFindingRecords(records)),
  };
}
