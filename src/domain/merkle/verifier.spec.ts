import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MerkleProofError } from './errors.js';
import { leafHash } from './hasher.js';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verifier.js';

const MERKLE_DIR = join(process.cwd(), 'test/vectors/merkle');
const PROBE_DIR = join(MERKLE_DIR, 'transparency-dev-merkle/testdata');

interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? jsonFilesUnder(path) : name.endsWith('.json') ? [path] : [];
    });
}

const b64 = (s: string) => Buffer.from(s, 'base64');
const hex = (s: string) => Buffer.from(s, 'hex');

/** Runs `check`; returns the failure line for this probe, or null when the outcome matches. */
function probeFailure(file: string, wantErr: boolean, check: () => void): string | null {
  let error: unknown = null;
  try {
    check();
  } catch (e) {
    error = e;
  }
  if (error !== null && !(error instanceof MerkleProofError))
    return `${file}: threw a non-MerkleProofError ${String(error)}`;
  if (wantErr && error === null) return `${file}: accepted, want error`;
  if (!wantErr && error !== null)
    return `${file}: rejected (${(error as MerkleProofError).code}: ${(error as Error).message})`;
  return null;
}

describe('verifier: every transparency-dev/merkle probe matches wantErr', () => {
  const inclusionFiles = jsonFilesUnder(join(PROBE_DIR, 'inclusion'));
  const consistencyFiles = jsonFilesUnder(join(PROBE_DIR, 'consistency'));

  it('finds all 98 inclusion and 98 consistency probes', () => {
    expect([inclusionFiles.length, consistencyFiles.length]).toEqual([98, 98]);
  });

  it('inclusion probes: no failures', () => {
    const failures = inclusionFiles
      .map((file) => {
        const p = JSON.parse(readFileSync(file, 'utf8')) as InclusionProbe;
        return probeFailure(relative(PROBE_DIR, file), p.wantErr, () =>
          verifyInclusion(b64(p.leafHash), p.leafIdx, p.treeSize, (p.proof ?? []).map(b64), b64(p.root)),
        );
      })
      .filter((f): f is string => f !== null);
    expect(failures).toEqual([]);
  });

  it('consistency probes: no failures', () => {
    const failures = consistencyFiles
      .map((file) => {
        const p = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyProbe;
        return probeFailure(relative(PROBE_DIR, file), p.wantErr, () =>
          verifyConsistency(p.size1, p.size2, (p.proof ?? []).map(b64), b64(p.root1), b64(p.root2)),
        );
      })
      .filter((f): f is string => f !== null);
    expect(failures).toEqual([]);
  });
});

describe('verifier: RFC 6962 hex tables (transparency-dev/merkle verify_test.go)', () => {
  const tree = JSON.parse(readFileSync(join(MERKLE_DIR, 'rfc6962-tree-8-leaves.json'), 'utf8')) as {
    leaf_inputs_hex: string[];
    root_hashes_by_tree_size: { roots: string[] };
  };
  const tables = JSON.parse(readFileSync(join(MERKLE_DIR, 'rfc6962-proofs-hex.json'), 'utf8')) as {
    inclusion_proofs: Array<{ leaf: number; tree_size: number; proof: string[] }>;
    consistency_proofs: Array<{ size1: number; size2: number; proof: string[] }>;
  };
  const roots = tree.root_hashes_by_tree_size.roots.map(hex);
  // `leaf` is 1-based; the {leaf 0, size 0} row is skipped as upstream does ("invalid path").
  const inclusionRows = tables.inclusion_proofs.filter((row) => row.leaf > 0);

  it('keeps five inclusion rows after skipping leaf 0', () => {
    expect(inclusionRows).toHaveLength(5);
  });

  it.each(inclusionRows.map((row) => [row.leaf, row.tree_size, row] as const))(
    'inclusion of leaf %i (1-based) in size %i verifies',
    (_leaf, _size, row) => {
      const leaf = leafHash(hex(tree.leaf_inputs_hex[row.leaf - 1]));
      expect(() =>
        verifyInclusion(leaf, row.leaf - 1, row.tree_size, row.proof.map(hex), roots[row.tree_size]),
      ).not.toThrow();
    },
  );

  it.each(tables.consistency_proofs.map((row) => [row.size1, row.size2, row] as const))(
    'consistency %i -> %i verifies',
    (_size1, _size2, row) => {
      expect(() =>
        verifyConsistency(row.size1, row.size2, row.proof.map(hex), roots[row.size1], roots[row.size2]),
      ).not.toThrow();
    },
  );

  it('rootFromInclusionProof returns the root', () => {
    const row = inclusionRows[2];
    const leaf = leafHash(hex(tree.leaf_inputs_hex[row.leaf - 1]));
    expect(rootFromInclusionProof(leaf, row.leaf - 1, row.tree_size, row.proof.map(hex)).toString('hex')).toBe(
      tree.root_hashes_by_tree_size.roots[row.tree_size],
    );
  });
});

describe('verifier: error codes', () => {
  const leaf = leafHash(Buffer.from('x'));
  const other = leafHash(Buffer.from('y'));
  const code = (f: () => void): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof MerkleProofError ? e.code : `not a MerkleProofError: ${String(e)}`;
    }
    return undefined;
  };

  it('INDEX_OUT_OF_RANGE when index >= size', () => {
    expect(code(() => verifyInclusion(leaf, 1, 1, [], leaf))).toBe('INDEX_OUT_OF_RANGE');
    expect(code(() => verifyInclusion(leaf, 0, 0, [], leaf))).toBe('INDEX_OUT_OF_RANGE');
  });
  it('BAD_TREE_SIZE for negative or fractional sizes', () => {
    expect(code(() => verifyInclusion(leaf, -1, 2, [other], leaf))).toBe('BAD_TREE_SIZE');
    expect(code(() => verifyConsistency(1.5, 2, [], leaf, leaf))).toBe('BAD_TREE_SIZE');
  });
  it('BAD_HASH_SIZE for a short leaf hash or proof element', () => {
    expect(code(() => verifyInclusion(leaf.subarray(1), 0, 1, [], leaf))).toBe('BAD_HASH_SIZE');
    expect(code(() => verifyInclusion(leaf, 0, 2, [other.subarray(0, 31)], leaf))).toBe('BAD_HASH_SIZE');
  });
  it('BAD_PROOF_LENGTH for a proof of the wrong length', () => {
    expect(code(() => verifyInclusion(leaf, 0, 2, [], leaf))).toBe('BAD_PROOF_LENGTH');
    expect(code(() => verifyConsistency(1, 1, [leaf], leaf, leaf))).toBe('BAD_PROOF_LENGTH');
  });
  it('ROOT_MISMATCH for a wrong root', () => {
    expect(code(() => verifyInclusion(leaf, 0, 1, [], other))).toBe('ROOT_MISMATCH');
  });
  it('EMPTY_TREE_CONSISTENCY from size 0, even with equal roots', () => {
    expect(code(() => verifyConsistency(0, 0, [], leaf, leaf))).toBe('EMPTY_TREE_CONSISTENCY');
  });
  it('SIZE_DECREASED when size2 < size1', () => {
    expect(code(() => verifyConsistency(2, 1, [], leaf, leaf))).toBe('SIZE_DECREASED');
  });
  it('checks preconditions before hashing: a short hash and a bad length report the earlier check', () => {
    expect(code(() => verifyInclusion(leaf.subarray(1), 5, 2, [], leaf))).toBe('INDEX_OUT_OF_RANGE');
  });
});
