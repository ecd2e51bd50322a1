import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { entryFromRow, type EntryDbRow } from '../ledger/ledger-read.repository.js';
import type { LedgerEntry } from '../domain/ledger-entry/ledger-entry.js';

/** Read-side SQL of the tiled-log API: shards, tiles, the entries a bundle is made of. */
@Injectable()
export class TlogRepository {
  constructor(private readonly db: DataSource) {}

  async shards(): Promise<number[]> {
    const rows: Array<{ shard: number }> = await this.db.query('SELECT shard FROM shard_heads ORDER BY shard');
    return rows.map((r) => r.shard);
  }

  /**
   * Tile (level, index) of a shard as stored: the full tile when there is one, else the
   * right-edge partial tile when it is this one. The full tile wins: a partial row is removed in
   * the transaction that writes the full tile, but a reader must not care.
   */
  async tile(shard: number, level: number, index: number): Promise<{ hashes: Buffer; full: boolean } | undefined> {
    const rows: Array<{ hashes: Buffer; full: boolean }> = await this.db.query(
      `SELECT hashes, true AS full FROM merkle_tiles WHERE shard = $1 AND level = $2 AND idx = $3
       UNION ALL
       SELECT hashes, false FROM merkle_partial_tiles WHERE shard = $1 AND level = $2 AND idx = $3`,
      [shard, level, String(index)],
    );
    return rows.find((r) => r.full) ?? rows[0];
  }

  /**
   * Entries [from, to) of a shard that are inside its tree (below the head's size, read in the
   * same statement), with the record's stored canonical text and the stored leaf hash.
   */
  async entries(
    shard: number,
    from: number,
    to: number,
  ): Promise<Array<{ entry: LedgerEntry; recordJson: string; leafHash: Buffer }>> {
    const rows: Array<EntryDbRow & { record: string }> = await this.db.query(
      `SELECT r.event_id, r.shard, r.leaf_index, r.tenant_id, r.tenant_seq, r.tenant_prev, r.leaf_hash, r.record
       FROM records r JOIN shard_heads h ON h.shard = r.shard
       WHERE r.shard = $1 AND r.leaf_index >= $2 AND r.leaf_index < $3 AND r.leaf_index < h.tree_size
       ORDER BY r.leaf_index`,
      [shard, String(from), String(to)],
    );
    return rows.map((r) => ({ entry: entryFromRow(r), recordJson: r.record, leafHash: r.leaf_hash }));
  }
}
