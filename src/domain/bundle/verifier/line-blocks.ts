/**
 * The single pass's per-line work on blocks of whole lines of records.jsonl or proofs.jsonl:
 * everything a line can be checked for on its own (parsed, valid, canonical, its leaf hash;
 * a proof line's inclusion proof against the checkpoints' roots), packed into flat arrays the
 * main thread reads in order. Run by the block workers (block-worker.ts) or in the calling
 * thread. A block answers "every line passed" with its packed results, or `failed`: the
 * single pass then stops and the reference verifier reads the bundle again to name the
 * problem, so nothing here needs to say what is wrong.
 */
import { assertLedgerEntry, ledgerEntryBytes, type LedgerEntry } from '../../ledger-entry/ledger-entry.js';
import { leafHash } from '../../merkle/hasher.js';
import { InclusionRunVerifier } from '../../merkle/inclusion-run.js';
import { hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import {
  canonicalProofLine,
  occurredAt,
  proofLineDefect,
  recordMatchesFilters,
  type ExportQuery,
  type ProofLine,
} from '../bundle-format.js';
import { isCanonicalText } from './bundle-parse.js';
import { ProofLineRun } from './proof-line-run.js';
import { canonicalBytes } from '../../canonical/canonical-json.js';
import { EntryLineScanner, type NotedMember } from './entry-line.js';
import { RootTable, type PackedRoots } from './root-table.js';

/** What every block of one bundle is checked against. */
export interface BlockParams {
  query: Pick<ExportQuery, 'tenant' | 'from' | 'to' | 'filters'>;
  /** The checkpoints' roots (checkpoints.jsonl, read before records.jsonl). */
  roots: PackedRoots;
  maxLine: number;
}

export type BlockKind = 'records' | 'proofs';

/**
 * The lines of a block, all passed. `seq` holds, per line, shard and index (float64) and the
 * leaf hash (32 bytes): the same layout for a record (its own leaf) and for a proof line (the
 * leaf it proves), so that hashing both sequences compares the files line by line.
 * Records also fill `nums` (shard, index, tenant_seq, flags per line) and `prev` (tenant_prev,
 * 32 bytes, zero when null). All three are views of one memory (`seq.buffer`), the result
 * memory the caller handed in when it was large enough: the pool passes the same memories back
 * and forth, so that checking a block allocates nothing that outlives it.
 */
export interface BlockResult {
  failed: false;
  lines: number;
  seq: Uint8Array;
  nums?: Float64Array;
  prev?: Uint8Array;
}

export type BlockAnswer = BlockResult | { failed: true };

export const SEQ_STRIDE = 48;
export const NUM_STRIDE = 4;
export const FLAG_HAS_PREV = 1;
export const FLAG_IN_RANGE = 2;
export const FLAG_MATCHES = 4;

/** The record members recordMatchesFilters reads (gateway.id and outcome.status through their objects). */
const FILTER_MEMBERS: NotedMember[] = ['gateway', 'outcome', 'provider', 'requested_model'];

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One thread's state across blocks: the roots and the inclusion run. */
export class BlockChecker {
  private readonly roots: RootTable;
  private readonly run = new InclusionRunVerifier();
  /** Proof lines decided on their bytes against the line before (most lines of a run). */
  private readonly proofRun = new ProofLineRun();
  /** The range in milliseconds, as occurredInRange reads it. */
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly filtered: boolean;
  /** Record lines decided on their bytes (most lines); the rest are parsed and compared. */
  private readonly scanner = new EntryLineScanner();
  /** The query's tenant as a canonical JSON string's bytes (what an accepted line's tenant_id must be). */
  private readonly tenantBytes: Buffer;

  constructor(private readonly params: BlockParams) {
    this.roots = RootTable.fromPacked(params.roots);
    this.fromMs = Date.parse(params.query.from);
    this.toMs = Date.parse(params.query.to);
    this.filtered = Object.values(params.query.filters).some((v) => v !== undefined);
    this.tenantBytes = Buffer.from(JSON.stringify(params.query.tenant), 'utf8');
  }

  /**
   * Checks a block of whole lines; a records block's newlines are overwritten (see
   * leafHashInBlock). The results are written into `out` when it is large enough (see
   * resultBytes), else into new memory.
   */
  check(kind: BlockKind, block: Uint8Array, out?: ArrayBuffer): BlockAnswer {
    try {
      const lines = splitLines(Buffer.from(block.buffer, block.byteOffset, block.byteLength), this.params.maxLine);
      if (lines === undefined) return { failed: true };
      const size = resultBytes(kind, lines.length);
      const memory = out !== undefined && out.byteLength >= size ? out : new ArrayBuffer(size);
      return kind === 'records' ? this.records(lines, block, memory) : this.proofs(lines, memory);
    } catch {
      return { failed: true };
    }
  }

  private records(lines: Buffer[], block: Uint8Array, memory: ArrayBuffer): BlockAnswer {
    const n = lines.length;
    const blockStart = block.byteOffset;
    // Lines are cut at newlines (ASCII), so a block of valid UTF-8 is lines of valid UTF-8: one call, not one a line.
    const utf8 = isUtf8(block);
    const seq = Buffer.from(memory, 0, n * SEQ_STRIDE);
    const nums = new Float64Array(memory, n * SEQ_STRIDE, n * NUM_STRIDE);
    const prev = Buffer.from(memory, n * (SEQ_STRIDE + NUM_STRIDE * 8), n * 32);
    for (let i = 0; i < n; i++) {
      const bytes = lines[i];
      const ok =
        (utf8 || isUtf8(bytes)) && this.scanner.accept(bytes)
          ? this.scanned(bytes, i, seq, nums, prev)
          : this.parsed(bytes, i, seq, nums, prev);
      if (!ok) return { failed: true };
      leafHashInBlock(bytes, blockStart, seq, i * SEQ_STRIDE + 16);
    }
    return { failed: false, lines: n, seq: view(seq), nums, prev: view(prev) };
  }

  /** A line the scanner accepted (canonical, a valid entry): its results from the members it noted. */
  private scanned(bytes: Buffer, i: number, seq: Buffer, nums: Float64Array, prev: Buffer): boolean {
    const s = this.scanner;
    if (bytes.compare(this.tenantBytes, 0, this.tenantBytes.length, s.tenant.start, s.tenant.end) !== 0) return false;
    const at = this.occurredAtOf(bytes);
    const inRange = at !== undefined && at >= this.fromMs && at < this.toMs;
    let flags = inRange ? FLAG_IN_RANGE : 0;
    if (inRange && (!this.filtered || recordMatchesFilters(this.filterMembers(bytes), this.params.query.filters)))
      flags |= FLAG_MATCHES;
    if (s.prevHex >= 0) {
      flags |= FLAG_HAS_PREV;
      hexInto(bytes, s.prevHex, prev, i * 32);
    } else prev.fill(0, i * 32, i * 32 + 32);
    this.put(i, s.shard, s.index, s.tenantSeq, flags, seq, nums);
    return true;
  }

  /** occurredAt (bundle-format.ts) of the scanned line's record. */
  private occurredAtOf(bytes: Buffer): number | undefined {
    const span = this.scanner.member('occurred_at');
    if (span.start < 0 || bytes[span.start] !== 0x22) return undefined;
    const text = this.scanner.memberEscaped('occurred_at')
      ? (JSON.parse(bytes.toString('utf8', span.start, span.end)) as string)
      : bytes.toString('utf8', span.start + 1, span.end - 1);
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? ms : undefined;
  }

  /** The record members recordMatchesFilters reads, decoded from the scanned line. */
  private filterMembers(bytes: Buffer): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of FILTER_MEMBERS) {
      const span = this.scanner.member(name);
      if (span.start >= 0) out[name] = JSON.parse(bytes.toString('utf8', span.start, span.end)) as unknown;
    }
    return out;
  }

  /** The general check of a record line: parsed, validated, compared with its canonical form. */
  private parsed(bytes: Buffer, i: number, seq: Buffer, nums: Float64Array, prev: Buffer): boolean {
    const { query } = this.params;
    const text = UTF8.decode(bytes);
    const e = JSON.parse(text) as LedgerEntry;
    assertLedgerEntry(e);
    if (!isCanonicalText(e, text) && !ledgerEntryBytes(e).equals(bytes)) return false;
    if (e.tenant_id !== query.tenant) return false;
    // occurredInRange and recordMatchesFilters (bundle-format.ts), with the bounds parsed once.
    const at = occurredAt(e.record);
    const inRange = at !== undefined && at >= this.fromMs && at < this.toMs;
    let flags = inRange ? FLAG_IN_RANGE : 0;
    if (inRange && (!this.filtered || recordMatchesFilters(e.record, query.filters))) flags |= FLAG_MATCHES;
    if (e.tenant_prev !== null) {
      flags |= FLAG_HAS_PREV;
      prev.write(e.tenant_prev, i * 32, 32, 'hex');
    } else prev.fill(0, i * 32, i * 32 + 32);
    this.put(i, e.shard, e.index, e.tenant_seq, flags, seq, nums);
    return true;
  }

  private put(
    i: number,
    shard: number,
    index: number,
    tenantSeq: number,
    flags: number,
    seq: Buffer,
    nums: Float64Array,
  ): void {
    seq.writeDoubleLE(shard, i * SEQ_STRIDE);
    seq.writeDoubleLE(index, i * SEQ_STRIDE + 8);
    nums[i * NUM_STRIDE] = shard;
    nums[i * NUM_STRIDE + 1] = index;
    nums[i * NUM_STRIDE + 2] = tenantSeq;
    nums[i * NUM_STRIDE + 3] = flags;
  }

  private proofs(lines: Buffer[], memory: ArrayBuffer): BlockAnswer {
    const n = lines.length;
    const seq = Buffer.from(memory, 0, n * SEQ_STRIDE);
    for (let i = 0; i < n; i++) {
      if (this.proofRun.accept(lines[i], seq, i * SEQ_STRIDE)) continue;
      // The general check (the first line of a run, a new checkpoint): it verifies the proof
      // whole, and the lines after it may shortcut to its path.
      this.proofRun.reset();
      const p = proofLine(lines[i]);
      if (p === undefined) return { failed: true };
      const root = this.roots.get(p.shard, p.tree_size);
      if (root === undefined) return { failed: true };
      const leaf = Buffer.from(p.leaf_hash, 'hex');
      this.run.verify(leaf, p.index, p.tree_size, p.inclusion_proof, root);
      this.proofRun.remember(lines[i], p, leaf, root);
      seq.writeDoubleLE(p.shard, i * SEQ_STRIDE);
      seq.writeDoubleLE(p.index, i * SEQ_STRIDE + 8);
      leaf.copy(seq, i * SEQ_STRIDE + 16);
    }
    return { failed: false, lines: n, seq: view(seq) };
  }
}

/** Bytes of the results of `lines` lines of a `kind` block (seq, and for records nums and prev). */
export function resultBytes(kind: BlockKind, lines: number): number {
  return lines * (kind === 'records' ? SEQ_STRIDE + NUM_STRIDE * 8 + 32 : SEQ_STRIDE);
}

/** 32 bytes from the 64 lowercase hex digits at `from` of `hex` (checked by the scanner), into `out` at `at`. */
function hexInto(hex: Buffer, from: number, out: Buffer, at: number): void {
  for (let k = 0; k < 32; k++) out[at + k] = (HEX[hex[from + 2 * k]] << 4) | HEX[hex[from + 2 * k + 1]];
}

/** Lowercase hex digit values. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x61 + c] = 10 + c;

/** A plain Uint8Array over a Buffer's bytes (what crosses to the main thread). */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/**
 * The leaf hash of a line of the block, SHA-256(0x00 || line), written into `out` at `at`: the
 * 0x00 is written over the previous line's newline (the block's own memory; the lines are
 * already cut), so the line is hashed where it lies instead of copied behind a prefix. The
 * digest comes back as a 'binary' (latin1) string (one char per byte) and is written where it belongs:
 * a Buffer per line would be native memory freed only by the next GC, which a worker's arena
 * fills with between collections. The block's first line has no byte before it and is hashed
 * as usual.
 */
function leafHashInBlock(line: Buffer, blockStart: number, out: Buffer, at: number): void {
  if (line.byteOffset <= blockStart) {
    leafHash(line).copy(out, at);
    return;
  }
  const prefixed = new Uint8Array(line.buffer, line.byteOffset - 1, line.length + 1);
  prefixed[0] = 0x00;
  out.write(hash('sha256', prefixed, 'binary'), at, 32, 'latin1');
}

/** A proof line in its one canonical shape (as the reference's check decides), or undefined. */
function proofLine(bytes: Buffer): ProofLine | undefined {
  const quick = canonicalProofLine(bytes.toString('latin1'));
  if (quick !== undefined) return quick;
  const value = JSON.parse(UTF8.decode(bytes)) as unknown;
  if (proofLineDefect(value) !== null || !canonicalBytes(value).equals(bytes)) return undefined;
  return value as ProofLine;
}

/** The block's lines without their newlines; undefined when the block does not end with one or a line is too long. */
function splitLines(block: Buffer, maxLine: number): Buffer[] | undefined {
  if (block.length === 0 || block[block.length - 1] !== 0x0a) return undefined;
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = block.indexOf(0x0a, 0); nl !== -1; nl = block.indexOf(0x0a, start)) {
    if (nl - start > maxLine) return undefined;
    lines.push(block.subarray(start, nl));
    start = nl + 1;
  }
  return lines;
}
