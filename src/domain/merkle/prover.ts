/**
 * Proofs and past roots served from stored complete-subtree nodes (the ones appendLeaves
 * returns), reading only what a proof needs.
 *
 * Every element of an RFC 6962 proof is the Merkle Tree Hash of some range of leaves that is a
 * node of the RFC tree. A left-hand range is always a complete subtree (one stored node). A
 * range on the right edge of a tree may be incomplete; its hash is recomputed from the
 * complete subtrees that decompose it. Planning (which ranges, which node ids) is exported
 * and pure, so a repository can fetch a whole proof in one query; the async functions here do
 * exactly one NodeReader call per proof.
 */
import { NodeReaderError } from './errors.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hasher.js';
import { assertConsistencySizes, assertIndexInTree } from './preconditions.js';
import {
  assertCount,
  completeSubtrees,
  largestPowerOfTwoBelow,
  nodeKey,
  type LeafRange,
  type NodeId,
  type StoredNode,
} from './range.js';

export type { LeafRange, NodeId } from './range.js';

/**
 * Reads stored node hashes. Must return one hash per id, in the same order, and throw (not
 * return a placeholder) when a node is missing: a missing node means the caller asked about a
 * size the store has not reached, or the store is damaged.
 */
export type NodeReader = (ids: NodeId[]) => Promise<Buffer[]>;

// ---------------------------------------------------------------------------------------------
// Planning (pure)

/**
 * The ranges whose hashes make up the RFC 6962 §2.1.1 audit path PATH(index, D[0:size]), in
 * proof order (from the leaf's sibling up to the root's other child).
 * Precondition: 0 <= index < size.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertIndexInTree(index, size);
  return pathRanges(index, 0, size);
}

/**
 * The ranges whose hashes make up the RFC 6962 §2.1.2 consistency proof PROOF(size1,
 * D[0:size2]), in proof order. Empty when size1 = size2.
 * Precondition: 0 < size1 <= size2 (a proof from the empty tree proves nothing).
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  assertConsistencySizes(size1, size2);
  return subproofRanges(size1, 0, size2, true);
}

/**
 * The audit paths of many leaves at once (an export proves a page of records): `ranges` holds
 * each distinct element range once, and leaf j's path, in proof order as inclusionProofRanges
 * gives it, is ranges[elements[offsets[j]]], …, ranges[elements[offsets[j + 1] - 1]].
 */
export interface InclusionPathsPlan {
  ranges: LeafRange[];
  elements: Int32Array;
  offsets: Int32Array;
}

/**
 * inclusionProofRanges of each (indexes[j], sizes[j]), sharing ranges: a range equal to the
 * one at the same depth of the previous leaf's path is that range (leaves in increasing order
 * share all of their paths above the level where they part), so the ranges are planned and
 * later hashed once per page, without a map lookup per element. A range a non-adjacent leaf
 * also uses may appear twice in `ranges`: hashed twice, never wrong.
 * Precondition: 0 <= indexes[j] < sizes[j].
 */
export function inclusionPathsPlan(indexes: ArrayLike<number>, sizes: ArrayLike<number>): InclusionPathsPlan {
  const n = indexes.length;
  const ranges: LeafRange[] = [];
  const offsets = new Int32Array(n + 1);
  let elements = new Int32Array(Math.max(64, n * 20));
  // The previous path, top down: its sibling range and that range's position, per depth.
  const prevBegin: number[] = [];
  const prevEnd: number[] = [];
  const prevId: number[] = [];
  let prevDepth = 0;
  const topDown: number[] = [];
  for (let j = 0; j < n; j++) {
    const index = indexes[j];
    assertIndexInTree(index, sizes[j]);
    let begin = 0;
    let end = sizes[j];
    let depth = 0;
    while (end - begin > 1) {
      const split = begin + largestPowerOfTwoBelow(end - begin);
      const left = index < split;
      const sb = left ? split : begin;
      const se = left ? end : split;
      let id: number;
      if (depth < prevDepth && prevBegin[depth] === sb && prevEnd[depth] === se) id = prevId[depth];
      else {
        id = ranges.push({ begin: sb, end: se }) - 1;
        prevBegin[depth] = sb;
        prevEnd[depth] = se;
        prevId[depth] = id;
      }
      topDown[depth++] = id;
      if (left) end = split;
      else begin = split;
    }
    prevDepth = depth;
    const at = offsets[j];
    if (at + depth > elements.length) {
      const grown = new Int32Array(Math.max(elements.length * 2, at + depth));
      grown.set(elements);
      elements = grown;
    }
    for (let d = 0; d < depth; d++) elements[at + d] = topDown[depth - 1 - d];
    offsets[j + 1] = at + depth;
  }
  return { ranges, elements: elements.subarray(0, offsets[n]), offsets };
}

/** The stored nodes needed to hash `ranges`, each once, in first-use order. */
export function nodeIdsForRanges(ranges: LeafRange[]): NodeId[] {
  const ids = new Map<string, NodeId>();
  for (const range of ranges) {
    for (const id of completeSubtrees(range)) ids.set(nodeKey(id), id);
  }
  return [...ids.values()];
}

/** The stored nodes an inclusion proof reads. */
export function inclusionProofNodeIds(index: number, size: number): NodeId[] {
  return nodeIdsForRanges(inclusionProofRanges(index, size));
}

/** The stored nodes a consistency proof reads. */
export function consistencyProofNodeIds(size1: number, size2: number): NodeId[] {
  return nodeIdsForRanges(consistencyProofRanges(size1, size2));
}

/** The stored nodes the root of a tree of `size` leaves is folded from: its frontier. */
export function rootNodeIds(size: number): NodeId[] {
  assertCount(size, 'size');
  return completeSubtrees({ begin: 0, end: size });
}

/**
 * The Merkle Tree Hash of each range, computed from `hashes` (the hashes of `ids`, same
 * order), which must include every complete subtree of every range.
 */
export function rangeHashesFromNodes(ranges: LeafRange[], ids: NodeId[], hashes: Buffer[]): Buffer[] {
  const byKey = hashesByKey(ids, hashes);
  return ranges.map((range) => foldSubtrees(completeSubtrees(range).map((id) => lookup(byKey, id))));
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * A reader that answers from `known` nodes (hashes the caller holds in memory: an append's old
 * frontier and the nodes it just created) and asks `read` only for the rest, in one call.
 * Signing a checkpoint right after an append needs no stored node at all when the previous
 * checkpoint is the old tree: every node of that consistency proof lies in the old frontier or
 * in the appended leaves' range.
 */
export function readerWithKnownNodes(known: StoredNode[], read: NodeReader): NodeReader {
  const byKey = new Map(known.map((n) => [nodeKey(n), n.hash]));
  return async (ids) => {
    const out = ids.map((id) => byKey.get(nodeKey(id)));
    const missing = ids.filter((_, i) => out[i] === undefined);
    if (missing.length === 0) return out as Buffer[];
    const fetched = await read(missing);
    let next = 0;
    return out.map((hash) => hash ?? fetched[next++]);
  };
}

/** The RFC 6962 audit path for leaf `index` in the tree of the first `size` leaves. */
export async function inclusionProof(read: NodeReader, index: number, size: number): Promise<Buffer[]> {
  return hashesOfRanges(read, inclusionProofRanges(index, size));
}

/** The RFC 6962 consistency proof between the trees of the first size1 and size2 leaves. */
export async function consistencyProof(read: NodeReader, size1: number, size2: number): Promise<Buffer[]> {
  return hashesOfRanges(read, consistencyProofRanges(size1, size2));
}

/**
 * The root the tree had when it held `size` leaves: EMPTY_ROOT for 0, else the frontier of
 * that size folded from the right. Precondition: the store holds at least `size` leaves.
 */
export async function rootAtSize(read: NodeReader, size: number): Promise<Buffer> {
  if (rootNodeIds(size).length === 0) return Buffer.from(EMPTY_ROOT);
  const [root] = await hashesOfRanges(read, [{ begin: 0, end: size }]);
  return root;
}

async function hashesOfRanges(read: NodeReader, ranges: LeafRange[]): Promise<Buffer[]> {
  const ids = nodeIdsForRanges(ranges);
  if (ids.length === 0) return [];
  return rangeHashesFromNodes(ranges, ids, await read(ids));
}

// ---------------------------------------------------------------------------------------------
// RFC 6962 recursions, over ranges instead of hashes

/**
 * PATH(m, D[begin:end]) of RFC 6962 §2.1.1, with m absolute. The recursion
 * PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) (or its mirror) unrolled from the root down:
 * each step's sibling range goes after everything below it, so the list is built top first
 * and reversed (an export plans one path per record: no array copy per level).
 */
function pathRanges(index: number, begin: number, end: number): LeafRange[] {
  const ranges: LeafRange[] = [];
  while (end - begin > 1) {
    const split = begin + largestPowerOfTwoBelow(end - begin);
    if (index < split) {
      ranges.push({ begin: split, end });
      end = split;
    } else {
      ranges.push({ begin, end: split });
      begin = split;
    }
  }
  return ranges.reverse();
}

/**
 * SUBPROOF(m, D[begin:end], b) of RFC 6962 §2.1.2, with m counted from `begin`.
 * `wholeOldTree` is the RFC's b: true while D[begin:begin+m] is the old tree itself, whose root
 * the verifier already has.
 */
function subproofRanges(m: number, begin: number, end: number, wholeOldTree: boolean): LeafRange[] {
  if (m === end - begin) return wholeOldTree ? [] : [{ begin, end }];
  const k = largestPowerOfTwoBelow(end - begin);
  return m <= k
    ? [...subproofRanges(m, begin, begin + k, wholeOldTree), { begin: begin + k, end }]
    : [...subproofRanges(m - k, begin + k, end, false), { begin, end: begin + k }];
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Fold complete subtrees of strictly decreasing size from the right: the MTH of their union. */
function foldSubtrees(hashes: Buffer[]): Buffer {
  let hash = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) hash = nodeHash(hashes[i], hash);
  return hash;
}

function hashesByKey(ids: NodeId[], hashes: Buffer[]): Map<string, Buffer> {
  if (!Array.isArray(hashes) || hashes.length !== ids.length) {
    throw new NodeReaderError('READER_RESULT_LENGTH', `asked for ${ids.length} nodes, got ${hashes?.length}`);
  }
  const byKey = new Map<string, Buffer>();
  ids.forEach((id, i) => {
    const hash = hashes[i];
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
      throw new NodeReaderError('READER_BAD_HASH', `node ${nodeKey(id)} is not a ${HASH_SIZE}-byte hash`);
    }
    byKey.set(nodeKey(id), Buffer.from(hash.buffer, hash.byteOffset, hash.length));
  });
  return byKey;
}

function lookup(byKey: Map<string, Buffer>, id: NodeId): Buffer {
  const hash = byKey.get(nodeKey(id));
  if (hash === undefined) throw new NodeReaderError('READER_RESULT_LENGTH', `node ${nodeKey(id)} was not supplied`);
  return hash;
}
