/**
 * Bulk records for the read hooks (section 6): demo traffic of the real shape, COPYed into
 * `records` in shards from 10_000 up (never the pipeline's), with the summaries the append
 * would have written for them (traffic_minutes, finding_hours, cost_hours). Without them, every
 * summary-backed answer (incidents, findings, alias history) would be measured over nothing.
 */
import { performance } from 'node:perf_hooks';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { summarizeRecords } from '../../src/domain/summary/traffic-summary.js';
import { summaryRowsParam, upsertSummariesSql } from '../../src/ledger/summary-sql.js';
import { summarizeFindingRecords } from '../../src/domain/summary/finding-summary.js';
import { findingRowsParam, upsertFindingSummariesSql } from '../../src/ledger/finding-summary-sql.js';
import { summarizeCostRecords } from '../../src/domain/summary/cost-summary.js';
import { costRowsParam, upsertCostSummariesSql } from '../../src/ledger/cost-summary-sql.js';
import { queryColumns } from '../../src/ledger/record-columns.js';
import type { TestDatabase } from '../../test/support/test-database.js';
import { copyInTransaction } from './ceiling.js';
import { benchEvent, wireOf } from './env.js';
import { recordCopyLine } from './rows.js';

export const SEED_FIRST_SHARD = 10_000;
const SEED_SHARDS = 8;
const CHUNK = 10_000;

/** Appends `n` seeded records after those already seeded; seq = firstSeq + their ordinal. */
export async function seedRecords(
  db: TestDatabase,
  n: number,
  firstSeq: number,
  log?: (m: string) => void,
): Promise<{ rows: number; seconds: number }> {
  const t = performance.now();
  const [{ c }] = await db.query<{ c: string }>('SELECT count(*) AS c FROM records WHERE shard >= $1', [
    SEED_FIRST_SHARD,
  ]);
  const base = Number(c);
  const client = await db.pool.connect();
  try {
    for (let i = 0; i < n; i += CHUNK) {
      const lines: string[] = [];
      const byShard = new Map<number, CanonicalRecord[]>();
      for (let j = i; j < Math.min(n, i + CHUNK); j++) {
        const e = benchEvent(firstSeq + base + j);
        const shard = SEED_FIRST_SHARD + ((base + j) % SEED_SHARDS);
        lines.push(recordCopyLine(e, wireOf(e), { shard, leaf: base + j, topic: 'bench.seed', offset: base + j }));
        const list = byShard.get(shard) ?? [];
        list.push(e);
        byShard.set(shard, list);
      }
      await copyInTransaction(client, 'records', Buffer.from(lines.join('')));
      for (const [shard, records] of byShard) {
        await client.query(upsertSummariesSql('$1', '$2'), [shard, summaryRowsParam(summarizeRecords(records))]);
        await client.query(upsertFindingSummariesSql('$1', '$2'), [
          shard,
          findingRowsParam(summarizeFindingRecords(records)),
        ]);
        await client.query(upsertCostSummariesSql('$1', '$2'), [
          shard,
          costRowsParam(summarizeCostRecords(records, queryColumns)),
        ]);
      }
      if (log && (i / CHUNK) % 50 === 49)
        log(`   seeded ${(i + CHUNK).toLocaleString('en')} of ${n.toLocaleString('en')}`);
    }
  } finally {
    client.release();
  }
  await db.query('ANALYZE records');
  await db.query('ANALYZE traffic_minutes');
  await db.query('ANALYZE finding_hours');
  await db.query('ANALYZE cost_hours');
  const [{ total }] = await db.query<{ total: string }>('SELECT count(*) AS total FROM records');
  return { rows: Number(total), seconds: (performance.now() - t) / 1000 };
}
