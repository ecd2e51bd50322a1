import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { appendLeaves } from './append.js';
import { MerkleProofError } from './errors.js';
import { leafHash } from './hasher.js';
import { consistencyProof, inclusionProof, type NodeReader } from './prover.js';
import { nodeKey, type NodeId, type StoredNode } from './range.js';
import { TILE_WIDTH, nodeFromSubtree, nodeFromTile, tilePath, tileSubtree, tilesAfterAppend, tilesForNodes, tileOfNode, type Tile } from './tiles.js';

const leaf = (i: number) => leafHash(createHash('sha256').update(`leaf ${i}`).digest());

/** A tile store as the ledger keeps one: full tiles forever, one partial per level. */
class TileStore {
  readonly full = new Map<string, Tile>();
  partials = new Map<number, Tile>();

  apply(nodes: StoredNode[]): void {
    const w = tilesAfterAppend(this.partials, nodes);
    for (const t of w.full) this.full.set(`${t.level}/${t.index}`, t);
    for (const l of w.clearedLevels) this.partials.delete(l);
    for (const t of w.partial) this.partials.set(t.level, t);
  }

  tile(level: number, index: number): Tile | undefined {
    const p = this.partials.get(level);
    return this.full.get(`${level}/${index}`) ?? (p && p.index === index ? p : undefined);
  }

  reader(): NodeReader {
    return async (ids: NodeId[]) => ids.map((id) => {
      const { tile } = tileOfNode(id);
      const h = nodeFromTile(id, this.tile(tile.level, tile.index));
      if (!h) throw new Error(`missing ${id.level}/${id.index}`);
      return h;
    });
  }
}

/** Grows a tree in batches of the given sizes; returns every node appendLeaves created and the tile store. */
function grow(batches: number[]): { nodes: Map<string, StoredNode>; store: TileStore; size: number } {
  const store = new TileStore();
  const nodes = new Map<string, StoredNode>();
  let state = { treeSize: 0, frontier: [] as Buffer[] };
  for (const b of batches) {
    const r = appendLeaves(state, Array.from({ length: b }, (_, k) => leaf(state.treeSize + k)));
    for (const n of r.nodes) nodes.set(nodeKey(n), n);
    store.apply(r.nodes);
    state = r;
  }
  return { nodes, store, size: state.treeSize };
}

describe('tiles (C2SP tlog-tiles layout)', () => {
  it('serve every complete-subtree node of the tree, whatever the batch sizes', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (batches) => {
      const { nodes, store } = grow(batches);
      for (const n of nodes.values()) {
        const { tile } = tileOfNode(n);
        expect(nodeFromTile(n, store.tile(tile.level, tile.index))?.equals(n.hash)).toBe(true);
      }
    }), { numRuns: 60 });
  });

  it('precompute, per tile, exactly the nodes the tile holds (full or partial)', () => {
    const { nodes, store } = grow([300, 70]);
    for (const n of nodes.values()) {
      const { tile } = tileOfNode(n);
      const t = store.tile(tile.level, tile.index)!;
      expect(nodeFromSubtree(n, tileSubtree(t))?.equals(n.hash)).toBe(true);
    }
    const partial = store.partials.get(0)!;
    expect(nodeFromSubtree({ level: 7, index: 2 }, tileSubtree(partial))).toBeUndefined();
    expect(nodeFromSubtree({ level: 5, index: 8 }, tileSubtree(partial))?.equals(nodes.get('5/8')!.hash)).toBe(true);
  });

  it('give the same inclusion and consistency proofs as the stored nodes did', async () => {
    const { nodes, store, size } = grow([300, 1, 255, 700, 66000 - 1256, 3]);
    const byNode: NodeReader = async (ids) => ids.map((id) => nodes.get(nodeKey(id))!.hash);
    for (const [index, at] of [[0, 1], [5, size], [255, 256], [256, 1256], [65535, 65999], [size - 1, size]]) {
      expect(await inclusionProof(store.reader(), index, at)).toEqual(await inclusionProof(byNode, index, at));
    }
    for (const [a, b] of [[1, 2], [300, 301], [256, 65536], [1000, size], [65536, size]]) {
      expect(await consistencyProof(store.reader(), a, b)).toEqual(await consistencyProof(byNode, a, b));
    }
  });

  it('keep one partial tile per level and move it to the full tiles when it fills', () => {
    const first = appendLeaves({ treeSize: 0, frontier: [] }, Array.from({ length: 255 }, (_, i) => leaf(i)));
    const store = new TileStore();
    store.apply(first.nodes);
    expect(store.full.size).toBe(0);
    expect(store.partials.get(0)?.hashes.length).toBe(255 * 32);
    const w = tilesAfterAppend(store.partials, appendLeaves(first, [leaf(255), leaf(256)]).nodes);
    expect(w.full.map((t) => [t.level, t.index, t.hashes.length])).toEqual([[0, 0, TILE_WIDTH * 32]]);
    // The 256th leaf completes the subtree of level 8: its hash starts the first tile of level 1.
    expect(w.partial.map((t) => [t.level, t.index, t.hashes.length])).toEqual([[1, 0, 32], [0, 1, 32]]);
    expect(w.partial[1].hashes.equals(leaf(256))).toBe(true);
    expect(w.clearedLevels).toEqual([]);
    const exact = tilesAfterAppend(store.partials, appendLeaves(first, [leaf(255)]).nodes);
    expect(exact.partial.map((t) => [t.level, t.index])).toEqual([[1, 0]]);
    expect(exact.clearedLevels).toEqual([0]);
  });

  it('refuse hashes that do not continue the stored right edge (a lost partial tile)', () => {
    const first = appendLeaves({ treeSize: 0, frontier: [] }, Array.from({ length: 10 }, (_, i) => leaf(i)));
    const next = appendLeaves(first, [leaf(10)]);
    expect(() => tilesAfterAppend(new Map(), next.nodes)).toThrow(MerkleProofError);
    const wrongTile = new Map([[0, { level: 0, index: 3, hashes: Buffer.alloc(320) }]]);
    expect(() => tilesAfterAppend(wrongTile, next.nodes)).toThrow(/TILE_GAP|start at/);
  });

  it('name which tiles a set of nodes needs', () => {
    expect(tilesForNodes([{ level: 0, index: 5 }, { level: 3, index: 1 }, { level: 8, index: 0 }, { level: 9, index: 200 }])).toEqual([
      { level: 0, index: 0 }, { level: 1, index: 0 }, { level: 1, index: 1 },
    ]);
    expect(nodeFromTile({ level: 2, index: 63 }, { level: 0, index: 0, hashes: Buffer.alloc(255 * 32) })).toBeUndefined();
  });

  it('encode tile paths as the spec does', () => {
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(0, 1234067, 8)).toBe('tile/0/x001/x234/067.p/8');
    expect(tilePath(1, 0)).toBe('tile/1/000');
    expect(tilePath(2, 1000, 255)).toBe('tile/2/x001/000.p/255');
  });
});
