/**
 * Append, prover and verifier together, against the RFC 6962 8-leaf vectors and against a
 * naive recursive reference written straight from RFC 6962 §2.1 (as transparency-dev/merkle
 * `testonly/reference_test.go` does).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { appendLeaves, rootFromFrontier, type AppendResult, type TreeState } from './append.js';
import { MerkleProofError, NodeReaderError } from './errors.js';
import { EMPTY_ROOT, leafHash } from './hasher.js';
import { referencePath, referenceRoot } from '../../../test/support/reference-merkle.js';
import {
  consistencyProof,
  consistencyProofNodeIds,
  inclusionProof,
  inclusionProofNodeIds,
  rootAtSize,
  readerWithKnownNodes,
  rootNodeIds,
  type NodeReader,
} from './prover.js';
import { completeSubtrees, largestPowerOfTwoBelow, nodeKey, type NodeId } from './range.js';
import { verifyConsistency, verifyInclusion } from './verifier.js';

// ---------------------------------------------------------------------------------------------
// Naive reference: RFC 6962 §2.1.2 here; §2.1 and §2.1.1 in test/support/reference-merkle.ts.

function referenceSubproof(m: number, leaves: Buffer[], b: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return b ? [] : [referenceRoot(leaves)];
  const k = largestPowerOfTwoBelow(n);
  return m <= k
    ? [...referenceSubproof(m, leaves.slice(0, k), b), referenceRoot(leaves.slice(k))]
    : [...referenceSubproof(m - k, leaves.slice(k), false), referenceRoot(leaves.slice(0, k))];
}

const referenceConsistency = (m: number, leaves: Buffer[]) => referenceSubproof(m, leaves, true);

// ---------------------------------------------------------------------------------------------
// An in-memory node store, as the database would hold it.

class MemoryStore {
  readonly nodes = new Map<string, Buffer>();
  state: TreeState = { treeSize: 0, frontier: [] };
  reads = 0;

  append(leafHashes: Buffer[]): AppendResult {
    const result = appendLeaves(this.state, leafHashes);
    for (const node of result.nodes) this.nodes.set(nodeKey(node), node.hash);
    this.state = { treeSize: result.treeSize, frontier: result.frontier };
    return result;
  }

  readonly read: NodeReader = async (ids: NodeId[]) => {
    this.reads++;
    return ids.map((id) => {
      const hash = this.nodes.get(nodeKey(id));
      if (hash === undefined) throw new Error(`node ${nodeKey(id)} not stored`);
      return hash;
    });
  };
}

const leafFor = (i: number, salt = 0) => leafHash(Buffer.from(`leaf ${salt}:${i}`));
const hexes = (hashes: Buffer[]) => hashes.map((h) => h.toString('hex'));

// ---------------------------------------------------------------------------------------------

describe('RFC 6962 8-leaf tree (transparency-dev/merkle testonly/constants.go)', () => {
  const vectors = JSON.parse(
    readFileSync(join(process.cwd(), 'test/vectors/merkle/rfc6962-tree-8-leaves.json'), 'utf8'),
  ) as {
    leaf_inputs_hex: string[];
    node_hashes_by_level: { levels: string[][] };
    root_hashes_by_tree_size: { roots: string[] };
  };
  const leaves = vectors.leaf_inputs_hex.map((h) => leafHash(Buffer.from(h, 'hex')));
  const proofTables = JSON.parse(
    readFileSync(join(process.cwd(), 'test/vectors/merkle/rfc6962-proofs-hex.json'), 'utf8'),
  ) as {
    inclusion_proofs: Array<{ leaf: number; tree_size: number; proof: string[] }>;
    consistency_proofs: Array<{ size1: number; size2: number; proof: string[] }>;
  };

  it('EMPTY_ROOT is SHA-256 of the empty string', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(vectors.root_hashes_by_tree_size.roots[0]);
  });

  it('leafHash gives the level-0 hashes', () => {
    expect(hexes(leaves)).toEqual(vectors.node_hashes_by_level.levels[0]);
  });

  it('appending one leaf at a time gives every root, sizes 0 to 8', () => {
    const store = new MemoryStore();
    const roots = [rootFromFrontier([])];
    for (const leaf of leaves) roots.push(store.append([leaf]).root);
    expect(hexes(roots)).toEqual(vectors.root_hashes_by_tree_size.roots);
  });

  it('the nodes returned by appends are exactly the 15 complete-subtree hashes', () => {
    const store = new MemoryStore();
    store.append(leaves.slice(0, 3));
    store.append(leaves.slice(3, 8));
    const byLevel: string[][] = [];
    for (const [key, hash] of store.nodes) {
      const [level, index] = key.split('/').map(Number);
      (byLevel[level] ??= [])[index] = hash.toString('hex');
    }
    expect(byLevel).toEqual(vectors.node_hashes_by_level.levels);
    expect(store.nodes.size).toBe(15);
  });

  it('the prover reproduces the hex inclusion table from stored nodes', async () => {
    const store = new MemoryStore();
    store.append(leaves);
    for (const row of proofTables.inclusion_proofs.filter((r) => r.leaf > 0)) {
      expect(hexes(await inclusionProof(store.read, row.leaf - 1, row.tree_size))).toEqual(row.proof);
    }
  });

  it('the prover reproduces the hex consistency table from stored nodes', async () => {
    const store = new MemoryStore();
    store.append(leaves);
    for (const row of proofTables.consistency_proofs) {
      expect(hexes(await consistencyProof(store.read, row.size1, row.size2))).toEqual(row.proof);
    }
  });

  it('rootAtSize gives every earlier root from the full tree', async () => {
    const store = new MemoryStore();
    store.append(leaves);
    const roots = await Promise.all(
      vectors.root_hashes_by_tree_size.roots.map((_, size) => rootAtSize(store.read, size)),
    );
    expect(hexes(roots)).toEqual(vectors.root_hashes_by_tree_size.roots);
  });

  it('the naive reference agrees with the vectors', () => {
    const roots = vectors.root_hashes_by_tree_size.roots.map((_, size) => referenceRoot(leaves.slice(0, size)));
    expect(hexes(roots)).toEqual(vectors.root_hashes_by_tree_size.roots);
  });
});

describe('appendLeaves', () => {
  it('the frontier has one hash per set bit of the size, largest first', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => leafFor(i));
    const { frontier } = appendLeaves({ treeSize: 0, frontier: [] }, leaves);
    // 13 = 8 + 4 + 1
    expect(hexes(frontier)).toEqual(
      hexes([referenceRoot(leaves.slice(0, 8)), referenceRoot(leaves.slice(8, 12)), leaves[12]]),
    );
  });

  it('appending nothing keeps the tree and creates no nodes', () => {
    const first = appendLeaves({ treeSize: 0, frontier: [] }, [leafFor(0), leafFor(1), leafFor(2)]);
    const again = appendLeaves(first, []);
    expect(again.root.equals(first.root)).toBe(true);
    expect(again.nodes).toEqual([]);
  });

  it('does not modify the state passed in', () => {
    const state = appendLeaves({ treeSize: 0, frontier: [] }, [leafFor(0)]);
    const frontier = [...state.frontier];
    appendLeaves(state, [leafFor(1)]);
    expect(state.frontier).toEqual(frontier);
  });

  it('rejects a frontier that does not match the size (BAD_FRONTIER)', () => {
    expect(() => appendLeaves({ treeSize: 3, frontier: [leafFor(0)] }, [])).toThrow(
      expect.objectContaining({ code: 'BAD_FRONTIER' }) as Error,
    );
  });

  it('rejects a leaf hash that is not 32 bytes (BAD_HASH_SIZE)', () => {
    expect(() => appendLeaves({ treeSize: 0, frontier: [] }, [Buffer.alloc(31)])).toThrow(
      expect.objectContaining({ code: 'BAD_HASH_SIZE' }) as Error,
    );
  });
});

describe('prover planning and reads', () => {
  it('rootNodeIds of 13 is the frontier: 8 + 4 + 1 leaves', () => {
    expect(rootNodeIds(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('an incomplete right-hand proof element is read as its complete subtrees', () => {
    // Leaf 0 of 7: siblings are leaf 1, [2,4) and [4,7) = [4,6) + leaf 6.
    expect(inclusionProofNodeIds(0, 7)).toEqual([
      { level: 0, index: 1 },
      { level: 1, index: 1 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(consistencyProofNodeIds(3, 7).length).toBeGreaterThan(0);
  });

  it('completeSubtrees of an unaligned range grows then shrinks', () => {
    expect(completeSubtrees({ begin: 3, end: 13 })).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('makes exactly one reader call per proof, none when nothing is needed', async () => {
    const store = new MemoryStore();
    store.append(Array.from({ length: 1000 }, (_, i) => leafFor(i)));
    await inclusionProof(store.read, 517, 999);
    await consistencyProof(store.read, 333, 999);
    await rootAtSize(store.read, 777);
    expect(store.reads).toBe(3);
    await inclusionProof(store.read, 0, 1);
    await consistencyProof(store.read, 5, 5);
    await rootAtSize(store.read, 0);
    expect(store.reads).toBe(3);
  });

  it('rejects bad arguments with codes', async () => {
    const store = new MemoryStore();
    store.append([leafFor(0), leafFor(1)]);
    await expect(inclusionProof(store.read, 2, 2)).rejects.toMatchObject({ code: 'INDEX_OUT_OF_RANGE' });
    await expect(consistencyProof(store.read, 0, 2)).rejects.toMatchObject({ code: 'EMPTY_TREE_CONSISTENCY' });
    await expect(consistencyProof(store.read, 2, 1)).rejects.toMatchObject({ code: 'SIZE_DECREASED' });
    await expect(rootAtSize(store.read, -1)).rejects.toBeInstanceOf(MerkleProofError);
  });

  it('propagates a reader error (asking past the stored size)', async () => {
    const store = new MemoryStore();
    store.append([leafFor(0), leafFor(1)]);
    await expect(rootAtSize(store.read, 3)).rejects.toThrow('not stored');
  });

  it('rejects a reader that breaks its contract', async () => {
    const short: NodeReader = async () => [];
    const wrongSize: NodeReader = async (ids) => ids.map(() => Buffer.alloc(20));
    await expect(inclusionProof(short, 0, 2)).rejects.toMatchObject({ code: 'READER_RESULT_LENGTH' });
    await expect(inclusionProof(wrongSize, 0, 2)).rejects.toBeInstanceOf(NodeReaderError);
  });
});

describe('properties: random trees appended in random batches', () => {
  /** Batch sizes summing to at most ~3000 leaves. */
  const batches = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 700 })), { minLength: 1, maxLength: 12 })
    .map((sizes) => {
      let total = 0;
      return sizes.map((s) => {
        const take = Math.max(0, Math.min(s, 3000 - total));
        total += take;
        return take;
      });
    });

  /** Builds the tree batch by batch; returns the store, all leaves and the root after each batch. */
  function build(sizes: number[], salt: number) {
    const store = new MemoryStore();
    const leaves: Buffer[] = [];
    const roots: Array<{ size: number; root: Buffer }> = [];
    for (const size of sizes) {
      const batch = Array.from({ length: size }, (_, i) => leafFor(leaves.length + i, salt));
      leaves.push(...batch);
      roots.push({ size: leaves.length, root: store.append(batch).root });
    }
    return { store, leaves, roots };
  }

  it('the root after every batch equals the reference MTH, and all nodes are stored', () => {
    fc.assert(
      fc.property(batches, fc.nat(), (sizes, salt) => {
        const { store, leaves, roots } = build(sizes, salt);
        for (const { size, root } of roots)
          expect(root.toString('hex')).toBe(referenceRoot(leaves.slice(0, size)).toString('hex'));
        // A tree of n leaves has 2n - popcount(n) complete subtrees.
        const n = leaves.length;
        expect(store.nodes.size).toBe(2 * n - [...n.toString(2)].filter((b) => b === '1').length);
      }),
      { numRuns: 40 },
    );
  });

  it('inclusion proofs from stored nodes equal the reference, verify, and fail with a flipped byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        batches,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(),
        async (sizes, salt, fSize, fIndex, flip) => {
          const { store, leaves } = build(sizes, salt);
          fc.pre(leaves.length > 0);
          const size = 1 + Math.floor(fSize * (leaves.length - 1));
          const index = Math.min(size - 1, Math.floor(fIndex * size));
          const root = referenceRoot(leaves.slice(0, size));
          const proof = await inclusionProof(store.read, index, size);
          expect(hexes(proof)).toEqual(hexes(referencePath(index, leaves.slice(0, size))));
          verifyInclusion(leaves[index], index, size, proof, root);
          if (proof.length > 0) {
            const tampered = proof.map((h) => Buffer.from(h));
            tampered[flip % tampered.length][flip % 32] ^= 1 << (flip % 8);
            expect(() => verifyInclusion(leaves[index], index, size, tampered, root)).toThrow(
              expect.objectContaining({ code: 'ROOT_MISMATCH' }) as Error,
            );
          }
          const wrongLeaf = Buffer.from(leaves[index]);
          wrongLeaf[flip % 32] ^= 1;
          expect(() => verifyInclusion(wrongLeaf, index, size, proof, root)).toThrow(MerkleProofError);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the consistency proof across one append needs only the old frontier and the appended nodes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 300 }),
        fc.nat(),
        async (oldSize, added, salt) => {
          const store = new MemoryStore();
          store.append(Array.from({ length: oldSize }, (_, i) => leafFor(i, salt)));
          const old = store.state;
          const appended = store.append(Array.from({ length: added }, (_, i) => leafFor(oldSize + i, salt)));
          const known = [
            ...completeSubtrees({ begin: 0, end: old.treeSize }).map((id, i) => ({ ...id, hash: old.frontier[i] })),
            ...appended.nodes,
          ];
          let fallbackReads = 0;
          const fromKnown = await consistencyProof(
            readerWithKnownNodes(known, async (ids) => {
              fallbackReads += ids.length;
              return store.read(ids);
            }),
            oldSize,
            oldSize + added,
          );
          expect(hexes(fromKnown)).toEqual(hexes(await consistencyProof(store.read, oldSize, oldSize + added)));
          expect(fallbackReads).toBe(0);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a reader with known nodes asks its fallback for the rest, in the order asked', async () => {
    const store = new MemoryStore();
    store.append(Array.from({ length: 40 }, (_, i) => leafFor(i)));
    const ids = consistencyProofNodeIds(3, 37);
    const known = [{ ...ids[1], hash: Buffer.alloc(32, 7) }];
    const asked: NodeId[][] = [];
    const hashes = await readerWithKnownNodes(known, async (rest) => {
      asked.push(rest);
      return store.read(rest);
    })(ids);
    expect(asked).toEqual([ids.filter((_, i) => i !== 1)]);
    expect(hashes[1]).toEqual(Buffer.alloc(32, 7));
    expect(hexes(hashes.filter((_, i) => i !== 1))).toEqual(hexes(await store.read(ids.filter((_, i) => i !== 1))));
  });

  it('consistency proofs from stored nodes equal the reference, verify, and fail with a flipped byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        batches,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(),
        async (sizes, salt, f1, f2, flip) => {
          const { store, leaves } = build(sizes, salt);
          fc.pre(leaves.length > 0);
          const size2 = 1 + Math.floor(f2 * (leaves.length - 1));
          const size1 = 1 + Math.floor(f1 * (size2 - 1));
          const root1 = referenceRoot(leaves.slice(0, size1));
          const root2 = referenceRoot(leaves.slice(0, size2));
          const proof = await consistencyProof(store.read, size1, size2);
          expect(hexes(proof)).toEqual(hexes(referenceConsistency(size1, leaves.slice(0, size2))));
          verifyConsistency(size1, size2, proof, root1, root2);
          if (proof.length > 0) {
            const tampered = proof.map((h) => Buffer.from(h));
            tampered[flip % tampered.length][flip % 32] ^= 1 << (flip % 8);
            expect(() => verifyConsistency(size1, size2, tampered, root1, root2)).toThrow(
              expect.objectContaining({ code: 'ROOT_MISMATCH' }) as Error,
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rootAtSize equals the reference MTH for earlier sizes', async () => {
    await fc.assert(
      fc.asyncProperty(batches, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), async (sizes, salt, f) => {
        const { store, leaves } = build(sizes, salt);
        const size = Math.floor(f * leaves.length);
        expect((await rootAtSize(store.read, size)).toString('hex')).toBe(
          referenceRoot(leaves.slice(0, size)).toString('hex'),
        );
      }),
      { numRuns: 40 },
    );
  });
});

describe('sweep: every proof of every tree up to 64 leaves, folded into one SHA-256', () => {
  // Pins the exact bytes of every proof and root (as transparency-dev/merkle vectors_test.go):
  // any change to hashing, proof shape or proof order changes this constant.
  const SWEEP_SHA256 = '1ea5464b516fe86c134635fe2df768f65de5d6f07cf679ad11604d7d8dedc176';
  const MAX = 64;

  it('matches the reference everywhere, verifies everywhere, and folds to the pinned constant', async () => {
    const leaves = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from([i])));
    const store = new MemoryStore();
    store.append(leaves);
    const fold = createHash('sha256');
    const mismatches: string[] = [];
    for (let size = 1; size <= MAX; size++) {
      const prefix = leaves.slice(0, size);
      const root = await rootAtSize(store.read, size);
      if (!root.equals(referenceRoot(prefix))) mismatches.push(`root ${size}`);
      fold.update(`root ${size} `).update(root);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(store.read, index, size);
        if (hexes(proof).join() !== hexes(referencePath(index, prefix)).join())
          mismatches.push(`inclusion ${index}/${size}`);
        verifyInclusion(leaves[index], index, size, proof, root);
        fold.update(`inclusion ${index} ${size} `);
        proof.forEach((h) => fold.update(h));
      }
      for (let size1 = 1; size1 <= size; size1++) {
        const proof = await consistencyProof(store.read, size1, size);
        if (hexes(proof).join() !== hexes(referenceConsistency(size1, prefix)).join())
          mismatches.push(`consistency ${size1}/${size}`);
        verifyConsistency(size1, size, proof, referenceRoot(leaves.slice(0, size1)), root);
        fold.update(`consistency ${size1} ${size} `);
        proof.forEach((h) => fold.update(h));
      }
    }
    expect(mismatches).toEqual([]);
    expect(fold.digest('hex')).toBe(SWEEP_SHA256);
  });
});
