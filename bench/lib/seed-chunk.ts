/**
 * One chunk of the read bench's seeded records (seed.ts): the `records` rows as COPY binary tuples and
 * the summary rows the append would add for them, per shard. Plain computation, no I/O, so
 * seed-worker.ts runs it off the thread that talks to PostgreSQL.
 */
import { summarizeFacts, type SummaryFact } from '../../src/domain/summary/traffic-summary.js';
import { summarizeFindingFacts, type FindingFact } from '../../src/domain/summary/finding-summary.js';
import { summaryRowsParam } from '../../src/ledger/summary-sql.js';
import { findingRowsParam } from '../../src/ledger/finding-summary-sql.js';
import { summarizeCostFacts, type CostFact } from '../../src/domain/summary/cost-summary.js';
import { costRowsParam } from '../../src/ledger/cost-summary-sql.js';
import { benchEvent, wireOf } from './env.js';
import { recordCopyRow } from './rows.js';

export const SEED_FIRST_SHARD = 10_000;
export const SEED_SHARDS = 8;
/** The story clock's start: benchEvent's default instant for seq 0. */
const EPOCH_MS = Date.UTC(2026, 0, 1);

export interface SeedChunkSpec {
  /** The seq of the table's first seeded record: record k (0-based ordinal) is event firstSeq + k. */
  firstSeq: number;
  /** Ordinals [from, to). */
  from: number;
  to: number;
  /**
   * Milliseconds between two consecutive records' occurred_at. 1 is benchEvent's own clock
   * (a million records in 17 minutes); larger spreads them over days, as real traffic is.
   */
  spacingMs: number;
}

export interface SeedChunk {
  rows: number;
  /** The chunk's `records` rows as COPY binary tuples (no header or trailer: copyInTransaction adds them). */
  body: Uint8Array;
  /** Per shard: the upserts' jsonb parameters (summaryRowsParam, findingRowsParam, costRowsParam). */
  summaries: Array<{ shard: number; traffic: string; findings: string; costs: string }>;
}

/** occurred_at of ordinal k: benchEvent's instant for the first record, then spacingMs apart. */
export function seedInstant(firstSeq: number, k: number, spacingMs: number): Date {
  return new Date(EPOCH_MS + firstSeq + Math.floor(k * spacingMs));
}

export function seedChunk(spec: SeedChunkSpec): SeedChunk {
  const tuples: Buffer[] = [];
  const byShard = new Map<
    number,
    {
      traffic: SummaryFact[];
      findings: Array<{ fact: FindingFact; occurredAt: string; eventId: string }>;
      costs: Array<{ fact: CostFact; occurredAt: string; eventId: string }>;
    }
  >();
  for (let k = spec.from; k < spec.to; k++) {
    const e = benchEvent(spec.firstSeq + k, seedInstant(spec.firstSeq, k, spec.spacingMs));
    const shard = SEED_FIRST_SHARD + (k % SEED_SHARDS);
    const { tuple, prepared } = recordCopyRow(e, wireOf(e), { shard, leaf: k, topic: 'bench.seed', offset: k });
    tuples.push(tuple);
    let facts = byShard.get(shard);
    if (!facts) byShard.set(shard, (facts = { traffic: [], findings: [], costs: [] }));
    // The stored record's facts, as the append summarizes them (prepareRecord).
    facts.traffic.push(prepared.summary);
    facts.findings.push({ fact: prepared.findings, occurredAt: e.occurred_at, eventId: e.event_id });
    facts.costs.push({ fact: prepared.costs, occurredAt: e.occurred_at, eventId: e.event_id });
  }
  return {
    rows: spec.to - spec.from,
    body: Buffer.concat(tuples),
    summaries: [...byShard].map(([shard, f]) => ({
      shard,
      traffic: summaryRowsParam(summarizeFacts(f.traffic)),
      findings: findingRowsParam(summarizeFindingFacts(f.findings)),
      costs: costRowsParam(summarizeCostFacts(f.costs)),
    })),
  };
}
