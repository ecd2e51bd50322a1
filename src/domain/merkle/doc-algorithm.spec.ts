/**
 * docs/ledger-format.md §6.1 and §6.2 describe proof verification step by step (RFC 9162
 * §2.1.3.2 / §2.1.4.2 plus our input rules) so that a third party can implement it. This spec
 * implements those steps literally, independent of verifier.ts (which follows
 * transparency-dev/merkle's decomposition instead), and checks that both agree: on every probe
 * file, and on valid and mutated proofs of every tree up to 40 leaves.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appendLeaves } from './append.js';
import { leafHash, nodeHash } from './hasher.js';
import { consistencyProof, inclusionProof, type NodeReader } from './prover.js';
import { nodeKey } from './range.js';
import { verifyConsistency, verifyInclusion } from './verifier.js';

// ---------------------------------------------------------------------------------------------
// The documented algorithms, step by step (BigInt so that shifts are exact for any count).

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;
const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** §6.1. */
function docVerifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isCount(index) || !isCount(size) || index >= size) return false;
  if (leaf.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if (fn % 2n === 1n || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2n === 0n) {
        while (fn % 2n === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

/** §6.2. */
function docVerifyConsistency(
  size1: number,
  size2: number,
  proof: Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!isCount(size1) || !isCount(size2) || size2 < size1 || size1 === 0) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (proof.length === 0 || proof.some((p) => p.length !== 32)) return false;
  const isPowerOfTwo = (BigInt(size1) & BigInt(size1 - 1)) === 0n;
  const path = isPowerOfTwo ? [root1, ...proof] : [...proof];
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  while (fn % 2n === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Uint8Array = path[0];
  let sr: Uint8Array = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (fn % 2n === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2n === 0n) {
        while (fn % 2n === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(fr, root1) && equal(sr, root2);
}

// ---------------------------------------------------------------------------------------------

const accepts = (f: () => void) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsonFilesUnder(path) : name.endsWith('.json') ? [path] : [];
  });
}

describe('docs/ledger-format.md §6 algorithms, implemented literally', () => {
  const probes = join(process.cwd(), 'test/vectors/merkle/transparency-dev-merkle/testdata');
  const b64 = (s: string) => Buffer.from(s, 'base64');

  it('give every probe its wantErr', () => {
    const failures: string[] = [];
    for (const file of jsonFilesUnder(join(probes, 'inclusion'))) {
      const p = JSON.parse(readFileSync(file, 'utf8'));
      const ok = docVerifyInclusion(b64(p.leafHash), p.leafIdx, p.treeSize, (p.proof ?? []).map(b64), b64(p.root));
      if (ok === p.wantErr) failures.push(file);
    }
    for (const file of jsonFilesUnder(join(probes, 'consistency'))) {
      const p = JSON.parse(readFileSync(file, 'utf8'));
      const ok = docVerifyConsistency(p.size1, p.size2, (p.proof ?? []).map(b64), b64(p.root1), b64(p.root2));
      if (ok === p.wantErr) failures.push(file);
    }
    expect(failures).toEqual([]);
  });

  it('agree with verifier.ts on valid and mutated proofs of every tree up to 40 leaves', async () => {
    const MAX = 40;
    const leaves = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`doc ${i}`)));
    const built = appendLeaves({ treeSize: 0, frontier: [] }, leaves);
    const nodes = new Map(built.nodes.map((n) => [nodeKey(n), n.hash]));
    const read: NodeReader = async (ids) => ids.map((id) => nodes.get(nodeKey(id)) as Buffer);
    const roots: Buffer[] = [Buffer.alloc(32)];
    for (let n = 1; n <= MAX; n++) roots.push(appendLeaves({ treeSize: 0, frontier: [] }, leaves.slice(0, n)).root);

    /** Variants of a proof: as is, one flipped bit per element, one element dropped, one added. */
    const variants = (proof: Buffer[]): Buffer[][] => [
      proof,
      ...proof.map((_, i) => proof.map((h, j) => (j === i ? Buffer.from(h.map((b, k) => (k === 0 ? b ^ 1 : b))) : h))),
      ...(proof.length > 0 ? [proof.slice(1)] : []),
      [...proof, leaves[0]],
    ];

    const disagreements: string[] = [];
    let valid = 0;
    for (let size = 1; size <= MAX; size++) {
      for (let index = 0; index < size; index++) {
        for (const proof of variants(await inclusionProof(read, index, size))) {
          const ours = accepts(() => verifyInclusion(leaves[index], index, size, proof, roots[size]));
          if (ours !== docVerifyInclusion(leaves[index], index, size, proof, roots[size]))
            disagreements.push(`inclusion ${index}/${size}`);
          if (ours) valid++;
        }
      }
      for (let size1 = 1; size1 <= size; size1++) {
        for (const proof of variants(await consistencyProof(read, size1, size))) {
          const ours = accepts(() => verifyConsistency(size1, size, proof, roots[size1], roots[size]));
          if (ours !== docVerifyConsistency(size1, size, proof, roots[size1], roots[size]))
            disagreements.push(`consistency ${size1}/${size}`);
          if (ours) valid++;
        }
      }
    }
    expect(disagreements).toEqual([]);
    // Exactly the unmutated proofs are accepted: 820 inclusion + 820 consistency.
    expect(valid).toBe(1640);
  });
});
