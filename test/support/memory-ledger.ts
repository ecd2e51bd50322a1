import { signCheckpoint } from '../../src/domain/checkpoint/checkpoint-jws.js';
import { jwksEntry, type Jwks, type SigningKey } from '../../src/domain/checkpoint/signing-key.js';
import { occurredAt } from '../../src/domain/bundle/bundle-format.js';
import { ledgerEntryLeafHash, type LedgerEntry } from '../../src/domain/ledger-entry/ledger-entry.js';
import { appendLeaves } from '../../src/domain/merkle/append.js';
import type { NodeReader } from '../../src/domain/merkle/prover.js';
import { nodeKey } from '../../src/domain/merkle/range.js';
import type { BundleSource, SourceCheckpoint, SourceEntry } from '../../src/export/bundle-source.js';

interface Shard {
  entries: SourceEntry[];
  nodes: Map<string, Buffer>;
  frontier: Buffer[];
  checkpoints: SourceCheckpoint[];
  tenants: Map<string, { next: number; last: Buffer }>;
}

/**
 * A ledger in memory, built with the same domain functions as the real append path (entries,
 * tenant chains, Merkle nodes, one signed checkpoint per batch), serving a BundleSource. For
 * unit tests of the bundle writer and verifier, and for benchmarks without a database.
 */
export class MemoryLedger implements BundleSource {
  readonly shards = new Map<number, Shard>();
  private clock = Date.parse('2026-06-01T00:00:00.000Z');

  constructor(
    readonly key: SigningKey,
    readonly origin = 'test.ledger/unit',
    readonly validFrom = '2026-01-01T00:00:00.000Z',
  ) {}

  /** Appends one batch of records (each with tenant_id and event_id) to a shard and signs a checkpoint. */
  async appendBatch(
    shardNo: number,
    records: Array<Record<string, unknown> & { tenant_id: string; event_id: string }>,
  ): Promise<void> {
    const shard = this.shard(shardNo);
    const leaves: Buffer[] = [];
    for (const record of records) {
      const head = shard.tenants.get(record.tenant_id);
      const entry: LedgerEntry = {
        v: 1,
        shard: shardNo,
        index: shard.entries.length,
        tenant_id: record.tenant_id,
        tenant_seq: head?.next ?? 0,
        tenant_prev: head ? head.last.toString('hex') : null,
        record,
      };
      const leaf = ledgerEntryLeafHash(entry);
      shard.tenants.set(record.tenant_id, { next: entry.tenant_seq + 1, last: leaf });
      shard.entries.push({ eventId: record.event_id, entry, leafHash: leaf });
      leaves.push(leaf);
    }
    const appended = appendLeaves({ treeSize: shard.entries.length - leaves.length, frontier: shard.frontier }, leaves);
    for (const n of appended.nodes) shard.nodes.set(nodeKey(n), n.hash);
    shard.frontier = appended.frontier;
    this.clock += 1000;
    const timestamp = new Date(this.clock).toISOString();
    const jws = await signCheckpoint(
      {
        origin: this.origin,
        shard: shardNo,
        tree_size: appended.treeSize,
        root_hash: appended.root.toString('hex'),
        timestamp,
      },
      this.key,
    );
    shard.checkpoints.push({ shard: shardNo, treeSize: appended.treeSize, jws });
  }

  async anchors(): Promise<SourceCheckpoint[]> {
    return [...this.shards.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, s]) => s.checkpoints.length > 0)
      .map(([, s]) => s.checkpoints[s.checkpoints.length - 1]);
  }

  async jwks(): Promise<Jwks> {
    return { keys: [jwksEntry(this.key, this.validFrom)] };
  }

  async tenantChainLength(shard: number, tenant: string, treeSize: number): Promise<number> {
    return this.tenantEntries(shard, tenant, treeSize).length;
  }

  async inRangeSeqBounds(shard: number, tenant: string, from: string, to: string, treeSize: number) {
    const seqs = this.tenantEntries(shard, tenant, treeSize)
      .filter((e) => {
        const at = occurredAt(e.entry.record);
        return at !== undefined && at >= Date.parse(from) && at < Date.parse(to);
      })
      .map((e) => e.entry.tenant_seq);
    return seqs.length === 0 ? null : { min: Math.min(...seqs), max: Math.max(...seqs) };
  }

  async lastSeqBefore(shard: number, tenant: string, from: string, treeSize: number): Promise<number | null> {
    const seqs = this.tenantEntries(shard, tenant, treeSize)
      .filter((e) => (occurredAt(e.entry.record) ?? Infinity) < Date.parse(from))
      .map((e) => e.entry.tenant_seq);
    return seqs.length === 0 ? null : Math.max(...seqs);
  }

  async chainPage(
    shard: number,
    tenant: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<SourceEntry[]> {
    return this.tenantEntries(shard, tenant, Infinity)
      .filter((e) => e.entry.tenant_seq >= fromSeq && e.entry.tenant_seq <= toSeq)
      .slice(0, limit);
  }

  async coveringCheckpoints(shard: number, indexes: number[], maxSize: number): Promise<SourceCheckpoint[]> {
    const cps = this.shard(shard).checkpoints;
    return indexes.map((i) => cps.find((c) => c.treeSize > i && c.treeSize <= maxSize)!);
  }

  nodeReader(shard: number): NodeReader {
    const nodes = this.shard(shard).nodes;
    return async (ids) =>
      ids.map((id) => {
        const h = nodes.get(nodeKey(id));
        if (!h) throw new Error(`missing node ${nodeKey(id)}`);
        return h;
      });
  }

  private tenantEntries(shard: number, tenant: string, treeSize: number): SourceEntry[] {
    return this.shard(shard).entries.filter((e) => e.entry.tenant_id === tenant && e.entry.index < treeSize);
  }

  private shard(n: number): Shard {
    let s = this.shards.get(n);
    if (!s) {
      s = { entries: [], nodes: new Map(), frontier: [], checkpoints: [], tenants: new Map() };
      this.shards.set(n, s);
    }
    return s;
  }
}
