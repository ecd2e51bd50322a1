/**
 * completeness.jsonl: per shard, the segment of the tenant's chain the range covers and its
 * proven neighbours just outside it (docs/bundle-format.md §6.2). The neighbours must be
 * genuine, outside the range, and where the segment says they are; records.jsonl is then
 * checked against the segment.
 */
import { ledgerEntryBytes, type LedgerEntry } from '../../ledger-entry/ledger-entry.js';
import { tenantChainLinkBreak } from '../../ledger-entry/tenant-chain.js';
import { leafHash } from '../../merkle/hasher.js';
import type { ArchiveEntry, FileDigest } from '../bundle-archive.js';
import {
  completenessLineDefect,
  FILE,
  occurredInRange,
  type BoundaryEntry,
  type CompletenessLine,
} from '../bundle-format.js';
import type { BundleContext } from './bundle-context.js';
import type { CheckpointRoots } from './checkpoints-check.js';
import { fail } from './bundle-problem.js';
import { eventIdOf, parseCanonical } from './bundle-parse.js';
import { checkInclusion } from './inclusion-check.js';

type LinePlace = { file: string; line: number };

export class CompletenessCheck {
  constructor(
    private readonly ctx: BundleContext,
    private readonly roots: CheckpointRoots,
  ) {}

  async read(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const m = this.ctx.requireManifest(FILE.completeness);
    let lineNo = 0;
    for await (const bytes of this.ctx.linesOf(entry, digest, FILE.completeness)) {
      lineNo++;
      const where = { file: FILE.completeness, line: lineNo };
      const line = parseLine(bytes, where);
      const expectedShard = m.shards[lineNo - 1]?.shard;
      if (line.shard !== expectedShard) {
        fail({
          code: 'BAD_COMPLETENESS',
          ...where,
          expected: `shard ${expectedShard ?? '(none: one line per manifest shard)'}`,
          found: `shard ${line.shard}`,
          message: 'completeness.jsonl has one line per shard of the manifest, in the same order',
        });
      }
      const shard = this.ctx.shards.get(line.shard)!;
      if (line.tree_size !== shard.manifest.tree_size) {
        fail({
          code: 'ANCHOR_MISMATCH',
          ...where,
          expected: `${shard.manifest.tree_size}`,
          found: `${line.tree_size}`,
          message: "tree_size must be the shard's anchor",
        });
      }
      shard.completeness = line;
      this.checkNeighbours(line, where);
    }
    if (lineNo !== m.shards.length) {
      fail({
        code: 'BAD_COMPLETENESS',
        file: FILE.completeness,
        expected: `${m.shards.length} lines`,
        found: `${lineNo}`,
        message: 'completeness.jsonl needs one line per shard of the manifest',
      });
    }
    const counted = this.ctx.counts.boundary_entries;
    if (counted !== m.counts.boundary_entries) {
      fail({
        code: 'COUNT_MISMATCH',
        file: FILE.completeness,
        expected: `${m.counts.boundary_entries} (manifest)`,
        found: `${counted}`,
        message: 'number of boundary entries',
      });
    }
    this.ctx.checkFileDigest(FILE.completeness, digest);
  }

  private checkNeighbours(l: CompletenessLine, where: LinePlace): void {
    const before = l.before ? this.checkNeighbour(l, 'before', l.before, where) : undefined;
    const after = l.after ? this.checkNeighbour(l, 'after', l.after, where) : undefined;
    const defect = segmentDefect(l, before, after);
    if (defect) fail({ code: 'BAD_COMPLETENESS', ...where, ...defect, message: `shard ${l.shard}: ${defect.message}` });
  }

  /** One neighbour: a valid entry of the tenant and shard, outside the range, proven included. */
  private checkNeighbour(
    l: CompletenessLine,
    side: 'before' | 'after',
    b: BoundaryEntry,
    where: LinePlace,
  ): LedgerEntry {
    const entry = b.entry;
    const at = { ...where, record: eventIdOf(entry) };
    let bytes: Buffer;
    try {
      bytes = ledgerEntryBytes(entry);
    } catch (e) {
      fail({ code: 'BAD_ENTRY', ...at, message: `${side}: not a valid ledger entry: ${(e as Error).message}` });
    }
    const leaf = leafHash(bytes!);
    if (leaf.toString('hex') !== b.leaf_hash) {
      const message = `${side}: leaf_hash is not the hash of the entry`;
      fail({ code: 'LEAF_HASH_MISMATCH', ...at, expected: b.leaf_hash, found: leaf.toString('hex'), message });
    }
    const query = this.ctx.manifest!.query;
    if (entry.tenant_id !== query.tenant) {
      const message = `${side} entry is another tenant's`;
      fail({ code: 'WRONG_TENANT', ...at, expected: query.tenant, found: entry.tenant_id, message });
    }
    if (entry.shard !== l.shard) {
      const message = `${side} entry is in another shard`;
      fail({ code: 'BAD_COMPLETENESS', ...at, expected: `shard ${l.shard}`, found: `shard ${entry.shard}`, message });
    }
    if (entry.index >= l.tree_size) {
      const message = `${side} entry lies beyond the shard's anchor checkpoint`;
      fail({ code: 'BEYOND_ANCHOR', ...at, expected: `index < ${l.tree_size}`, found: `${entry.index}`, message });
    }
    if (occurredInRange(entry.record, query)) {
      fail({
        code: 'NEIGHBOUR_IN_RANGE',
        ...at,
        expected: `occurred_at outside [${query.from}, ${query.to})`,
        found: String((entry.record as { occurred_at?: unknown }).occurred_at),
        message:
          `the ${side} neighbour (tenant_seq ${entry.tenant_seq}) is inside the range: ` +
          'it should have been exported as a record',
      });
    }
    checkInclusion(
      this.roots,
      leaf,
      { shard: entry.shard, index: entry.index, treeSize: b.tree_size },
      b.inclusion_proof,
      at,
    );
    this.ctx.counts.boundary_entries++;
    return entry;
  }
}

interface SegmentDefect {
  message: string;
  expected?: string;
  found?: string;
}

/**
 * What is wrong with where the neighbours stand relative to the segment and the tenant's
 * chain length, or null. `before` and `after` are the line's neighbours, already checked.
 */
export function segmentDefect(l: CompletenessLine, before?: LedgerEntry, after?: LedgerEntry): SegmentDefect | null {
  return l.first_seq !== null && l.last_seq !== null
    ? neighboursOfSegmentDefect(l.first_seq, l.last_seq, l.tenant_chain_length, before, after)
    : neighboursWithoutSegmentDefect(l, before, after);
}

function neighboursOfSegmentDefect(
  first: number,
  last: number,
  length: number,
  before?: LedgerEntry,
  after?: LedgerEntry,
): SegmentDefect | null {
  if (last >= length)
    return { message: 'last_seq must be below tenant_chain_length', expected: `< ${length}`, found: `${last}` };
  if ((before === undefined) !== (first === 0)) {
    return first === 0
      ? { message: 'the chain starts at tenant_seq 0: no entry can come before it' }
      : { message: `the entry before the range (tenant_seq ${first - 1}) is missing` };
  }
  if (before && before.tenant_seq !== first - 1) {
    return {
      message: 'before must be the entry at first_seq - 1',
      expected: `tenant_seq ${first - 1}`,
      found: `${before.tenant_seq}`,
    };
  }
  if ((after === undefined) !== (last === length - 1)) {
    return after
      ? { message: `after is present but the tenant's chain ends at tenant_seq ${length - 1}` }
      : { message: `the entry after the range (tenant_seq ${last + 1}) is missing` };
  }
  if (after && after.tenant_seq !== last + 1) {
    return {
      message: 'after must be the entry at last_seq + 1',
      expected: `tenant_seq ${last + 1}`,
      found: `${after.tenant_seq}`,
    };
  }
  return null;
}

/** No record of the tenant in the range in this shard: the neighbours must be adjacent. */
function neighboursWithoutSegmentDefect(
  l: CompletenessLine,
  before?: LedgerEntry,
  after?: LedgerEntry,
): SegmentDefect | null {
  const length = l.tenant_chain_length;
  if (!before && !after && length !== 0) {
    return { message: `no records and no neighbours, but the tenant has ${length} entries in this shard` };
  }
  if (before && !after && before.tenant_seq !== length - 1) {
    const message = "with no entry after, before must be the tenant's last entry";
    return { message, expected: `tenant_seq ${length - 1}`, found: `${before.tenant_seq}` };
  }
  if (!before && after && after.tenant_seq !== 0) {
    return {
      message: "with no entry before, after must be the tenant's first entry",
      expected: 'tenant_seq 0',
      found: `${after.tenant_seq}`,
    };
  }
  if (after && after.tenant_seq >= length) {
    return {
      message: 'after must be below tenant_chain_length',
      expected: `< ${length}`,
      found: `${after.tenant_seq}`,
    };
  }
  if (before && after) {
    const link = tenantChainLinkBreak(
      { tenant_seq: before.tenant_seq, leaf_hash: l.before!.leaf_hash, index: before.index },
      after,
    );
    if (link) {
      const message = `before and after must be adjacent in the tenant chain (nothing in between): ${link.message}`;
      return { message, expected: link.expected, found: link.found };
    }
  }
  return null;
}

function parseLine(bytes: Buffer, where: LinePlace): CompletenessLine {
  const value = parseCanonical(bytes, where.file, where.line);
  const defect = completenessLineDefect(value);
  if (defect !== null) fail({ code: 'BAD_LINE', ...where, message: defect });
  return value as CompletenessLine;
}
