import { Injectable } from '@nestjs/common';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PoolClient, QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import { from as copyFrom } from 'pg-copy-streams';
import { copyChunks, textArrayLiteral, type CopyValue } from '../database/copy-text.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import type { Tile, TileWrites } from '../domain/merkle/tiles.js';
import { TileCache, merkleNodeReader, tileKey } from './merkle-node-store.js';
import { EMPTY_ROOT } from '../domain/merkle/hasher.js';
import type { AppendPlan, PlannedEntry, ShardHead, TenantHead } from './append-plan.js';
import {
  RECORD_ROW_COLUMNS,
  RECORD_ROW_TYPE_LIST,
  recordCopyValues,
  recordsCopySql,
  type RecordRowSource,
} from './record-columns.js';
import { binaryCopyChunks } from '../database/copy-binary.js';
import type { SummaryRow } from '../domain/summary/traffic-summary.js';
import { summaryRowsParam, upsertSummariesSql } from './summary-sql.js';
import type { FindingRow } from '../domain/summary/finding-summary.js';
import { findingRowsParam, upsertFindingSummariesSql } from './finding-summary-sql.js';
import type { CostRow } from '../domain/summary/cost-summary.js';
import { costRowsParam, upsertCostSummariesSql } from './cost-summary-sql.js';
import { AppError } from '../common/app-error.js';

/**
 * SQL of the append transaction. Every method runs on the caller's client inside the
 * caller's transaction; none commits.
 *
 * Every statement touches only tables keyed by shard and selects by the batch's shard, so the
 * transaction stays on one node of a PostgreSQL distributed by shard (Citus). The one exception
 * is claimEventIds: event ids are unique across shards, and that needs a table keyed by event id
 * (docs/operations.md, "Scaling out", says what it costs). test/integration/shard-local-append.test.ts
 * checks the SQL of real batches against this rule.
 */

export interface StoredCheckpointRow {
  shard: number;
  treeSize: number;
  rootHash: Buffer;
  signedAt: Date;
  kid: string;
  jws: string;
  prevTreeSize: number | null;
  consistencyProof: Buffer[];
}

export interface QuarantineRow {
  reasonCode: string;
  reason: string;
  eventId?: string;
  existingSha256?: Buffer;
  incomingSha256?: Buffer;
  topic?: string;
  partition?: number;
  offset?: string;
  headers: Record<string, string | undefined>;
  payload: Buffer;
}

/** What the append transaction reads after locking the shard, in one round trip. */
export interface BatchState {
  /** The consumed offset stored for this partition, null before its first batch. */
  nextOffset: bigint | null;
  /** Tree size of the shard's latest checkpoint, null before its first. */
  checkpointSize: number | null;
  /** Heads of the batch's tenants in this shard. */
  tenantHeads: Map<string, TenantHead>;
  /** The shard's right-edge partial Merkle tiles, by tile level. */
  partialTiles: Map<number, Tile>;
}

/** The small writes that close an append, done in one statement. */
export interface BatchClose {
  shard: number;
  fromSize: number;
  head: AppendPlan['head'];
  tenantHeads: Map<string, TenantHead>;
  tiles: TileWrites;
  checkpoint: StoredCheckpointRow;
  /** The appended records' per-minute summaries, added into traffic_minutes. */
  summaries: SummaryRow[];
  /** Their per-hour finding summaries, added into finding_hours. */
  findingSummaries: FindingRow[];
  /** Their per-hour cost summaries, added into cost_hours. */
  costSummaries: CostRow[];
}

/**
 * Stores a partition's next offset as a compare-and-set: the stored value must still be the one the
 * append read (`expected`, NULL before the partition's first batch). RETURNING tells whether it moved.
 */
const STORE_OFFSET_SQL = (
  shard: string,
  group: string,
  topic: string,
  partition: string,
  next: string,
  expected: string,
) =>
  `INSERT INTO consumed_offsets (shard, group_id, topic, partition, next_offset)
         VALUES (${shard}, ${group}, ${topic}, ${partition}, ${next})
         ON CONFLICT (shard, group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
         WHERE consumed_offsets.next_offset IS NOT DISTINCT FROM ${expected}::bigint
         RETURNING 1`;

/** The offset a batch read under the shard lock and the one it stores, for the compare-and-set. */
export interface OffsetMove {
  groupId: string;
  topic: string;
  partition: number;
  /** The stored next offset the append read (null: none stored yet). */
  expected: string | null;
  nextOffset: string;
}

/** Parameters of the closing statement before the inline records' ones. */
const CLOSE_PARAMS = 28;

/**
 * The `records` columns sent as arrays when the records ride in the closing statement, with
 * their array element types: every column but shard ($1) and record (one joined text). Signals
 * travel as array literals, one text each (an array of arrays would be one 2-D array to unnest).
 */
const INLINE_COLUMNS: Array<[(typeof RECORD_ROW_COLUMNS)[number], string]> = [
  ['event_id', 'text'],
  ['leaf_index', 'bigint'],
  ['tenant_id', 'text'],
  ['tenant_seq', 'bigint'],
  ['tenant_prev', 'bytea'],
  ['leaf_hash', 'bytea'],
  ['content_sha256', 'bytea'],
  ['occurred_at', 'timestamptz'],
  ['received_at', 'timestamptz'],
  ['request_id', 'text'],
  ['trace_id', 'text'],
  ['gateway_id', 'text'],
  ['requested_model', 'text'],
  ['resolved_model', 'text'],
  ['provider', 'text'],
  ['region_served', 'text'],
  ['fallback_used', 'text'],
  ['cache_status', 'text'],
  ['outcome_status', 'text'],
  ['signals', 'text'],
  ['kafka_topic', 'text'],
  ['kafka_partition', 'integer'],
  ['kafka_offset', 'bigint'],
];

/**
 * Batches of at most this many records send them inside the closing statement instead of by
 * COPY: below it the COPY's own round trip and stream machinery cost more Node CPU than the
 * arrays (bench/micro/small-batches.ts times both).
 */
export const INLINE_RECORDS_MAX = 64;

/** The closing statement of an append (closeBatch); `records` is an extra CTE or nothing. */
const closeBatchSql = (records: string) => `WITH head AS (
         UPDATE shard_heads SET tree_size = $3, root_hash = $4, frontier = $5, updated_at = now() WHERE shard = $1 AND tree_size = $2 RETURNING 1
       ), tenant AS (
         INSERT INTO tenant_heads (shard, tenant_id, next_seq, last_leaf_hash)
         SELECT $1, t, s, h FROM unnest($6::text[], $7::bigint[], $8::bytea[]) AS u(t, s, h)
         ON CONFLICT (shard, tenant_id) DO UPDATE SET next_seq = EXCLUDED.next_seq, last_leaf_hash = EXCLUDED.last_leaf_hash
       ), checkpoint AS (
         INSERT INTO checkpoints (shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof)
         VALUES ($1, $3, $4, $9, $10, $11, $12, $13)
       ), consumed AS (
         ${STORE_OFFSET_SQL('$1', '$14', '$15', '$16', '$17', '$26')}
       ), full_tiles AS (
         INSERT INTO merkle_tiles (shard, level, idx, hashes) SELECT $1, l, i, h FROM unnest($18::smallint[], $19::bigint[], $20::bytea[]) AS t(l, i, h)
       ), partial_tiles AS (
         INSERT INTO merkle_partial_tiles (shard, level, idx, hashes) SELECT $1, l, i, h FROM unnest($21::smallint[], $22::bigint[], $23::bytea[]) AS t(l, i, h)
         ON CONFLICT (shard, level) DO UPDATE SET idx = EXCLUDED.idx, hashes = EXCLUDED.hashes
       ), filled_tiles AS (
         DELETE FROM merkle_partial_tiles WHERE shard = $1 AND level = ANY($24::smallint[])
       ), summaries AS (
         ${upsertSummariesSql('$1', '$25')}
       ), finding_summaries AS (
         ${upsertFindingSummariesSql('$1', '$27')}
       ), cost_summaries AS (
         ${upsertCostSummariesSql('$1', '$28')}
       )${records}
       SELECT (SELECT count(*) FROM head) AS advanced, (SELECT count(*) FROM consumed) AS consumed`;

/** The closing statement alone, for a batch whose records went by COPY (or that appends none). */
const CLOSE_BATCH_SQL = closeBatchSql('');

/**
 * The closing statement with the batch's records inserted by one more CTE, for small batches
 * (INLINE_RECORDS_MAX): one round trip and no COPY stream instead of two. `shard` is $1 like
 * every other write; each column travels as one array, the records' canonical texts as one text
 * joined by U+001F (canonical JSON escapes every character below U+0020, so none holds it).
 */
const CLOSE_BATCH_WITH_RECORDS_SQL = closeBatchSql(`, records_in AS (
         INSERT INTO records (${RECORD_ROW_COLUMNS.join(', ')})
         SELECT ${RECORD_ROW_COLUMNS.map((c) => (c === 'shard' ? '$1' : c === 'signals' ? 'r.signals::text[]' : `r.${c}`)).join(', ')}
           FROM unnest(${INLINE_COLUMNS.map(([, type], i) => `$${CLOSE_PARAMS + 1 + i}::${type}[]`).join(', ')},
                       string_to_array($${CLOSE_PARAMS + 1 + INLINE_COLUMNS.length}::text, E'\\x1f'))
             AS r(${INLINE_COLUMNS.map(([c]) => c).join(', ')}, record)
       )`);

/** The shard head's lock, for the shard named by `shard` (a parameter or a literal). */
const LOCK_SHARD_SQL = (shard: string) =>
  `SELECT tree_size, frontier FROM shard_heads WHERE shard = ${shard} FOR UPDATE`;

/**
 * The batch's own statements are named, so each connection parses and plans them once instead
 * of once per batch (PostgreSQL keeps a named statement for the life of the connection).
 */
@Injectable()
export class LedgerAppendRepository {
  /** Full tiles' subtrees for the checkpoints' consistency proofs (full tiles never change). */
  private readonly tiles = new TileCache(256);

  /**
   * Locks the shard head row for this transaction, creating it for a new shard. The lock is its
   * own statement on purpose: every read after it (a new snapshot under READ COMMITTED) sees
   * whatever the previous holder of the lock committed.
   */
  async lockShard(c: PoolClient, shard: number): Promise<ShardHead> {
    const lock = { name: 'ledger-lock-shard', text: LOCK_SHARD_SQL('$1'), values: [shard] };
    let { rows } = await c.query<{ tree_size: string; frontier: Buffer[] }>(lock);
    if (rows.length === 0) {
      await c.query(
        'INSERT INTO shard_heads (shard, tree_size, root_hash) VALUES ($1, 0, $2) ON CONFLICT (shard) DO NOTHING',
        [shard, EMPTY_ROOT],
      );
      ({ rows } = await c.query<{ tree_size: string; frontier: Buffer[] }>(lock));
    }
    return { shard, treeSize: Number(rows[0].tree_size), frontier: rows[0].frontier };
  }

  /**
   * Opens the append's transaction and locks the shard head in one round trip: BEGIN, the
   * transaction's idle timeout (the ownership lease, when there is one) and the lock travel as one
   * simple query. They stay three statements, so the lock still has its own snapshot (lockShard
   * says why that matters). A small batch's append is a handful of round trips, each costing
   * both processes a wake-up; this removes one of them.
   */
  async beginAndLockShard(c: PoolClient, shard: number, idleTimeoutMs?: number): Promise<ShardHead> {
    // No parameters in a simple query: both numbers are checked integers, written as literals.
    if (!Number.isSafeInteger(shard) || shard < 0) throw new Error(`beginAndLockShard: ${shard} is not a shard`);
    const timeout =
      idleTimeoutMs === undefined
        ? ''
        : ` SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.floor(idleTimeoutMs))};`;
    const results = (await c.query(`BEGIN;${timeout} ${LOCK_SHARD_SQL(String(shard))}`)) as unknown as Array<
      QueryResult<{ tree_size: string; frontier: Buffer[] }>
    >;
    const { rows } = results[results.length - 1];
    // A new shard has no head row to lock yet: lockShard creates it.
    if (rows.length === 0) return this.lockShard(c, shard);
    return { shard, treeSize: Number(rows[0].tree_size), frontier: rows[0].frontier };
  }

  /**
   * Everything the append decides on, read under the shard lock in one statement: the stored
   * offset, the latest checkpoint size, the tenant heads and the partial tiles. Hashes travel as
   * hex inside json aggregates. Which of the batch's event ids the ledger already holds, in this
   * shard or another, claimEventIds finds (event_ids holds every stored id with its shard and
   * content hash), so this read does not probe records for them.
   */
  async batchState(
    c: PoolClient,
    q: { groupId: string; topic: string; partition: number; shard: number; tenants: string[] },
  ): Promise<BatchState> {
    const { rows } = await c.query<{
      next_offset: string | null;
      checkpoint_size: string | null;
      tenants: Array<[string, string, string]> | null;
      partials: Array<[number, string, string]> | null;
    }>({
      name: 'ledger-batch-state',
      text: `SELECT
         (SELECT next_offset FROM consumed_offsets WHERE shard = $4 AND group_id = $1 AND topic = $2 AND partition = $3) AS next_offset,
         (SELECT max(tree_size) FROM checkpoints WHERE shard = $4) AS checkpoint_size,
         (SELECT json_agg(json_build_array(tenant_id, next_seq::text, encode(last_leaf_hash, 'hex')))
            FROM tenant_heads WHERE shard = $4 AND tenant_id = ANY($5::text[])) AS tenants,
         (SELECT json_agg(json_build_array(level, idx::text, encode(hashes, 'hex'))) FROM merkle_partial_tiles WHERE shard = $4) AS partials`,
      values: [q.groupId, q.topic, q.partition, q.shard, q.tenants],
    });
    const r = rows[0];
    return {
      nextOffset: r.next_offset === null ? null : BigInt(r.next_offset),
      checkpointSize: r.checkpoint_size === null ? null : Number(r.checkpoint_size),
      tenantHeads: new Map(
        (r.tenants ?? []).map(([tenant, seq, hash]) => [
          tenant,
          { nextSeq: Number(seq), lastLeafHash: Buffer.from(hash, 'hex') },
        ]),
      ),
      partialTiles: new Map(
        (r.partials ?? []).map(([level, idx, hashes]) => [
          level,
          { level, index: Number(idx), hashes: Buffer.from(hashes, 'hex') },
        ]),
      ),
    };
  }

  /**
   * Closes an append in one statement: the shard head's compare-and-set on tree size (two
   * writers can never fork a shard: ShardForkError, and the caller rolls back), the consumed
   * offset's compare-and-set on the offset the append read (a writer whose view of the partition
   * is stale, say a consumer the group has rebalanced around, cannot store over the new owner's
   * progress: OffsetMovedError), the Merkle tiles
   * (full ones inserted for good, each level's partial one replaced or, once full, removed), the
   * tenant heads, the signed checkpoint and the traffic, finding and cost summaries (they
   * count exactly the records this transaction appends, so a redelivered batch adds nothing).
   */
  async closeBatch(c: PoolClient, b: BatchClose, offset: OffsetMove, records?: RecordRowSource[]): Promise<void> {
    const tenants = [...b.tenantHeads.keys()];
    const cp = b.checkpoint;
    const { full, partial, clearedLevels } = b.tiles;
    const inline = records !== undefined && records.length > 0;
    const { rows } = await c.query<{ advanced: string; consumed: string }>({
      name: inline ? 'ledger-close-batch-with-records' : 'ledger-close-batch',
      text: inline ? CLOSE_BATCH_WITH_RECORDS_SQL : CLOSE_BATCH_SQL,
      values: [
        b.shard,
        b.fromSize,
        b.head.treeSize,
        b.head.root,
        b.head.frontier,
        tenants,
        tenants.map((t) => b.tenantHeads.get(t)!.nextSeq),
        tenants.map((t) => b.tenantHeads.get(t)!.lastLeafHash),
        cp.signedAt,
        cp.kid,
        cp.jws,
        cp.prevTreeSize,
        cp.consistencyProof,
        offset.groupId,
        offset.topic,
        offset.partition,
        offset.nextOffset,
        full.map((t) => t.level),
        full.map((t) => t.index),
        full.map((t) => t.hashes),
        partial.map((t) => t.level),
        partial.map((t) => t.index),
        partial.map((t) => t.hashes),
        clearedLevels,
        summaryRowsParam(b.summaries),
        offset.expected,
        findingRowsParam(b.findingSummaries),
        costRowsParam(b.costSummaries),
        ...(inline ? inlineRecordParams(records) : []),
      ],
    });
    if (Number(rows[0].advanced) !== 1) throw new ShardForkError(b.shard, b.fromSize);
    if (Number(rows[0].consumed) !== 1) throw new OffsetMovedError(offset);
  }

  /**
   * Claims the batch's event ids for this shard, ledger-wide (event_ids), and returns the ones
   * the ledger already holds (in this shard or another), with their content hashes. Same
   * transaction as the append: a rollback releases the claims. A claim that meets one still in flight in another shard's
   * transaction waits for it (ON CONFLICT), so the second statement, with its own snapshot,
   * sees every id the first did not claim.
   */
  async claimEventIds(
    c: PoolClient,
    shard: number,
    claims: Array<{ eventId: string; contentSha256: Buffer }>,
  ): Promise<Map<string, Buffer>> {
    if (claims.length === 0) return new Map();
    // In event id order: two shards claiming overlapping ids then wait on each other, never deadlock.
    claims = [...claims].sort((x, y) => (x.eventId < y.eventId ? -1 : x.eventId > y.eventId ? 1 : 0));
    const { rows: claimed } = await c.query<{ event_id: string }>({
      name: 'ledger-claim-event-ids',
      text: `INSERT INTO event_ids (event_id, shard, content_sha256) SELECT e, $1, h FROM unnest($2::text[], $3::bytea[]) AS u(e, h)
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      values: [shard, claims.map((x) => x.eventId), claims.map((x) => x.contentSha256)],
    });
    if (claimed.length === claims.length) return new Map();
    const mine = new Set(claimed.map((r) => r.event_id));
    const taken = claims.filter((x) => !mine.has(x.eventId)).map((x) => x.eventId);
    const { rows } = await c.query<{ event_id: string; content_sha256: Buffer }>({
      name: 'ledger-claimed-elsewhere',
      text: 'SELECT event_id, content_sha256 FROM event_ids WHERE event_id = ANY($1::text[])',
      values: [taken],
    });
    if (rows.length !== taken.length) throw new EventIdClaimError(taken.length - rows.length);
    return new Map(rows.map((r) => [r.event_id, r.content_sha256]));
  }

  /** Stored next offsets of a topic, outside any transaction (used to seek on group join). */
  async storedOffsets(db: Pick<DataSource, 'query'>, groupId: string, topic: string): Promise<Map<number, string>> {
    const rows: Array<{ partition: number; next_offset: string }> = await db.query(
      'SELECT partition, next_offset FROM consumed_offsets WHERE group_id = $1 AND topic = $2',
      [groupId, topic],
    );
    return new Map(rows.map((r) => [r.partition, r.next_offset]));
  }

  async insertRecords(c: PoolClient, entries: PlannedEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.copy(c, recordsCopySql(), binaryCopyChunks(entries.map(recordCopyValues), RECORD_ROW_TYPE_LIST));
  }

  /** Stores the next offset of a batch that appends no record, with the same compare-and-set as closeBatch. */
  async storeOffset(c: PoolClient, shard: number, offset: OffsetMove): Promise<void> {
    const { rowCount } = await c.query(STORE_OFFSET_SQL('$1', '$2', '$3', '$4', '$5', '$6'), [
      shard,
      offset.groupId,
      offset.topic,
      offset.partition,
      offset.nextOffset,
      offset.expected,
    ]);
    if (rowCount !== 1) throw new OffsetMovedError(offset);
  }

  async quarantine(c: PoolClient, shard: number, rows: QuarantineRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.copy(
      c,
      'COPY quarantine (shard, reason_code, reason, event_id, existing_sha256, incoming_sha256, topic, partition, "offset", headers, payload) FROM STDIN',
      copyChunks(
        rows.map((q) => [
          shard,
          q.reasonCode,
          q.reason,
          q.eventId,
          q.existingSha256,
          q.incomingSha256,
          q.topic,
          q.partition,
          q.offset,
          JSON.stringify(q.headers),
          q.payload,
        ]),
      ),
    );
  }

  /**
   * A proof node reader inside the caller's transaction; `pending` are tiles this transaction
   * will write (closeBatch), read before the stored ones.
   */
  nodeReader(c: Pick<PoolClient, 'query'>, shard: number, pending?: TileWrites): NodeReader {
    const overlay = new Map([...(pending?.full ?? []), ...(pending?.partial ?? [])].map((t) => [tileKey(t), t]));
    return merkleNodeReader(async (sql, params) => (await c.query(sql, params)).rows, shard, overlay, this.tiles);
  }

  /** Sends an encoded COPY body (copyChunks or binaryCopyChunks) for `sql`. */
  private async copy(c: PoolClient, sql: string, body: Buffer[]): Promise<void> {
    await pipeline(Readable.from(body), c.query(copyFrom(sql)));
  }
}

/** The inline records' parameters of the closing statement: INLINE_COLUMNS' arrays, then the joined texts. */
function inlineRecordParams(records: RecordRowSource[]): unknown[] {
  const columns: CopyValue[][] = INLINE_COLUMNS.map(() => new Array<CopyValue>(records.length));
  const texts: string[] = new Array<string>(records.length);
  const at = INLINE_COLUMNS.map(([name]) => RECORD_ROW_COLUMNS.indexOf(name));
  const signals = RECORD_ROW_COLUMNS.indexOf('signals');
  for (let i = 0; i < records.length; i++) {
    const row = recordCopyValues(records[i]);
    for (let k = 0; k < at.length; k++) {
      const v = row[at[k]];
      columns[k][i] = at[k] === signals ? textArrayLiteral((v ?? []) as string[]) : v;
    }
    texts[i] = records[i].record.json;
  }
  return [...columns, texts.join('\x1f')];
}

export class ShardForkError extends AppError {
  readonly code = 'SHARD_FORK';
  override readonly retriable = true;
  constructor(shard: number, expectedSize: number) {
    super(`shard ${shard} head moved away from tree size ${expectedSize}: another writer appended first`);
  }
}

/**
 * The partition's stored offset is no longer the one the append read: another writer stored
 * progress first. Retrying re-reads it under the shard lock (and skips what is already stored).
 */
export class OffsetMovedError extends AppError {
  readonly code = 'OFFSET_MOVED';
  override readonly retriable = true;
  constructor(offset: OffsetMove) {
    super(
      `${offset.topic}/${offset.partition}: stored offset moved away from ${offset.expected ?? 'none'} before this append could store ${offset.nextOffset}: another writer consumed the partition`,
    );
  }
}

/** An event id was neither claimed nor found claimed: cannot happen under READ COMMITTED; retried. */
export class EventIdClaimError extends AppError {
  readonly code = 'EVENT_ID_CLAIM';
  override readonly retriable = true;
  constructor(missing: number) {
    super(`${missing} event id(s) neither claimed by this shard nor found in event_ids`);
  }
}
