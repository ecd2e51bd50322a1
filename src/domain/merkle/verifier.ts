/**
 * RFC 9162 §2.1.3.2 and §2.1.4.2 proof verification (the RFC 6962 proofs), written after
 * transparency-dev/merkle `proof/verify.go`, with its two extra input rules:
 *  - a leaf hash must be exactly HASH_SIZE bytes (an empty "leaf hash" equal to an empty root
 *    must not verify);
 *  - a consistency proof from size 0 is rejected, even between two equal empty roots.
 * We also require every proof element to be HASH_SIZE bytes, so a truncated or padded element
 * is reported as such instead of as a root mismatch. Roots are compared, not size-checked: a
 * root of the wrong length can never equal a computed one.
 *
 * Every function checks all its preconditions before hashing anything.
 */
import { MerkleProofError } from './errors.js';
import { assertHashSize, nodeHash } from './hasher.js';
import { assertConsistencySizes, assertIndexInTree } from './preconditions.js';
import { bitAt, bitLength, onesCount, shiftRight, trailingZeros, xor } from './range.js';

/**
 * Throws unless `proof` shows that `leafHash` is leaf `index` of the tree of `size` leaves whose
 * root is `root`. Codes: BAD_TREE_SIZE, INDEX_OUT_OF_RANGE, BAD_HASH_SIZE, BAD_PROOF_LENGTH,
 * ROOT_MISMATCH.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  assertRootsEqual(computed, root, 'root');
}

/**
 * The root implied by an inclusion proof (RFC 9162 §2.1.3.2). Useful when the root is to be
 * looked up rather than compared. Preconditions: 0 <= index < size, leafHash and every proof
 * element are HASH_SIZE bytes, the proof has exactly the length the position implies.
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[]): Buffer {
  assertIndexInTree(index, size);
  assertHashSize(leafHash, 'leaf hash');
  assertProofHashes(proof);
  const { inner, border } = inclusionProofShape(index, size);
  assertProofLength(proof.length, inner + border);
  const seed = chainInner(leafHash, proof.slice(0, inner), index);
  return chainBorderRight(seed, proof.slice(inner));
}

/**
 * Throws unless `proof` shows that the tree of size2 leaves with root2 extends the tree of
 * size1 leaves with root1 (RFC 9162 §2.1.4.2). Codes: BAD_TREE_SIZE, SIZE_DECREASED,
 * EMPTY_TREE_CONSISTENCY, BAD_HASH_SIZE, BAD_PROOF_LENGTH, ROOT_MISMATCH.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  assertConsistencySizes(size1, size2);
  if (size1 === size2) {
    // Equal trees: the only valid proof is empty, and the roots must be the same.
    assertProofLength(proof.length, 0);
    assertRootsEqual(root1, root2, 'root2 (equal sizes)');
    return;
  }
  assertProofHashes(proof);
  const [hash1, hash2] = rootsFromConsistencyProof(size1, size2, proof, root1);
  assertRootsEqual(hash1, root1, 'root1');
  assertRootsEqual(hash2, root2, 'root2');
}

/**
 * Both roots a consistency proof implies, for 0 < size1 < size2. The proof is, after an
 * optional seed, a suffix of the inclusion proof of leaf size1-1 in the tree of size2; the
 * levels below the old tree's last complete subtree are skipped.
 */
function rootsFromConsistencyProof(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
): [Buffer, Buffer] {
  const shift = trailingZeros(size1);
  // When size1 is a power of two the old tree is itself a complete subtree of the new one and
  // its root is the seed; otherwise the proof starts with the seed.
  const seedIsRoot1 = size1 === 2 ** shift;
  const start = seedIsRoot1 ? 0 : 1;
  const { inner, border } = inclusionProofShape(size1 - 1, size2);
  // Levels below `shift` lie inside the seed subtree, so the proof does not carry them.
  const innerAbove = inner - shift;
  assertProofLength(proof.length, start + innerAbove + border);
  const seed = seedIsRoot1 ? root1 : proof[0];
  const path = proof.slice(start);
  const mask = shiftRight(size1 - 1, shift);
  const hash1 = chainBorderRight(chainInnerRight(seed, path.slice(0, innerAbove), mask), path.slice(innerAbove));
  const hash2 = chainBorderRight(chainInner(seed, path.slice(0, innerAbove), mask), path.slice(innerAbove));
  return [hash1, hash2];
}

/**
 * How an audit path splits: `inner` elements below the point where the leaf's path leaves the
 * right edge of the tree, then `border` elements along the left of the right edge.
 */
function inclusionProofShape(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  return { inner, border: onesCount(shiftRight(index, inner)) };
}

/** Hash `seed` up through inner proof elements; bit i of index says which side it is on. */
function chainInner(seed: Uint8Array, proof: Uint8Array[], index: number): Buffer {
  let hash: Buffer = Buffer.from(seed);
  proof.forEach((sibling, i) => {
    hash = bitAt(index, i) === 0 ? nodeHash(hash, sibling) : nodeHash(sibling, hash);
  });
  return hash;
}

/** Like chainInner, but only the left siblings count: the old tree has no right siblings. */
function chainInnerRight(seed: Uint8Array, proof: Uint8Array[], index: number): Buffer {
  let hash: Buffer = Buffer.from(seed);
  proof.forEach((sibling, i) => {
    if (bitAt(index, i) === 1) hash = nodeHash(sibling, hash);
  });
  return hash;
}

/** Hash `seed` up the right edge: every border element is a left sibling. */
function chainBorderRight(seed: Uint8Array, proof: Uint8Array[]): Buffer {
  let hash: Buffer = Buffer.from(seed);
  for (const sibling of proof) hash = nodeHash(sibling, hash);
  return hash;
}

function assertProofHashes(proof: Uint8Array[]): void {
  proof.forEach((hash, i) => assertHashSize(hash, `proof element ${i}`));
}

function assertProofLength(got: number, want: number): void {
  if (got !== want) throw new MerkleProofError('BAD_PROOF_LENGTH', `proof has ${got} elements, want ${want}`);
}

function assertRootsEqual(computed: Uint8Array, expected: Uint8Array, what: string): void {
  if (!Buffer.from(computed).equals(Buffer.from(expected))) {
    throw new MerkleProofError(
      'ROOT_MISMATCH',
      `${what} mismatch: computed ${Buffer.from(computed).toString('hex')}, expected ${Buffer.from(expected).toString('hex')}`,
    );
  }
}
