/**
 * Tree geometry: which complete subtrees make up a range of leaves, and the bit arithmetic
 * the proof algorithms need.
 *
 * Sizes and indices are JavaScript numbers. JS bitwise operators truncate to 32 bits, and a
 * shard may in principle outgrow 2^32 leaves, so every helper here uses plain arithmetic
 * (exact for safe integers) instead of `>>`, `&` and `^`.
 */
import { MerkleProofError } from './errors.js';

/**
 * The complete subtree over leaves [index·2^level, (index+1)·2^level).
 * Level 0 nodes are leaf hashes; a level-k node is nodeHash(level k-1 nodes 2i and 2i+1).
 */
export interface NodeId {
  level: number;
  index: number;
}

/** A stored node: its id and its hash. */
export type StoredNode = NodeId & { hash: Buffer };

/** The leaves [begin, end) of a tree; the Merkle Tree Hash of such a range is MTH(D[begin:end]). */
export interface LeafRange {
  begin: number;
  end: number;
}

/** Throws BAD_TREE_SIZE unless `n` is a non-negative safe integer. */
export function assertCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new MerkleProofError('BAD_TREE_SIZE', `${what} must be a non-negative safe integer, got ${n}`);
  }
}

/** The k of RFC 6962 §2.1: the largest power of two strictly smaller than n (n >= 2). */
export function largestPowerOfTwoBelow(n: number): number {
  // Up to 2^31: the highest set bit of n - 1 (Math.clz32 reads 32 bits), at most 2^30, so a
  // 32-bit shift holds it. `2 ** x` with a variable x cost ~50 ns a call in V8 against ~4 for
  // the shift; an export plans ~20 of these per record.
  if (n >= 2 && n <= 0x80000000) return 1 << (31 - Math.clz32(n - 1));
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** floor(x / 2^n), exact for safe integers. */
export function shiftRight(x: number, n: number): number {
  return Math.floor(x / 2 ** n);
}

/** Bit i of x (0 = least significant). */
export function bitAt(x: number, i: number): number {
  return shiftRight(x, i) % 2;
}

/** Number of bits needed to write x (0 for 0): Go's bits.Len64. */
export function bitLength(x: number): number {
  let n = 0;
  for (let rest = x; rest >= 1; rest = Math.floor(rest / 2)) n++;
  return n;
}

/** Number of set bits of x: Go's bits.OnesCount64. */
export function onesCount(x: number): number {
  let n = 0;
  for (let rest = x; rest >= 1; rest = Math.floor(rest / 2)) n += rest % 2;
  return n;
}

/** Number of trailing zero bits of x > 0: Go's bits.TrailingZeros64. */
export function trailingZeros(x: number): number {
  let n = 0;
  for (let rest = x; rest % 2 === 0; rest /= 2) n++;
  return n;
}

/** a XOR b for safe integers (BigInt, because `^` truncates to 32 bits). */
export function xor(a: number, b: number): number {
  return Number(BigInt(a) ^ BigInt(b));
}

/**
 * The maximal complete subtrees that exactly cover [begin, end), left to right: at each step
 * the largest aligned subtree starting at `begin` that fits.
 *
 * For [0, n) these are the frontier of a tree of size n, one per set bit of n, largest first.
 * For a range that is a node of the RFC 6962 tree (as every proof element is), sizes strictly
 * decrease, and folding them from the right with nodeHash gives that range's MTH.
 */
export function completeSubtrees(range: LeafRange): NodeId[] {
  const ids: NodeId[] = [];
  for (let begin = range.begin; begin < range.end;) {
    // size = 2^level, doubled in place (exact for safe integers; no `**` per step).
    let level = 0;
    let size = 1;
    while (begin % (size * 2) === 0 && begin + size * 2 <= range.end) {
      level++;
      size *= 2;
    }
    ids.push({ level, index: begin / size });
    begin += size;
  }
  return ids;
}

/** Stable map key of a node id. */
export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}
