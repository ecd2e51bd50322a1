/**
 * Appending leaves to a log without reading the tree back (a "compact range" over [0, size),
 * as in transparency-dev/merkle `compact/` and tessera's integrate step).
 *
 * The only state an append needs is the frontier: the hashes of the maximal complete subtrees
 * of the current tree, one per set bit of treeSize, largest (leftmost) first. Each new leaf is
 * pushed on the right and merged with equal-sized neighbours, so one leaf costs O(log n)
 * hashes, and the caller stores every complete node it returns so that proofs can later be
 * served from stored nodes alone (see prover.ts).
 */
import { MerkleProofError } from './errors.js';
import { EMPTY_ROOT, assertHashSize, nodeHash } from './hasher.js';
import { assertCount, bitAt, onesCount, type StoredNode } from './range.js';

// Re-exported so that callers storing nodes need only this module.
export type { NodeId, StoredNode } from './range.js';

export interface TreeState {
  treeSize: number;
  /** Maximal complete subtree hashes, largest (leftmost) first; one per set bit of treeSize. */
  frontier: Buffer[];
}

export interface AppendResult extends TreeState {
  /** Merkle Tree Hash of the new tree (RFC 6962 §2.1). */
  root: Buffer;
  /**
   * Every complete-subtree node this append created, the new leaves (level 0) included, in
   * creation order. Durable only once the caller has stored them; nothing here is persisted.
   */
  nodes: StoredNode[];
}

/**
 * The tree after appending `leafHashes` (already hashed with leafHash) to `state`.
 *
 * Preconditions, checked before hashing: `state.treeSize` is a non-negative safe integer,
 * `state.frontier` has one HASH_SIZE-byte hash per set bit of it, every leaf hash is
 * HASH_SIZE bytes. `state` is not modified. Appending nothing returns the same tree.
 */
export function appendLeaves(state: TreeState, leafHashes: Buffer[]): AppendResult {
  assertFrontierMatchesSize(state);
  leafHashes.forEach((hash, i) => assertHashSize(hash, `leaf hash ${i}`));
  assertCount(state.treeSize + leafHashes.length, 'new tree size');

  const frontier = [...state.frontier];
  const nodes: StoredNode[] = [];
  let treeSize = state.treeSize;
  for (const leaf of leafHashes) {
    nodes.push(...pushLeaf(frontier, treeSize, leaf));
    treeSize++;
  }
  return { treeSize, frontier, root: rootFromFrontier(frontier), nodes };
}

/**
 * Merkle Tree Hash of the tree whose frontier is given: the frontier folded from the right
 * (the RFC 6962 split always puts the largest power of two on the left). EMPTY_ROOT for none.
 */
export function rootFromFrontier(frontier: Buffer[]): Buffer {
  if (frontier.length === 0) return Buffer.from(EMPTY_ROOT);
  let root = frontier[frontier.length - 1];
  for (let i = frontier.length - 2; i >= 0; i--) root = nodeHash(frontier[i], root);
  return root;
}

/**
 * Push leaf number `leafIndex` (= current size) onto `frontier` in place, merging it with
 * every equal-sized subtree to its left: bit `level` of the old size is set exactly when the
 * smallest frontier subtree has that level. Returns the nodes created.
 */
function pushLeaf(frontier: Buffer[], leafIndex: number, leaf: Buffer): StoredNode[] {
  const created: StoredNode[] = [{ level: 0, index: leafIndex, hash: leaf }];
  let hash = leaf;
  let level = 0;
  while (bitAt(leafIndex, level) === 1) {
    hash = nodeHash(frontier.pop() as Buffer, hash);
    level++;
    created.push({ level, index: Math.floor(leafIndex / 2 ** level), hash });
  }
  frontier.push(hash);
  return created;
}

function assertFrontierMatchesSize(state: TreeState): void {
  assertCount(state.treeSize, 'treeSize');
  const expected = onesCount(state.treeSize);
  if (state.frontier.length !== expected) {
    throw new MerkleProofError(
      'BAD_FRONTIER',
      `a tree of size ${state.treeSize} has ${expected} frontier hashes, got ${state.frontier.length}`,
    );
  }
  state.frontier.forEach((hash, i) => assertHashSize(hash, `frontier hash ${i}`));
}
