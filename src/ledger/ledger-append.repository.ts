import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, type CopyValue } from '../database/copy-text.js';
import type { NodeId } from '../domain/merkle/append.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import { merkleNodeReader } from './merkle-node-store.js';
import { EMPTY_ROOT } from '../domain/merkle/hasher.js';
import type { AppendPlan, ShardHead, TenantHead } from './append-plan.js';
import type { Signal } from '../domain/record/derive-signals.js';

/**
 * SQL of the append transaction. Every method runs on the caller's client inside the
 * caller's transaction; none commits.
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

export interface RecordRow {
  planned: AppendPlan['entries'][number];
  contentSha256: Buffer;
  signals: Signal[];
}

export class LedgerAppendRepository {
  /** Locks the shard head row for this transaction, creating it for a new shard. */
  async lockShard(c: PoolClient, shard: number): Promise<ShardHead> {
    await c.query('INSERT INTO shard_heads (shard, tree_size, root_hash) VALUES ($1, 0, $2) ON CONFLICT (shard) DO NOTHING', [shard, EMPTY_ROOT]);
    const { rows } = await c.query<{ tree_size: string; frontier: Buffer[] }>(
      'SELECT tree_size, frontier FROM shard_heads WHERE shard = $1 FOR UPDATE',
      [shard],
    );
    return { shard, treeSize: Number(rows[0].tree_size), frontier: rows[0].frontier };
  }

  async nextOffset(c: PoolClient, groupId: string, topic: string, partition: number): Promise<bigint | null> {
    const { rows } = await c.query<{ next_offset: string }>(
      'SELECT next_offset FROM consumed_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [groupId, topic, partition],
    );
    return rows.length ? BigInt(rows[0].next_offset) : null;
  }

  /** Stored next offsets of a topic, outside any transaction (used to seek on group join). */
  async storedOffsets(db: Pick<DataSource, 'query'>, groupId: string, topic: string): Promise<Map<number, string>> {
    const rows: Array<{ partition: number; next_offset: string }> = await db.query(
      'SELECT partition, next_offset FROM consumed_offsets WHERE group_id = $1 AND topic = $2',
      [groupId, topic],
    );
    return new Map(rows.map((r) => [r.partition, r.next_offset]));
  }

  /** content hashes of the given event ids that are already in the ledger. */
  async existingContentHashes(c: PoolClient, eventIds: string[]): Promise<Map<string, Buffer>> {
    if (eventIds.length === 0) return new Map();
    const { rows } = await c.query<{ event_id: string; content_sha256: Buffer }>(
      'SELECT event_id, content_sha256 FROM records WHERE event_id = ANY($1::text[])',
      [eventIds],
    );
    return new Map(rows.map((r) => [r.event_id, r.content_sha256]));
  }

  async tenantHeads(c: PoolClient, shard: number, tenants: string[]): Promise<Map<string, TenantHead>> {
    if (tenants.length === 0) return new Map();
    const { rows } = await c.query<{ tenant_id: string; next_seq: string; last_leaf_hash: Buffer }>(
      'SELECT tenant_id, next_seq, last_leaf_hash FROM tenant_heads WHERE shard = $1 AND tenant_id = ANY($2::text[])',
      [shard, tenants],
    );
    return new Map(rows.map((r) => [r.tenant_id, { nextSeq: Number(r.next_seq), lastLeafHash: r.last_leaf_hash }]));
  }

  async insertRecords(c: PoolClient, rows: RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.copy(
      c,
      `COPY records (event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, content_sha256,
        occurred_at, received_at, request_id, trace_id, gateway_id, requested_model, resolved_model, provider,
        region_served, fallback_used, cache_status, outcome_status, signals, record, kafka_topic, kafka_partition, kafka_offset)
       FROM STDIN`,
      rows.map(({ planned: { record: r, entry, leafHash }, contentSha256, signals }) => [
        r.event_id, entry.shard, entry.index, entry.tenant_id, entry.tenant_seq,
        entry.tenant_prev === null ? null : Buffer.from(entry.tenant_prev, 'hex'), leafHash, contentSha256,
        r.occurred_at, r.received_at ?? r.occurred_at, r.request_id, r.trace_id, r.gateway.id, r.requested_model,
        r.resolved_model?.value, r.provider, r.region?.served,
        r.fallback_used === undefined ? null : String(r.fallback_used), r.cache?.status, r.outcome.status,
        signals, JSON.stringify(r), r.source.topic, r.source.partition, r.source.offset,
      ]),
    );
  }

  async insertNodes(c: PoolClient, shard: number, nodes: Array<NodeId & { hash: Buffer }>): Promise<void> {
    if (nodes.length === 0) return;
    await this.copy(c, 'COPY merkle_nodes (shard, level, idx, hash) FROM STDIN', nodes.map((n) => [shard, n.level, n.index, n.hash]));
  }

  /** Compare-and-set on tree size: two writers can never fork a shard. */
  async advanceShardHead(c: PoolClient, fromSize: number, head: AppendPlan['head']): Promise<void> {
    const res = await c.query(
      'UPDATE shard_heads SET tree_size = $3, root_hash = $4, frontier = $5, updated_at = now() WHERE shard = $1 AND tree_size = $2',
      [head.shard, fromSize, head.treeSize, head.root, head.frontier],
    );
    if (res.rowCount !== 1) throw new ShardForkError(head.shard, fromSize);
  }

  async upsertTenantHeads(c: PoolClient, shard: number, heads: Map<string, TenantHead>): Promise<void> {
    if (heads.size === 0) return;
    const tenants = [...heads.keys()];
    await c.query(
      `INSERT INTO tenant_heads (shard, tenant_id, next_seq, last_leaf_hash)
       SELECT $1, t, s, h FROM unnest($2::text[], $3::bigint[], $4::bytea[]) AS u(t, s, h)
       ON CONFLICT (shard, tenant_id) DO UPDATE SET next_seq = EXCLUDED.next_seq, last_leaf_hash = EXCLUDED.last_leaf_hash`,
      [shard, tenants, tenants.map((t) => heads.get(t)!.nextSeq), tenants.map((t) => heads.get(t)!.lastLeafHash)],
    );
  }

  async storeOffset(c: PoolClient, groupId: string, topic: string, partition: number, nextOffset: string): Promise<void> {
    await c.query(
      `INSERT INTO consumed_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`,
      [groupId, topic, partition, nextOffset],
    );
  }

  async quarantine(c: PoolClient, rows: QuarantineRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.copy(
      c,
      'COPY quarantine (reason_code, reason, event_id, existing_sha256, incoming_sha256, topic, partition, "offset", headers, payload) FROM STDIN',
      rows.map((q) => [q.reasonCode, q.reason, q.eventId, q.existingSha256, q.incomingSha256, q.topic, q.partition, q.offset, JSON.stringify(q.headers), q.payload]),
    );
  }

  async latestCheckpointSize(c: PoolClient, shard: number): Promise<number | null> {
    const { rows } = await c.query<{ tree_size: string }>('SELECT max(tree_size) AS tree_size FROM checkpoints WHERE shard = $1', [shard]);
    return rows[0]?.tree_size == null ? null : Number(rows[0].tree_size);
  }

  async insertCheckpoint(c: PoolClient, cp: StoredCheckpointRow): Promise<void> {
    await c.query(
      `INSERT INTO checkpoints (shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [cp.shard, cp.treeSize, cp.rootHash, cp.signedAt, cp.kid, cp.jws, cp.prevTreeSize, cp.consistencyProof],
    );
  }

  /** A proof node reader inside the caller's transaction (it sees this batch's nodes). */
  nodeReader(c: Pick<PoolClient, 'query'>, shard: number): NodeReader {
    return merkleNodeReader(async (sql, params) => (await c.query(sql, params)).rows, shard);
  }

  private async copy(c: PoolClient, sql: string, rows: CopyValue[][]): Promise<void> {
    const body = rows.map(copyLine).join('');
    await pipeline(Readable.from([body]), c.query(copyFrom(sql)));
  }
}

export class ShardForkError extends Error {
  readonly code = 'SHARD_FORK';
  readonly retriable = true;
  constructor(shard: number, expectedSize: number) {
    super(`shard ${shard} head moved away from tree size ${expectedSize}: another writer appended first`);
  }
}
