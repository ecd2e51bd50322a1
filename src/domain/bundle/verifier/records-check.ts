/**
 * records.jsonl: the tenant's records, sorted by shard then tenant_seq, each a canonical
 * ledger entry proven by the proofs.jsonl line of the same number. Per shard the records must
 * be exactly the segment completeness.jsonl announces: linked to the neighbour before it, to
 * each other, and to the neighbour after it, with no record missing, added or moved.
 */
import { createHash, type Hash } from 'node:crypto';
import { CanonicalizationError } from '../../canonical/canonical-json.js';
import {
  assertLedgerEntry,
  ledgerEntryBytes,
  LedgerEntryError,
  type LedgerEntry,
} from '../../ledger-entry/ledger-entry.js';
import { tenantChainLinkBreak, type ChainedEntry, type ChainPredecessor } from '../../ledger-entry/tenant-chain.js';
import { leafHash } from '../../merkle/hasher.js';
import type { ArchiveEntry, BundleOpener, FileDigest } from '../bundle-archive.js';
import { FILE, occurredInRange, recordMatchesFilters, type Manifest } from '../bundle-format.js';
import type { BundleContext, ShardState } from './bundle-context.js';
import type { CheckpointRoots } from './checkpoints-check.js';
import { fail, type BundleProblem, type ProblemPlace } from './bundle-problem.js';
import { eventIdOf, isCanonicalText, parseJsonText } from './bundle-parse.js';
import { ProofLines, workerProofSource } from './proof-lines.js';
import type { BlockPool } from './block-pool.js';
import { FLAG_HAS_PREV, FLAG_IN_RANGE, FLAG_MATCHES, NUM_STRIDE, SEQ_STRIDE } from './line-blocks.js';

const PROGRESS_EVERY = 1000;

/** The record on the previous line: what the next record of its shard must link to. */
interface PrevRecord extends ChainPredecessor {
  shard: number;
  line: number;
  eventId?: string;
  inRange: boolean;
}

export class RecordsCheck {
  private prev?: PrevRecord;
  /** A gap is reported one line late, so that the next line can tell a swap from a removal. */
  private pendingGap?: BundleProblem;

  constructor(
    private readonly ctx: BundleContext,
    private readonly roots: CheckpointRoots,
    private readonly open: BundleOpener,
  ) {}

  async read(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const m = this.ctx.requireManifest(FILE.records);
    const proofs = await this.openProofs();
    let lineNo = 0;
    for await (const bytes of this.ctx.linesOf(entry, digest, FILE.records)) {
      lineNo++;
      await this.checkLine(bytes, lineNo, m, proofs);
      if (this.ctx.counts.records % PROGRESS_EVERY === 0) this.progress(m);
    }
    if (this.pendingGap) fail(this.pendingGap);
    if (this.prev) this.closeShard(this.prev);
    await proofs.checkEnd(lineNo);
    this.progress(m);
    this.checkShardCounts();
    this.ctx.checkFileDigest(FILE.records, digest);
  }

  /** proofs.jsonl: checked by the proof worker when the bundle is a file and the worker is built, else here. */
  private async openProofs(): Promise<ProofLines> {
    const file = this.ctx.opts.bundleFile;
    const source =
      file === undefined ? undefined : await workerProofSource(file, this.ctx, this.roots, this.ctx.maxLineBytes);
    return source ? new ProofLines(this.ctx, this.roots, source) : ProofLines.open(this.open, this.ctx, this.roots);
  }

  private async checkLine(bytes: Buffer, lineNo: number, m: Manifest, proofs: ProofLines): Promise<void> {
    const { entry: e, leaf } = parseRecord(bytes, lineNo);
    const record = eventIdOf(e);
    const at = { file: FILE.records, line: lineNo, record };
    const inRange = occurredInRange(e.record, m.query);
    const shard = this.checkEntry(e, inRange, inRange && recordMatchesFilters(e.record, m.query.filters), at, m);
    await proofs.checkNext(lineNo, e, leaf, record);
    this.advance(shard, e, leaf.toString('hex'), at, inRange);
  }

  /**
   * The single pass over records.jsonl: each line's own checks done by the block pool
   * (line-blocks.ts, the same decisions as parseRecord and the range and filters above), the
   * chain checks here as in the reference pass; the (shard, index, leaf) of every line go into
   * `sequence`, for proofs.jsonl to match. Any problem throws, and the caller then runs the
   * reference pass, which names it. Returns the number of lines.
   */
  async readBlocks(entry: ArchiveEntry, digest: FileDigest, pool: BlockPool, sequence: Hash): Promise<number> {
    const m = this.ctx.requireManifest(FILE.records);
    let lineNo = 0;
    const chunks = entry.transientChunks ?? entry.stream;
    for await (const a of pool.answers('records', chunks, digest, this.ctx.maxLineBytes)) {
      if (a.failed) throw new SinglePassRejected(FILE.records);
      // Views of the answer's memory, which the pool reuses once the next answer is asked for.
      sequence.update(a.seq);
      const nums = a.nums!;
      const prev = Buffer.from(a.prev!.buffer, a.prev!.byteOffset, a.prev!.byteLength);
      const leaves = Buffer.from(a.seq.buffer, a.seq.byteOffset, a.seq.byteLength);
      for (let i = 0; i < a.lines; i++) {
        lineNo++;
        const n = i * NUM_STRIDE;
        const flags = nums[n + 3];
        const e = {
          tenant_id: m.query.tenant,
          shard: nums[n],
          index: nums[n + 1],
          tenant_seq: nums[n + 2],
          tenant_prev: flags & FLAG_HAS_PREV ? prev.toString('hex', i * 32, i * 32 + 32) : null,
          record: undefined,
        };
        const at = { file: FILE.records, line: lineNo };
        const inRange = (flags & FLAG_IN_RANGE) !== 0;
        const shard = this.checkEntry(e, inRange, (flags & FLAG_MATCHES) !== 0, at, m);
        this.advance(shard, e, leaves.toString('hex', i * SEQ_STRIDE + 16, (i + 1) * SEQ_STRIDE), at, inRange);
      }
      this.progress(m);
    }
    if (this.pendingGap) fail(this.pendingGap);
    if (this.prev) this.closeShard(this.prev);
    this.checkShardCounts();
    this.ctx.checkFileDigest(FILE.records, digest);
    return lineNo;
  }

  /**
   * The single pass over proofs.jsonl, after records.jsonl: every line canonical and its
   * inclusion proof verified for its own leaf_hash (block pool), as many lines as records, and
   * line by line the (shard, index, leaf_hash) of the record on the same line (the two
   * sequences' SHA-256 are equal). Throws on any difference (the reference pass then names it).
   */
  async readProofBlocks(
    entry: ArchiveEntry,
    digest: FileDigest,
    pool: BlockPool,
    records: { lines: number; sequence: Buffer },
  ): Promise<void> {
    this.ctx.requireManifest(FILE.proofs);
    const sequence = createHash('sha256');
    let lines = 0;
    const chunks = entry.transientChunks ?? entry.stream;
    for await (const a of pool.answers('proofs', chunks, digest, this.ctx.maxLineBytes)) {
      if (a.failed) throw new SinglePassRejected(FILE.proofs);
      sequence.update(a.seq);
      lines += a.lines;
    }
    if (lines !== records.lines || !sequence.digest().equals(records.sequence))
      throw new SinglePassRejected(FILE.proofs);
    this.ctx.counts.proofs += lines;
    this.ctx.checkFileDigest(FILE.proofs, digest);
  }

  /** A record's checks up to its proof: tenant, shard, place in the chain, range. */
  private checkEntry(
    e: ChainedEntry & { record?: unknown },
    inRange: boolean,
    matches: boolean,
    at: ProblemPlace,
    m: Manifest,
  ): ShardState {
    if (e.tenant_id !== m.query.tenant) {
      fail({
        code: 'WRONG_TENANT',
        ...at,
        expected: m.query.tenant,
        found: e.tenant_id,
        message: 'a record of another tenant',
      });
    }
    const shard = this.enterShard(e, at);
    this.checkPlace(shard, e, at);
    if (inRange) {
      this.ctx.counts.records_in_range++;
      if (matches) this.ctx.counts.matching++;
    } else {
      this.ctx.counts.context_records++;
      if (!this.prev) {
        const found = String((e.record as { occurred_at?: unknown } | undefined)?.occurred_at);
        const message = `the first record of shard ${e.shard} must be inside the range`;
        fail({ code: 'SEGMENT_NOT_IN_RANGE', ...at, found, message });
      }
    }
    return shard;
  }

  /** A record checked with its proof: counted, and the one the next record links to. */
  private advance(shard: ShardState, e: ChainedEntry, leafHex: string, at: ProblemPlace, inRange: boolean): void {
    shard.records++;
    this.ctx.counts.records++;
    this.prev = {
      tenant_seq: e.tenant_seq,
      leaf_hash: leafHex,
      index: e.index,
      shard: e.shard,
      line: at.line!,
      eventId: at.record,
      inRange,
    };
  }

  /** The record's shard: listed, not before the previous record's; a new shard closes the previous segment. */
  private enterShard(e: ChainedEntry, at: ProblemPlace): ShardState {
    const shard = this.ctx.shards.get(e.shard);
    const prev = this.prev;
    if (!shard || (prev && e.shard < prev.shard)) {
      fail({
        code: 'SHARD_ORDER',
        ...at,
        message: !shard
          ? `record of shard ${e.shard}, which the manifest does not list`
          : `shard ${e.shard} after shard ${prev!.shard}: records are sorted by shard, then tenant_seq`,
      });
    }
    if (prev && e.shard !== prev.shard) {
      if (this.pendingGap) fail(this.pendingGap);
      this.closeShard(prev);
      this.prev = undefined;
    }
    return shard!;
  }

  /** The record's place: below the anchor, and linked to the previous record or the segment start. */
  private checkPlace(shard: ShardState, e: ChainedEntry, at: ProblemPlace): void {
    const prev = this.prev;
    if (this.pendingGap) {
      // A gap followed by the missing seq is two records swapped, not one left out.
      if (prev && e.tenant_seq < prev.tenant_seq) {
        fail({
          code: 'OUT_OF_ORDER',
          ...at,
          expected: `tenant_seq ${prev.tenant_seq + 1} after ${prev.tenant_seq}`,
          found: `tenant_seq ${e.tenant_seq}`,
          message:
            `records.jsonl lines ${at.line! - 1} and ${at.line} are out of order (swapped): ` +
            `tenant_seq ${e.tenant_seq} comes after ${prev.tenant_seq}`,
        });
      }
      fail(this.pendingGap);
    }
    const anchor = shard.manifest.tree_size;
    if (e.index >= anchor) {
      const message = `the record lies beyond shard ${e.shard}'s anchor checkpoint`;
      fail({ code: 'BEYOND_ANCHOR', ...at, expected: `index < ${anchor}`, found: `${e.index}`, message });
    }
    if (prev) this.pendingGap = linkToPrevious(prev, e, at);
    else checkSegmentStart(shard, e, at);
  }

  /** The last record of a shard ends the segment, linked to `after`. */
  private closeShard(last: PrevRecord): void {
    const c = this.ctx.shards.get(last.shard)!.completeness!;
    const at = { file: FILE.records, line: last.line, record: last.eventId };
    if (last.tenant_seq !== c.last_seq) segmentEdgeMismatch('end', last.shard, c.last_seq!, last.tenant_seq, at);
    if (!last.inRange) {
      fail({
        code: 'SEGMENT_NOT_IN_RANGE',
        ...at,
        message: `the last record of shard ${last.shard} must be inside the range`,
      });
    }
    const broken = c.after ? tenantChainLinkBreak(last, c.after.entry) : null;
    if (broken) {
      const context = `the entry after the range in shard ${last.shard} must link to the last exported record`;
      fail({
        file: FILE.completeness,
        record: eventIdOf(c.after!.entry),
        ...broken,
        message: `${broken.message}: ${context} (records.jsonl line ${last.line})`,
      });
    }
  }

  /** Every shard that has records in the range has as many as the manifest says. */
  private checkShardCounts(): void {
    for (const s of this.ctx.shards.values()) {
      const c = s.completeness!;
      const shard = s.manifest.shard;
      if (c.first_seq !== null && s.records === 0) {
        fail({
          code: 'RANGE_START_MISSING',
          file: FILE.records,
          expected: `records of shard ${shard} from tenant_seq ${c.first_seq} to ${c.last_seq}`,
          found: 'none',
          message: `every record of shard ${shard} is missing`,
        });
      }
      if (s.records !== s.manifest.records) {
        fail({
          code: 'COUNT_MISMATCH',
          file: FILE.records,
          expected: `${s.manifest.records} (manifest)`,
          found: `${s.records}`,
          message: `number of records of shard ${shard}`,
        });
      }
    }
  }

  private progress(m: Manifest): void {
    this.ctx.opts.onProgress?.({ file: FILE.records, done: this.ctx.counts.records, total: m.counts.records });
  }
}

/** A records.jsonl line: a valid ledger entry in canonical form, and its leaf hash. */
function parseRecord(bytes: Buffer, lineNo: number): { entry: LedgerEntry; leaf: Buffer } {
  const { value, text } = parseJsonText(bytes, FILE.records, lineNo);
  const entry = value as LedgerEntry;
  const at = { file: FILE.records, line: lineNo, record: eventIdOf(value) };
  try {
    assertLedgerEntry(entry);
    // The text is compared with the entry's canonical form; it is built only when the quick
    // check cannot decide, and then again by ledgerEntryBytes to name the reason.
    if (!isCanonicalText(entry, text) && !ledgerEntryBytes(entry).equals(bytes)) {
      fail({ code: 'NON_CANONICAL', ...at, message: 'the line is not the RFC 8785 canonical form of its entry' });
    }
  } catch (e) {
    if (e instanceof LedgerEntryError || e instanceof CanonicalizationError) {
      fail({ code: 'BAD_ENTRY', ...at, message: `not a valid ledger entry: ${e.message} (${e.code})` });
    }
    throw e;
  }
  return { entry, leaf: leafHash(bytes) };
}

/** The first record of a shard starts the segment completeness.jsonl announces, linked to `before`. */
function checkSegmentStart(shard: ShardState, e: ChainedEntry, at: ProblemPlace): void {
  const c = shard.completeness!;
  if (c.first_seq === null) {
    const message =
      `completeness.jsonl says the tenant has no record in the range in shard ${e.shard}, ` +
      'but records.jsonl has some';
    fail({ code: 'BAD_COMPLETENESS', ...at, message });
  }
  if (e.tenant_seq !== c.first_seq) segmentEdgeMismatch('start', e.shard, c.first_seq!, e.tenant_seq, at);
  const before = c.before ? { ...c.before.entry, leaf_hash: c.before.leaf_hash } : null;
  const broken = tenantChainLinkBreak(before, e);
  if (broken) {
    const context = `the first record of shard ${e.shard} must link to the proven entry before the range`;
    fail({ ...at, ...broken, message: `${broken.message}: ${context}` });
  }
}

/**
 * A shard's first (`start`) or last (`end`) record is not at the tenant_seq completeness.jsonl
 * announces: records are missing at that edge of the range, or the segment is wrong.
 */
function segmentEdgeMismatch(
  edge: 'start' | 'end',
  shard: number,
  announced: number,
  found: number,
  at: ProblemPlace,
): never {
  const missing = edge === 'start' ? found > announced : found < announced;
  const count = Math.abs(found - announced);
  const beyond = edge === 'start' ? 'start before' : 'go past';
  fail({
    code: missing ? (edge === 'start' ? 'RANGE_START_MISSING' : 'RANGE_END_MISSING') : 'BAD_COMPLETENESS',
    ...at,
    expected: `tenant_seq ${announced} (completeness.jsonl)`,
    found: `tenant_seq ${found}`,
    message: missing
      ? `shard ${shard}'s records must ${edge} at tenant_seq ${announced}: ` +
        `${count} record(s) at the ${edge} of the range are missing`
      : `shard ${shard}'s records ${beyond} the segment completeness.jsonl announces`,
  });
}

/**
 * The chain link from the previous record of the same shard (docs/ledger-format.md §10). A
 * gap is returned, not thrown, so that the next line can tell a swap from a removal.
 */
function linkToPrevious(prev: PrevRecord, e: ChainedEntry, at: ProblemPlace): BundleProblem | undefined {
  const broken = tenantChainLinkBreak(prev, e);
  if (!broken) return undefined;
  const problem = { ...at, ...broken, message: `${broken.message} (previous record: records.jsonl line ${prev.line})` };
  if (broken.code === 'SEQ_GAP') return problem;
  fail(problem);
}

/** The single pass found something it does not accept: the reference pass reads the bundle again and names it. */
export class SinglePassRejected extends Error {
  constructor(file: string) {
    super(`the single pass did not accept ${file}`);
  }
}
