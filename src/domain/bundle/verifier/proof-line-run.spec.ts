import { leafHash } from '../../merkle/hasher.js';
import { verifyInclusion } from '../../merkle/verifier.js';
import { proofLineText, type ProofLine } from '../bundle-format.js';
import { ProofLineRun } from './proof-line-run.js';
import { referencePath, referenceRoot } from '../../../../test/support/reference-merkle.js';

const roots = new Map<string, Buffer>();
function root(leaves: Buffer[]): Buffer {
  const key = leaves.map((l) => l.toString('hex', 0, 4)).join();
  let r = roots.get(key);
  if (r === undefined) roots.set(key, (r = referenceRoot(leaves)));
  return r;
}

const path = (m: number, leaves: Buffer[]) => referencePath(m, leaves, root);

const leaves = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const SHARD = 3;

function proof(index: number, size: number): ProofLine {
  return {
    shard: SHARD,
    index,
    leaf_hash: leaves[index].toString('hex'),
    tree_size: size,
    inclusion_proof: path(index, leaves.slice(0, size)).map((h) => h.toString('hex')),
  };
}

const bytes = (p: ProofLine | string) => Buffer.from(typeof p === 'string' ? p : proofLineText(p), 'latin1');

/** Whether the line is a canonical proof line whose proof verifies (what the general check decides). */
function verifies(line: Buffer, size: number): boolean {
  let p: ProofLine;
  try {
    p = JSON.parse(line.toString('latin1')) as ProofLine;
  } catch {
    return false;
  }
  if (proofLineText(p) !== line.toString('latin1') || p.shard !== SHARD || p.tree_size !== size) return false;
  try {
    verifyInclusion(
      Buffer.from(p.leaf_hash, 'hex'),
      p.index,
      p.tree_size,
      p.inclusion_proof.map((h) => Buffer.from(h, 'hex')),
      root(leaves.slice(0, size)),
    );
    return true;
  } catch {
    return false;
  }
}

/** A run whose previous line is leaf `index`'s, checked the general way. */
function runAfter(index: number, size: number): ProofLineRun {
  const run = new ProofLineRun();
  const p = proof(index, size);
  run.remember(bytes(p), p, leaves[index], root(leaves.slice(0, size)));
  return run;
}

describe('ProofLineRun', () => {
  it('accepts the next leaves of a run on their bytes, with their shard, index and leaf hash', () => {
    for (const size of [2, 7, 64, 255, 300]) {
      const run = runAfter(0, size);
      const out = Buffer.alloc(48);
      let accepted = 0;
      for (let i = 1; i < size; i++) {
        const p = proof(i, size);
        if (run.accept(bytes(p), out, 0)) {
          accepted++;
          expect([out.readDoubleLE(0), out.readDoubleLE(8)]).toEqual([SHARD, i]);
          expect(out.subarray(16).equals(leaves[i])).toBe(true);
        } else {
          // Where the path's shape changes (the inner part is shorter), the general check takes over.
          expect(verifies(bytes(p), size)).toBe(true);
          run.remember(bytes(p), p, leaves[i], root(leaves.slice(0, size)));
        }
      }
      // One general check per shape of path: at most one per set bit of the size.
      expect(size - 1 - accepted).toBeLessThanOrEqual(Math.log2(size) + 1);
    }
  });

  it('accepts leaves that skip ahead in the same tree (another tenant in between)', () => {
    const run = runAfter(3, 300);
    for (const i of [17, 18, 100, 255]) expect(run.accept(bytes(proof(i, 300)), Buffer.alloc(48), 0)).toBe(true);
  });

  it('leaves the first line, a new tree size and another shard to the general check', () => {
    expect(new ProofLineRun().accept(bytes(proof(1, 300)), Buffer.alloc(48), 0)).toBe(false);
    expect(runAfter(0, 200).accept(bytes(proof(1, 300)), Buffer.alloc(48), 0)).toBe(false);
    // Leaf 256 of 300 has a shorter inner path than leaf 255: its proof has another shape.
    expect(runAfter(255, 300).accept(bytes(proof(256, 300)), Buffer.alloc(48), 0)).toBe(false);
    const other = { ...proof(1, 300), shard: SHARD + 1 };
    expect(runAfter(0, 300).accept(bytes(other), Buffer.alloc(48), 0)).toBe(false);
  });

  it('never accepts a line the general check would not: every single-byte change of a valid next line', () => {
    const size = 300;
    const base = bytes(proof(6, size));
    const replacements = [0x30, 0x31, 0x39, 0x61, 0x66, 0x41, 0x46, 0x67, 0x20, 0x22, 0x2c, 0x5d, 0x7d];
    let tried = 0;
    for (let at = 0; at < base.length; at++) {
      for (const b of replacements) {
        if (base[at] === b) continue;
        const line = Buffer.from(base);
        line[at] = b;
        const accepted = runAfter(5, size).accept(line, Buffer.alloc(48), 0);
        if (accepted) expect(verifies(line, size)).toBe(true);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(base.length * 10);
  });

  it('never accepts a changed element the previous line shares, nor a swapped, dropped or added element', () => {
    const size = 300;
    const p = proof(6, size);
    const cases: ProofLine[] = [];
    for (let k = 0; k < p.inclusion_proof.length; k++) {
      const changed = [...p.inclusion_proof];
      changed[k] = changed[k].slice(0, 10) + (changed[k][10] === '0' ? '1' : '0') + changed[k].slice(11);
      cases.push({ ...p, inclusion_proof: changed });
      cases.push({ ...p, inclusion_proof: p.inclusion_proof.filter((_, j) => j !== k) });
      cases.push({
        ...p,
        inclusion_proof: [...p.inclusion_proof.slice(0, k), p.inclusion_proof[k], ...p.inclusion_proof.slice(k)],
      });
      if (k > 0) {
        const swapped = [...p.inclusion_proof];
        [swapped[k - 1], swapped[k]] = [swapped[k], swapped[k - 1]];
        cases.push({ ...p, inclusion_proof: swapped });
      }
    }
    cases.push({ ...p, index: 7 }, { ...p, index: 5 }, { ...p, leaf_hash: leaves[7].toString('hex') });
    for (const c of cases) expect(runAfter(5, size).accept(bytes(c), Buffer.alloc(48), 0)).toBe(false);
    // Text that is not the canonical line: leading zero, spacing, upper-case hex, trailing bytes.
    const text = proofLineText(p);
    for (const t of [
      text.replace('"index":6', '"index":06'),
      text.replace('"index":6', '"index": 6'),
      text.replace(p.leaf_hash, p.leaf_hash.toUpperCase()),
      text.replace(p.inclusion_proof[0], p.inclusion_proof[0].toUpperCase()),
      `${text} `,
      text.slice(0, -1),
    ])
      expect(runAfter(5, size).accept(bytes(t), Buffer.alloc(48), 0)).toBe(false);
  });
});
