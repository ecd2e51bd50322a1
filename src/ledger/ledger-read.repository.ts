import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { NodeId } from '../domain/merkle/range.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import { TileCache, merkleNodeReader, readMerkleNodes } from './merkle-node-store.js';
import type { StoredCheckpoint, StoredEntryRow } from '../domain/verification/shard-verifier.js';
import { entryFromRow, type EntryDbRow } from './entry-row.js';

// Defined apart (no Nest, no TypeORM) so the standalone export can use them; re-exported for the existing importers.
export { entryFromRow, type EntryDbRow };

export interface CheckpointRow extends StoredCheckpoint {
  shard: number;
  signedAt: Date;
  kid: string;
}

type RecordDbRow = EntryDbRow;

/** Read-side SQL of the ledger: entries, nodes, checkpoints. */
@Injectable()
export class LedgerReadRepository {
  /** Full tiles' subtrees for proofs and receipts (never for verification: readNodes reads the database). */
  private readonly tiles = new TileCache();

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

  /**
   * entries() plus the query columns stored beside each record (see record-columns.ts), for
   * full verification: one read serves the hash checks and the column check.
   */
  async entriesWithColumns(
    shard: number,
    from: number,
    to: number,
  ): Promise<Array<{ row: StoredEntryRow; columns: Record<string, unknown> }>> {
    const rows: Array<RecordDbRow & Record<string, unknown>> = await this.db.query(
      `SELECT event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, record,
              occurred_at, received_at, request_id, trace_id, gateway_id, requested_model, resolved_model, provider,
              region_served, fallback_used, cache_status, outcome_status, signals, kafka_topic, kafka_partition, kafka_offset
       FROM records WHERE shard = $1 AND leaf_index >= $2 AND leaf_index < $3 ORDER BY leaf_index`,
      [shard, from, to],
    );
    return rows.map((r) => ({ row: toEntryRow(r), columns: r }));
  }

  /**
   * The first record of the shard outside its tree: at or beyond the head's tree size (read in
   * the same statement, so a concurrent append, which moves both in one transaction, is never
   * mistaken for one) or at a negative index. A verification that walks 0..size-1 cannot see it.
   */
  async firstRecordOutsideTree(
    shard: number,
  ): Promise<{ eventId: string; leafIndex: number; treeSize: number } | undefined> {
    const rows: Array<{ event_id: string; leaf_index: string; tree_size: string }> = await this.db.query(
      `SELECT r.event_id, r.leaf_index, h.tree_size FROM records r JOIN shard_heads h ON h.shard = r.shard
       WHERE r.shard = $1 AND (r.leaf_index >= h.tree_size OR r.leaf_index < 0) ORDER BY r.leaf_index LIMIT 1`,
      [shard],
    );
    return (
      rows[0] && {
        eventId: rows[0].event_id,
        leafIndex: Number(rows[0].leaf_index),
        treeSize: Number(rows[0].tree_size),
      }
    );
  }

  /**
   * The first stored Merkle tile hash the shard's tree cannot have, as the tree node it would be:
   * at tile level L the tree of size n has floor(n / 256^L) hashes, so a full tile, or a partial
   * one wider than that, holds nodes beyond the tree. A stray tile is never served by a proof,
   * but the append that reaches its position fails on the primary key.
   */
  async firstNodeOutsideTree(shard: number): Promise<{ level: number; index: number } | undefined> {
    const rows: Array<{ level: number; first: string }> = await this.db.query(
      `SELECT t.level, greatest(t.idx * 256, floor(h.tree_size / (256::numeric ^ t.level)))::bigint AS first
       FROM (SELECT level, idx, length(hashes) / 32 AS width FROM merkle_tiles WHERE shard = $1
             UNION ALL SELECT level, idx, length(hashes) / 32 FROM merkle_partial_tiles WHERE shard = $1) t
       JOIN shard_heads h ON h.shard = $1
       WHERE t.level < 0 OR t.level > 7 OR t.idx < 0 OR t.idx * 256 + t.width > floor(h.tree_size / (256::numeric ^ t.level))
       ORDER BY t.level, t.idx LIMIT 1`,
      [shard],
    );
    return rows[0] && { level: rows[0].level * 8, index: Number(rows[0].first) };
  }

  /** Records and tiles filed under a shard that has no head: outside every tree. */
  async rowsOfUnknownShards(): Promise<Array<{ shard: number; what: string; eventId?: string; leafIndex?: number }>> {
    const records: Array<{ shard: number; event_id: string; leaf_index: string }> = await this.db.query(
      `SELECT DISTINCT ON (shard) shard, event_id, leaf_index FROM records WHERE shard NOT IN (SELECT shard FROM shard_heads) ORDER BY shard, leaf_index`,
    );
    const tiles: Array<{ shard: number; n: string }> = await this.db.query(
      `SELECT shard, count(*) AS n FROM (SELECT shard FROM merkle_tiles UNION ALL SELECT shard FROM merkle_partial_tiles) t
       WHERE shard NOT IN (SELECT shard FROM shard_heads) GROUP BY shard ORDER BY shard`,
    );
    return [
      ...records.map((r) => ({ shard: r.shard, what: 'record', eventId: r.event_id, leafIndex: Number(r.leaf_index) })),
      ...tiles.map((n) => ({ shard: n.shard, what: `${n.n} Merkle tile(s)` })),
    ];
  }

  readNodes(shard: number, ids: NodeId[]): Promise<Array<Buffer | undefined>> {
    return readMerkleNodes((sql, params) => this.db.query(sql, params), shard, ids);
  }

  nodeReader(shard: number): NodeReader {
    return merkleNodeReader((sql, params) => this.db.query(sql, params), shard, undefined, this.tiles);
  }

  async shards(): Promise<Array<{ shard: number; treeSize: number; rootHash: Buffer }>> {
    const rows: Array<{ shard: number; tree_size: string; root_hash: Buffer }> = await this.db.query(
      'SELECT shard, tree_size, root_hash FROM shard_heads ORDER BY shard',
    );
    return rows.map((r) => ({ shard: r.shard, treeSize: Number(r.tree_size), rootHash: r.root_hash }));
  }

  async checkpoints(
    shard: number,
    opts: { minSize?: number; limit?: number; order?: 'asc' | 'desc' } = {},
  ): Promise<CheckpointRow[]> {
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
    shard: r.shard,
    treeSize: Number(r.tree_size),
    rootHash: r.root_hash,
    signedAt: r.signed_at,
    kid: r.kid,
    jws: r.jws,
    prevTreeSize: r.prev_tree_size === null ? null : Number(r.prev_tree_size),
    consistencyProof: r.consistency_proof,
  };
}

function toEntryRow(r: RecordDbRow): StoredEntryRow {
  return { eventId: r.event_id, entry: entryFromRow(r), storedLeafHash: r.leaf_hash };
}
