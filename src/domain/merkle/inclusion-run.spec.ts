import { MerkleProofError } from './errors.js';
import { leafHash, nodeHash } from './hasher.js';
import { InclusionRunVerifier } from './inclusion-run.js';
import { verifyInclusion } from './verifier.js';
import { referencePath, referenceRoot } from '../../../test/support/reference-merkle.js';

const root = referenceRoot;
const path = (m: number, leaves: Buffer[]) => referencePath(m, leaves);

const leaves = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const hex = (p: Buffer[]) => p.map((h) => h.toString('hex'));

/** What verifyInclusion says: null when it verifies, else its error code. */
function reference(leaf: Buffer, index: number, size: number, proof: string[], r: Buffer): string | null {
  try {
    verifyInclusion(
      leaf,
      index,
      size,
      proof.map((h) => Buffer.from(h, 'hex')),
      r,
    );
    return null;
  } catch (e) {
    if (e instanceof MerkleProofError) return e.code;
    throw e;
  }
}

function decision(run: InclusionRunVerifier, leaf: Buffer, index: number, size: number, proof: string[], r: Buffer) {
  try {
    run.verify(leaf, index, size, proof, r);
    return null;
  } catch (e) {
    if (e instanceof MerkleProofError) return e.code;
    throw e;
  }
}

describe('InclusionRunVerifier', () => {
  it('accepts every leaf of runs over several tree sizes, in order', () => {
    const run = new InclusionRunVerifier();
    for (const size of [1, 2, 7, 64, 255, 300]) {
      const r = root(leaves.slice(0, size));
      for (let i = 0; i < size; i++) {
        expect(decision(run, leaves[i], i, size, hex(path(i, leaves.slice(0, size))), r)).toBeNull();
      }
    }
  });

  it('decides as verifyInclusion on every kind of wrong proof, right after a verified neighbour', () => {
    const size = 300;
    const r = root(leaves.slice(0, size));
    const proofOf = (i: number) => hex(path(i, leaves.slice(0, size)));
    const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
    let cases = 0;
    for (const i of [1, 2, 3, 100, 101, 255, 256, 299]) {
      const p = proofOf(i);
      const variants: Array<[Buffer, number, number, string[], Buffer]> = [
        [leaves[i - 1], i, size, p, r], // another leaf (the previous one) at this position
        [leaves[i], i - 1, size, p, r], // claimed at the previous index
        [leaves[i], i, size, p.slice(1), r], // too short
        [leaves[i], i, size, [...p, p[0]], r], // too long
        [leaves[i], i, size, p.map((h, k) => (k === 0 ? flip(h) : h)), r], // lowest sibling changed
        [leaves[i], i, size, p.map((h, k) => (k === p.length - 1 ? flip(h) : h)), r], // top sibling changed
        [leaves[i], i, size, p, nodeHash(r, r)], // another root
        [leaves[i], i, size - 1, p, r], // another size
        [leaves[i], i, size, p.map((h, k) => (k === 0 ? h.slice(2) : h)), r], // a short element
      ];
      for (const [leaf, index, sz, proof, root_] of variants) {
        const run = new InclusionRunVerifier();
        // The neighbour before is verified first, so the shortcut is available.
        run.verify(leaves[i - 1], i - 1, size, proofOf(i - 1), r);
        expect(decision(run, leaf, index, sz, proof, root_)).toBe(reference(leaf, index, sz, proof, root_));
        cases++;
      }
      // And the valid proof, after the neighbour, still verifies.
      const run = new InclusionRunVerifier();
      run.verify(leaves[i - 1], i - 1, size, proofOf(i - 1), r);
      expect(decision(run, leaves[i], i, size, p, r)).toBeNull();
    }
    expect(cases).toBe(72);
  });

  it('rejects a leaf whose own path is right but which claims a place a verified neighbour holds', () => {
    const size = 16;
    const r = root(leaves.slice(0, size));
    const run = new InclusionRunVerifier();
    run.verify(leaves[4], 4, size, hex(path(4, leaves.slice(0, size))), r);
    // Leaf 5's proof, presented for leaf 4's hash: the first hash differs from the stored node.
    expect(decision(run, leaves[4], 5, size, hex(path(5, leaves.slice(0, size))), r)).toBe('ROOT_MISMATCH');
  });
});
