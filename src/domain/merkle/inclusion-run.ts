/**
 * Inclusion proofs of a run of neighbouring leaves (an export's records, in leaf order),
 * verified with the work their audit paths share.
 *
 * verifyInclusion hashes log2(size) nodes per leaf. Two leaves' paths meet at their lowest
 * common ancestor and are the same above it: the computation from level i up depends only on
 * the node hash reached at level i, the node's position (index / 2^i), the tree size and the
 * proof elements from i on. So once a leaf's path reaches, at the same position, the node hash
 * a previous path of the same tree computed, and its remaining elements are the previous
 * proof's, it ends at the previous (verified) root: consecutive leaves cost about two node
 * hashes each instead of log2(size).
 *
 * Decisions are verifyInclusion's: a proof that takes no shortcut is handed to verifyInclusion
 * whole, so every rejection carries its code and message.
 */
import { HASH_SIZE, nodeHash } from './hasher.js';
import { bitAt, bitLength, shiftRight, xor } from './range.js';
import { verifyInclusion } from './verifier.js';

interface VerifiedPath {
  size: number;
  root: Buffer;
  index: number;
  /** Proof elements below the point where the path joins the right edge (see verifier.ts). */
  inner: number;
  proof: readonly string[];
  /** nodes[i]: the hash the path reached at level i (nodes[0] is the leaf), for i <= inner. */
  nodes: Buffer[];
}

export class InclusionRunVerifier {
  private last?: VerifiedPath;

  /**
   * Throws (MerkleProofError, as verifyInclusion) unless `proof`, lowercase hex elements, shows
   * that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`.
   */
  verify(leaf: Buffer, index: number, size: number, proof: readonly string[], root: Buffer): void {
    const last = this.last;
    if (last !== undefined && last.size === size && last.root.equals(root) && leaf.length === HASH_SIZE) {
      const path = this.shortcut(last, leaf, index, proof);
      if (path !== undefined) {
        this.last = path;
        return;
      }
    }
    verifyInclusion(
      leaf,
      index,
      size,
      proof.map((h) => Buffer.from(h, 'hex')),
      root,
    );
    this.last = { size, root, index, inner: innerLength(index, size), proof, nodes: [] };
    this.last.nodes = pathNodes(leaf, index, proof, this.last.inner);
  }

  /** The verified path of this leaf if it reaches the last path's computation, else undefined. */
  private shortcut(
    last: VerifiedPath,
    leaf: Buffer,
    index: number,
    proof: readonly string[],
  ): VerifiedPath | undefined {
    if (!Number.isSafeInteger(index) || index < 0 || index >= last.size) return undefined;
    const inner = innerLength(index, last.size);
    if (inner !== last.inner || proof.length !== last.proof.length) return undefined;
    const nodes: Buffer[] = [leaf];
    let hash = leaf;
    for (let i = 0; i <= inner; i++) {
      if (
        shiftRight(index, i) === shiftRight(last.index, i) &&
        hash.equals(last.nodes[i]) &&
        sameFrom(proof, last.proof, i)
      ) {
        for (let j = i + 1; j <= inner; j++) nodes.push(last.nodes[j]);
        return { ...last, index, proof, nodes };
      }
      if (i === inner) return undefined;
      const sibling = Buffer.from(proof[i], 'hex');
      if (sibling.length !== HASH_SIZE || proof[i].length !== HASH_SIZE * 2) return undefined;
      hash = bitAt(index, i) === 0 ? nodeHash(hash, sibling) : nodeHash(sibling, hash);
      nodes.push(hash);
    }
    return undefined;
  }
}

/** The inner part's length of the audit path of leaf `index` in a tree of `size` (RFC 9162 §2.1.3.2). */
function innerLength(index: number, size: number): number {
  return bitLength(xor(index, size - 1));
}

/** The hashes a verified path reaches at levels 0..inner. */
function pathNodes(leaf: Buffer, index: number, proof: readonly string[], inner: number): Buffer[] {
  const nodes = [leaf];
  let hash = leaf;
  for (let i = 0; i < inner; i++) {
    const sibling = Buffer.from(proof[i], 'hex');
    hash = bitAt(index, i) === 0 ? nodeHash(hash, sibling) : nodeHash(sibling, hash);
    nodes.push(hash);
  }
  return nodes;
}

function sameFrom(a: readonly string[], b: readonly string[], from: number): boolean {
  for (let i = from; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
