import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LedgerEntry } from '../domain/ledger-entry/ledger-entry.js';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import type { NodeId } from '../domain/merkle/range.js';
import type { StoredCheckpoint, StoredEntryRow } from '../domain/verification/shard-verifier.js';

export interface CheckpointRow extends StoredCheckpoint {
  shard: number;
  signedAt: Date;
  kid: string;
}

interface RecordDbRow {
  event_id: string;
  shard: number;
  leaf_index: string;
  tenant_id: string;
  tenant_seq: string;
  tenant_prev: Buffer | null;
  leaf_hash: Buffer;
  record: CanonicalRecord;
}

/** Read-side SQL of the ledger: entries, nodes, checkpoints. */
@Injectable()
export class LedgerReadRepository {
  constructor(private readonly db: DataSource) {}

  async entryByEventId(eventId: string): Promise<StoredEntryRow | undefined> {
    const rows: RecordDbRow[] = await this.db.query(
      'SELECT event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, record FROM records WHERE event_id = $1',
      [eventId],
    );
    return rows[0] && toEntryRow(rows[0]);
  }

  /** Entries of a shard with leaf_index in [from, to), in leaf order. */
  async entries(shard: number, from: number, to: number): Promise<StoredEntryRow[]> {
    const rows: RecordDbRow[] = await this.db.query(
      `SELECT event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, record FROM records
       WHERE shard = $1 AND leaf_index >= $2 AND leaf_index < $3 ORDER BY leaf_index`,
      [shard, from, to],
    );
    return rows.map(toEntryRow);
  }

  async readNodes(shard: number, ids: NodeId[]): Promise<Array<Buffer | undefined>> {
    if (ids.length === 0) return [];
    const rows: Array<{ level: number; idx: string; hash: Buffer }> = await this.db.query(
      `SELECT n.level, n.idx, n.hash FROM merkle_nodes n
       JOIN unnest($2::smallint[], $3::bigint[]) AS want(level, idx) ON n.level = want.level AND n.idx = want.idx
       WHERE n.shard = $1`,
      [shard, ids.map((i) => i.level), ids.map((i) => i.index)],
    );
    const byKey = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
    return ids.map((id) => byKey.get(`${id.level}/${id.index}`));
  }

  async shards(): Promise<Array<{ shard: number; treeSize: number; rootHash: Buffer }>> {
    const rows: Array<{ shard: number; tree_size: string; root_hash: Buffer }> = await this.db.query('SELECT shard, tree_size, root_hash FROM shard_heads ORDER BY shard');
    return rows.map((r) => ({ shard: r.shard, treeSize: Number(r.tree_size), rootHash: r.root_hash }));
  }

  async checkpoints(shard: number, opts: { minSize?: number; limit?: number; order?: 'asc' | 'desc' } = {}): Promise<CheckpointRow[]> {
    const rows: CheckpointDbRow[] = await this.db.query(
      `SELECT shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof FROM checkpoints
       WHERE shard = $1 AND tree_size >= $2 ORDER BY tree_size ${opts.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $3`,
      [shard, opts.minSize ?? 0, opts.limit ?? 1000],
    );
    return rows.map(toCheckpointRow);
  }

  async latestCheckpoints(): Promise<CheckpointRow[]> {
    const rows: CheckpointDbRow[] = await this.db.query(
      `SELECT DISTINCT ON (shard) shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof
       FROM checkpoints ORDER BY shard, tree_size DESC`,
    );
    return rows.map(toCheckpointRow);
  }

  /** The first checkpoint of the shard covering the leaf (tree_size > leafIndex). */
  async checkpointCovering(shard: number, leafIndex: number): Promise<CheckpointRow | undefined> {
    const rows: CheckpointDbRow[] = await this.db.query(
      `SELECT shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof FROM checkpoints
       WHERE shard = $1 AND tree_size > $2 ORDER BY tree_size LIMIT 1`,
      [shard, leafIndex],
    );
    return rows[0] && toCheckpointRow(rows[0]);
  }

  async checkpointAt(shard: number, treeSize: number): Promise<CheckpointRow | undefined> {
    const rows: CheckpointDbRow[] = await this.db.query(
      `SELECT shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof FROM checkpoints WHERE shard = $1 AND tree_size = $2`,
      [shard, treeSize],
    );
    return rows[0] && toCheckpointRow(rows[0]);
  }
}

interface CheckpointDbRow {
  shard: number;
  tree_size: string;
  root_hash: Buffer;
  signed_at: Date;
  kid: string;
  jws: string;
  prev_tree_size: string | null;
  consistency_proof: Buffer[];
}

function toCheckpointRow(r: CheckpointDbRow): CheckpointRow {
  return {
    shard: r.shard, treeSize: Number(r.tree_size), rootHash: r.root_hash, signedAt: r.signed_at, kid: r.kid, jws: r.jws,
    prevTreeSize: r.prev_tree_size === null ? null : Number(r.prev_tree_size), consistencyProof: r.consistency_proof,
  };
}

/** Rebuilds the ledger entry exactly as it was hashed, from the stored columns and record. */
function toEntryRow(r: RecordDbRow): StoredEntryRow {
  const entry: LedgerEntry = {
    v: 1,
    shard: r.shard,
    index: Number(r.leaf_index),
    tenant_id: r.tenant_id,
    tenant_seq: Number(r.tenant_seq),
    tenant_prev: r.tenant_prev ? r.tenant_prev.toString('hex') : null,
    record: r.record,
  };
  return { eventId: r.event_id, entry, storedLeafHash: r.leaf_hash };
}
