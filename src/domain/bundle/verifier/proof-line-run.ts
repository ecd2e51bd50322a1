/**
 * proofs.jsonl lines checked on their bytes against the line before them, for the single
 * pass's block workers (line-blocks.ts). Consecutive records are neighbouring leaves, so their
 * proof lines are the same text but for the few lowest audit-path elements (and the index and
 * leaf hash). A line is accepted here when it has the one canonical shape of a proof line
 * (proofLineText), every element it does not share byte for byte with the previous accepted
 * line is lowercase hex, and its inclusion proof joins the previous line's verified path: the
 * shortcut of merkle/inclusion-run.ts (the computation from level i up depends only on the node
 * hash reached at level i, the node's position, the tree size and the proof elements from i
 * on), with "the elements from i on are the previous proof's" decided by comparing bytes
 * instead of building and comparing strings.
 *
 * It only ever accepts: a line it cannot decide this way (the first of a run, a new checkpoint,
 * any other shape) answers false, and the caller checks it the general way and hands the
 * verified path back through `remember`.
 */
import { hash } from 'node:crypto';
import { HASH_SIZE, nodeHash } from '../../merkle/hasher.js';
import { bitAt, bitLength, shiftRight, xor } from '../../merkle/range.js';

/** `{"inclusion_proof":[`: every canonical proof line starts so (members in JCS order). */
const HEAD = Buffer.from('{"inclusion_proof":[', 'latin1');
const AFTER_PROOF = Buffer.from('],"index":', 'latin1');
const BEFORE_LEAF = Buffer.from(',"leaf_hash":"', 'latin1');
const BEFORE_SHARD = Buffer.from('","shard":', 'latin1');
const BEFORE_SIZE = Buffer.from(',"tree_size":', 'latin1');
/** An element: `"` 64 hex digits `"`, then `,` or `]`. */
const ELEMENT = 2 + 2 * HASH_SIZE;
const STRIDE = ELEMENT + 1;
const QUOTE = 0x22;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
/** Digits of a count: (0|[1-9][0-9]{0,15}), as canonicalProofLine reads them. */
const MAX_DIGITS = 16;

/** Lowercase hex digit values, -1 for every other byte. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x61 + c] = 10 + c;

/** The last accepted line: its bytes and its verified path. */
interface VerifiedLine {
  bytes: Buffer;
  length: number;
  elements: number;
  shard: number;
  size: number;
  root: Buffer;
  index: number;
  inner: number;
  /** nodes[i]: the hash the path reached at level i (nodes[0] is the leaf), for i <= inner. */
  nodes: Buffer[];
}

/** Where a decided line's results go: shard, index (float64) and leaf hash, as line-blocks.ts lays them out. */
export interface ProofLineOut {
  out: Buffer;
  at: number;
}

export class ProofLineRun {
  private last?: VerifiedLine;
  /** 0x01 || left || right: a node hash's input, written in place. */
  private readonly node = Buffer.alloc(1 + 2 * HASH_SIZE);
  private readonly sibling = Buffer.alloc(HASH_SIZE);
  /** The hash the path being checked has reached, level by level. */
  private readonly reached = Buffer.alloc(HASH_SIZE);

  /**
   * Whether `line` is accepted without the general check; when it is, its shard and index are
   * written at `at` of `out` as two float64 and its leaf hash after them (32 bytes).
   */
  accept(line: Buffer, out: Buffer, at: number): boolean {
    const last = this.last;
    if (last === undefined || line.length < HEAD.length + 1) return false;
    if (!startsWith(line, 0, HEAD)) return false;
    // The elements: fixed width, so the closing bracket must follow the last one where the previous line's did.
    const elements = last.elements;
    if (elements === 0) return false;
    const close = HEAD.length + elements * STRIDE - 1;
    if (close >= line.length || line[close] !== CLOSE_BRACKET) return false;
    // The first element from which this line's array is the previous line's, byte for byte
    // (elements, quotes, commas and the closing bracket), so already found well-formed.
    // Neighbouring leaves differ in their lowest elements only: the tail is tried first.
    let same = 1;
    while (same < elements && !sameBytes(line, last.bytes, HEAD.length + same * STRIDE, close + 1)) same++;
    if (same === 1 && sameBytes(line, last.bytes, HEAD.length, HEAD.length + STRIDE)) same = 0;
    // The rest of the line: index, leaf hash, shard, tree size.
    let p = close;
    if (!startsWith(line, p, AFTER_PROOF)) return false;
    p += AFTER_PROOF.length;
    const index = count(line, p);
    if (index < 0) return false;
    p += digits(index);
    if (!startsWith(line, p, BEFORE_LEAF)) return false;
    p += BEFORE_LEAF.length;
    const leafAt = p;
    if (p + 2 * HASH_SIZE > line.length) return false;
    p += 2 * HASH_SIZE;
    if (!startsWith(line, p, BEFORE_SHARD)) return false;
    p += BEFORE_SHARD.length;
    const shard = count(line, p);
    if (shard < 0) return false;
    p += digits(shard);
    if (!startsWith(line, p, BEFORE_SIZE)) return false;
    p += BEFORE_SIZE.length;
    const size = count(line, p);
    if (size < 0) return false;
    p += digits(size);
    if (p !== line.length - 1 || line[p] !== CLOSE_BRACE) return false;
    // The same tree as the previous line (hence the same root), the same path shape.
    if (shard !== last.shard || size !== last.size || index >= size) return false;
    const inner = innerLength(index, size);
    if (inner !== last.inner) return false;
    const leaf = out.subarray(at + 16, at + 16 + HASH_SIZE);
    if (!hexInto(line, leafAt, leaf)) return false;
    // The shortcut: climb until this path reaches, at the same position, the node the previous
    // path computed, with the remaining elements the previous proof's. The previous path is
    // overwritten level by level as this one climbs (its levels above the meeting point are
    // this path's too), so nothing is allocated per line; a line not accepted past this point
    // leaves no run to shortcut to (the caller starts one again with remember).
    const nodes = last.nodes;
    const node = this.reached;
    leaf.copy(node, 0);
    for (let i = 0; i <= inner; i++) {
      if (i >= same && shiftRight(index, i) === shiftRight(last.index, i) && node.equals(nodes[i])) {
        out.writeDoubleLE(shard, at);
        out.writeDoubleLE(index, at + 8);
        last.bytes = keep(line, last.bytes);
        last.length = line.length;
        last.index = index;
        return true;
      }
      // Element i is not the previous line's: its own shape and digits.
      const e = HEAD.length + i * STRIDE;
      if (
        i === inner ||
        line[e] !== QUOTE ||
        line[e + ELEMENT - 1] !== QUOTE ||
        line[e + ELEMENT] !== (i === elements - 1 ? CLOSE_BRACKET : COMMA) ||
        !hexInto(line, e + 1, this.sibling)
      ) {
        this.last = undefined;
        return false;
      }
      node.copy(nodes[i], 0);
      if (bitAt(index, i) === 0) this.hashNode(nodes[i], this.sibling, node);
      else this.hashNode(this.sibling, nodes[i], node);
    }
    this.last = undefined;
    return false;
  }

  /**
   * A line the general check accepted: its inclusion proof (hex elements) verified for `leaf`
   * at `index` in the tree of `size` leaves with `root`. The next lines may shortcut to its path.
   */
  remember(
    line: Buffer,
    p: { shard: number; index: number; tree_size: number; inclusion_proof: readonly string[] },
    leaf: Buffer,
    root: Buffer,
  ): void {
    const inner = innerLength(p.index, p.tree_size);
    const canonical = startsWith(line, 0, HEAD) && line.length >= HEAD.length + p.inclusion_proof.length * STRIDE;
    if (!canonical || inner > p.inclusion_proof.length) {
      this.last = undefined;
      return;
    }
    const nodes: Buffer[] = [Buffer.from(leaf)];
    let node: Buffer = nodes[0];
    for (let i = 0; i < inner; i++) {
      const sibling = Buffer.from(p.inclusion_proof[i], 'hex');
      node = bitAt(p.index, i) === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
      nodes.push(node);
    }
    this.last = {
      bytes: keep(line, this.last?.bytes),
      length: line.length,
      elements: p.inclusion_proof.length,
      shard: p.shard,
      size: p.tree_size,
      root,
      index: p.index,
      inner,
      nodes,
    };
  }

  /** Forget the previous line (a line the general check did not accept broke the run). */
  reset(): void {
    this.last = undefined;
  }

  /** SHA-256(0x01 || left || right) written into `into` (see leafHashInBlock in line-blocks.ts for the 'binary' digest). */
  private hashNode(left: Buffer, right: Buffer, into: Buffer): void {
    left.copy(this.node, 1);
    right.copy(this.node, 1 + HASH_SIZE);
    this.node[0] = 0x01;
    into.write(hash('sha256', this.node, 'binary'), 0, HASH_SIZE, 'latin1');
  }
}

/** The inner part's length of the audit path of leaf `index` in a tree of `size` (RFC 9162 §2.1.3.2). */
function innerLength(index: number, size: number): number {
  if (size <= 0x7fffffff) return 32 - Math.clz32(index ^ (size - 1));
  return bitLength(xor(index, size - 1));
}

/** Whether bytes [from, to) of `a` and `b` are equal. */
function sameBytes(a: Buffer, b: Buffer, from: number, to: number): boolean {
  return a.compare(b, from, to, from, to) === 0;
}

/** Whether `expected` (a few bytes) lies at `at` of `line`: a loop, cheaper than a native compare call at this length. */
function startsWith(line: Buffer, at: number, expected: Buffer): boolean {
  if (at + expected.length > line.length) return false;
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false;
  return true;
}

/** The count written at `at` as (0|[1-9][0-9]{0,15}), a safe integer; -1 when there is none. */
function count(line: Buffer, at: number): number {
  let n = 0;
  let p = at;
  while (p < line.length && p - at < MAX_DIGITS + 1) {
    const d = line[p] - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    p++;
  }
  const len = p - at;
  if (len === 0 || len > MAX_DIGITS || (len > 1 && line[at] === 0x30) || !Number.isSafeInteger(n)) return -1;
  return n;
}

/** Digits of a count as count() read it (no leading zero). */
function digits(n: number): number {
  let len = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) len++;
  return len;
}

/** 2·out.length lowercase hex digits at `at` decoded into `out`; false on any other byte. */
function hexInto(line: Buffer, at: number, out: Buffer): boolean {
  if (at + 2 * out.length > line.length) return false;
  for (let i = 0; i < out.length; i++) {
    const hi = HEX[line[at + 2 * i]];
    const lo = HEX[line[at + 2 * i + 1]];
    if (hi < 0 || lo < 0) return false;
    out[i] = hi * 16 + lo;
  }
  return true;
}

/** A copy of `line` in `spare` when it fits (the block's memory goes back to the main thread). */
function keep(line: Buffer, spare: Buffer | undefined): Buffer {
  const into =
    spare !== undefined && spare.length >= line.length ? spare : Buffer.allocUnsafeSlow(Math.max(line.length, 4096));
  line.copy(into, 0);
  return into;
}
