import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import type { LedgerEntry } from '../domain/ledger-entry/ledger-entry.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import { LedgerReadRepository } from '../ledger/ledger-read.repository.js';
import type { BundleSource, SourceCheckpoint, SourceEntry } from './bundle-source.js';

interface ChainDbRow {
  event_id: string;
  shard: number;
  leaf_index: string;
  tenant_id: string;
  tenant_seq: string;
  tenant_prev: Buffer | null;
  leaf_hash: Buffer;
  record: object;
}

/**
 * The ledger reads an export needs (SQL only). Every query is bounded by the anchor's tree
 * size, so an export reads one snapshot while ingestion appends. Chain reads are keyset pages
 * on the records_tenant_chain_key index (shard, tenant_id, tenant_seq); range bounds use
 * records_tenant_time_idx (tenant_id, occurred_at).
 */
@Injectable()
export class ExportSourceRepository {
  constructor(
    private readonly db: DataSource,
    private readonly ledger: LedgerReadRepository,
  ) {}

  /** A BundleSource over this database, with `jwks` as the published keys. */
  source(jwks: () => Promise<Jwks>): BundleSource {
    return {
      anchors: () => this.anchors(),
      jwks,
      tenantChainLength: (s, t, n) => this.tenantChainLength(s, t, n),
      inRangeSeqBounds: (s, t, f, to, n) => this.inRangeSeqBounds(s, t, f, to, n),
      lastSeqBefore: (s, t, f, n) => this.lastSeqBefore(s, t, f, n),
      chainPage: (s, t, a, b, l) => this.chainPage(s, t, a, b, l),
      coveringCheckpoints: (s, i, m) => this.coveringCheckpoints(s, i, m),
      nodeReader: (s) => this.nodeReader(s),
    };
  }

  async anchors(): Promise<SourceCheckpoint[]> {
    return (await this.ledger.latestCheckpoints()).map((c) => ({ shard: c.shard, treeSize: c.treeSize, jws: c.jws }));
  }

  async tenantChainLength(shard: number, tenant: string, treeSize: number): Promise<number> {
    const rows: Array<{ tenant_seq: string }> = await this.db.query(
      `SELECT tenant_seq FROM records WHERE shard = $1 AND tenant_id = $2 AND leaf_index < $3 ORDER BY tenant_seq DESC LIMIT 1`,
      [shard, tenant, treeSize],
    );
    return rows.length === 0 ? 0 : Number(rows[0].tenant_seq) + 1;
  }

  async inRangeSeqBounds(shard: number, tenant: string, from: string, to: string, treeSize: number): Promise<{ min: number; max: number } | null> {
    const rows: Array<{ min: string | null; max: string | null }> = await this.db.query(
      `SELECT min(tenant_seq) AS min, max(tenant_seq) AS max FROM records
       WHERE tenant_id = $2 AND occurred_at >= $3 AND occurred_at < $4 AND shard = $1 AND leaf_index < $5`,
      [shard, tenant, from, to, treeSize],
    );
    return rows[0]?.min == null ? null : { min: Number(rows[0].min), max: Number(rows[0].max) };
  }

  async lastSeqBefore(shard: number, tenant: string, from: string, treeSize: number): Promise<number | null> {
    const rows: Array<{ max: string | null }> = await this.db.query(
      `SELECT max(tenant_seq) AS max FROM records WHERE tenant_id = $2 AND occurred_at < $3 AND shard = $1 AND leaf_index < $4`,
      [shard, tenant, from, treeSize],
    );
    return rows[0]?.max == null ? null : Number(rows[0].max);
  }

  async chainPage(shard: number, tenant: string, fromSeq: number, toSeq: number, limit: number): Promise<SourceEntry[]> {
    const rows: ChainDbRow[] = await this.db.query(
      `SELECT event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, record FROM records
       WHERE shard = $1 AND tenant_id = $2 AND tenant_seq >= $3 AND tenant_seq <= $4 ORDER BY tenant_seq LIMIT $5`,
      [shard, tenant, fromSeq, toSeq, limit],
    );
    return rows.map(toSourceEntry);
  }

  async coveringCheckpoints(shard: number, indexes: number[], maxSize: number): Promise<SourceCheckpoint[]> {
    if (indexes.length === 0) return [];
    const sizes: Array<{ ord: string; tree_size: string | null }> = await this.db.query(
      `SELECT i.ord, (SELECT c.tree_size FROM checkpoints c WHERE c.shard = $1 AND c.tree_size > i.idx AND c.tree_size <= $3 ORDER BY c.tree_size LIMIT 1) AS tree_size
       FROM unnest($2::bigint[]) WITH ORDINALITY AS i(idx, ord) ORDER BY i.ord`,
      [shard, indexes, maxSize],
    );
    const wanted = [...new Set(sizes.filter((s) => s.tree_size !== null).map((s) => s.tree_size as string))];
    const rows: Array<{ tree_size: string; jws: string }> = wanted.length === 0 ? [] : await this.db.query(
      `SELECT tree_size, jws FROM checkpoints WHERE shard = $1 AND tree_size = ANY($2::bigint[])`,
      [shard, wanted],
    );
    const bySize = new Map(rows.map((r) => [r.tree_size, { shard, treeSize: Number(r.tree_size), jws: r.jws }]));
    return sizes.map((s) => (s.tree_size === null ? undefined : bySize.get(s.tree_size))) as SourceCheckpoint[];
  }

  nodeReader(shard: number): NodeReader {
    return async (ids) => {
      const hashes = await this.ledger.readNodes(shard, ids);
      return hashes.map((h, i) => {
        if (!h) throw new Error(`merkle node missing: shard ${shard} level ${ids[i].level} index ${ids[i].index}`);
        return h;
      });
    };
  }
}

/** The ledger entry exactly as it was hashed, from the stored columns and record. */
function toSourceEntry(r: ChainDbRow): SourceEntry {
  const entry: LedgerEntry = {
    v: 1,
    shard: r.shard,
    index: Number(r.leaf_index),
    tenant_id: r.tenant_id,
    tenant_seq: Number(r.tenant_seq),
    tenant_prev: r.tenant_prev ? r.tenant_prev.toString('hex') : null,
    record: r.record,
  };
  return { eventId: r.event_id, entry, leafHash: r.leaf_hash };
}
