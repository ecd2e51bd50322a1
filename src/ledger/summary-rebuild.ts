import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import { summarizeRecords } from '../domain/summary/traffic-summary.js';
import { upsertSummariesSql, summaryRowsParam } from './summary-sql.js';
import { summarizeFindingRecords } from '../domain/summary/finding-summary.js';
import { findingRowsParam, upsertFindingSummariesSql } from './finding-summary-sql.js';
import { summarizeCostRecords } from '../domain/summary/cost-summary.js';
import { costRowsParam, upsertCostSummariesSql } from './cost-summary-sql.js';
import { queryColumns } from './record-columns.js';

type Query = (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * Adds the summaries of every stored record into traffic_minutes, in chunks of leaf order, with
 * the function the append uses. For an empty traffic_minutes next to records written without
 * it (the migration that creates the table; databases seeded by bulk SQL): run on a table that
 * already counts the records, it counts them twice.
 */
export async function summarizeStoredRecords(query: Query, chunk = 5000): Promise<number> {
  return eachStoredChunk(query, chunk, undefined, (shard, records) =>
    query(upsertSummariesSql('$1', '$2'), [shard, summaryRowsParam(summarizeRecords(records))]),
  );
}

/**
 * Adds the finding summaries of the stored records of shards ≥ `fromShard` into finding_hours,
 * like summarizeStoredRecords (and with its caveat: records already counted are counted twice).
 */
export async function summarizeStoredFindings(query: Query, chunk = 5000, fromShard = 0): Promise<number> {
  return eachStoredChunk(query, chunk, fromShard, (shard, records) =>
    query(upsertFindingSummariesSql('$1', '$2'), [shard, findingRowsParam(summarizeFindingRecords(records))]),
  );
}

/**
 * Adds the cost summaries of the stored records of shards ≥ `fromShard` into cost_hours, like
 * summarizeStoredRecords (and with its caveat: records already counted are counted twice).
 */
export async function summarizeStoredCosts(query: Query, chunk = 5000, fromShard = 0): Promise<number> {
  return eachStoredChunk(query, chunk, fromShard, (shard, records) =>
    query(upsertCostSummariesSql('$1', '$2'), [shard, costRowsParam(summarizeCostRecords(records, queryColumns))]),
  );
}

/**
 * Reads the stored records (of shards ≥ `fromShard` when given) in chunks of leaf order and
 * hands each chunk's records of one shard to `add`, one call at a time. Returns how many
 * records it read.
 */
async function eachStoredChunk(
  query: Query,
  chunk: number,
  fromShard: number | undefined,
  add: (shard: number, records: CanonicalRecord[]) => Promise<unknown>,
): Promise<number> {
  let done = 0;
  for (let after: { shard: number; leaf: string } | null = null; ;) {
    let where = '';
    const params: unknown[] = [chunk];
    if (after !== null) {
      where = 'WHERE (shard, leaf_index) > ($2, $3)';
      params.push(after.shard, after.leaf);
    } else if (fromShard !== undefined) {
      where = 'WHERE shard >= $2';
      params.push(fromShard);
    }
    const rows = (await query(
      `SELECT shard, leaf_index, record FROM records ${where} ORDER BY shard, leaf_index LIMIT $1`,
      params,
    )) as Array<{ shard: number; leaf_index: string; record: string }>;
    if (rows.length === 0) return done;
    for (const shard of new Set(rows.map((r) => r.shard))) {
      await add(
        shard,
        rows.filter((r) => r.shard === shard).map((r) => JSON.parse(r.record) as CanonicalRecord),
      );
    }
    done += rows.length;
    const last = rows[rows.length - 1];
    after = { shard: last.shard, leaf: last.leaf_index };
  }
}
