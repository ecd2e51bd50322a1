import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { appendLeaves } from './append.js';
import { MerkleProofError } from './errors.js';
import { leafHash } from './hasher.js';
import { consistencyProof, inclusionProof, type NodeReader } from './prover.js';
import { nodeKey, type NodeId, type StoredNode } from './range.js';
import { decodeEntryBundle, encodeEntryBundle } from './entry-bundle.js';
import {
  TILE_WIDTH,
  entryBundlePath,
  nodeFromSubtree,
  nodeFromTile,
  parseTilePath,
  rootFromTiles,
  rootTiles,
  tilePath,
  tileSubtree,
  tilesAfterAppend,
  tilesForNodes,
  tileOfNode,
  type Tile,
} from './tiles.js';

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
    return async (ids: NodeId[]) =>
      ids.map((id) => {
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
    const r = appendLeaves(
      state,
      Array.from({ length: b }, (_, k) => leaf(state.treeSize + k)),
    );
    for (const n of r.nodes) nodes.set(nodeKey(n), n);
    store.apply(r.nodes);
    state = r;
  }
  return { nodes, store, size: state.treeSize };
}

describe('tiles (C2SP tlog-tiles layout)', () => {
  it('serve every complete-subtree node of the tree, whatever the batch sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (batches) => {
        const { nodes, store } = grow(batches);
        for (const n of nodes.values()) {
          const { tile } = tileOfNode(n);
          expect(nodeFromTile(n, store.tile(tile.level, tile.index))?.equals(n.hash)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
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
    for (const [index, at] of [
      [0, 1],
      [5, size],
      [255, 256],
      [256, 1256],
      [65535, 65999],
      [size - 1, size],
    ]) {
      expect(await inclusionProof(store.reader(), index, at)).toEqual(await inclusionProof(byNode, index, at));
    }
    for (const [a, b] of [
      [1, 2],
      [300, 301],
      [256, 65536],
      [1000, size],
      [65536, size],
    ]) {
      expect(await consistencyProof(store.reader(), a, b)).toEqual(await consistencyProof(byNode, a, b));
    }
  });

  it('keep one partial tile per level and move it to the full tiles when it fills', () => {
    const first = appendLeaves(
      { treeSize: 0, frontier: [] },
      Array.from({ length: 255 }, (_, i) => leaf(i)),
    );
    const store = new TileStore();
    store.apply(first.nodes);
    expect(store.full.size).toBe(0);
    expect(store.partials.get(0)?.hashes.length).toBe(255 * 32);
    const w = tilesAfterAppend(store.partials, appendLeaves(first, [leaf(255), leaf(256)]).nodes);
    expect(w.full.map((t) => [t.level, t.index, t.hashes.length])).toEqual([[0, 0, TILE_WIDTH * 32]]);
    // The 256th leaf completes the subtree of level 8: its hash starts the first tile of level 1.
    expect(w.partial.map((t) => [t.level, t.index, t.hashes.length])).toEqual([
      [1, 0, 32],
      [0, 1, 32],
    ]);
    expect(w.partial[1].hashes.equals(leaf(256))).toBe(true);
    expect(w.clearedLevels).toEqual([]);
    const exact = tilesAfterAppend(store.partials, appendLeaves(first, [leaf(255)]).nodes);
    expect(exact.partial.map((t) => [t.level, t.index])).toEqual([[1, 0]]);
    expect(exact.clearedLevels).toEqual([0]);
  });

  it('refuse hashes that do not continue the stored right edge (a lost partial tile)', () => {
    const first = appendLeaves(
      { treeSize: 0, frontier: [] },
      Array.from({ length: 10 }, (_, i) => leaf(i)),
    );
    const next = appendLeaves(first, [leaf(10)]);
    expect(() => tilesAfterAppend(new Map(), next.nodes)).toThrow(MerkleProofError);
    const wrongTile = new Map([[0, { level: 0, index: 3, hashes: Buffer.alloc(320) }]]);
    expect(() => tilesAfterAppend(wrongTile, next.nodes)).toThrow(/TILE_GAP|start at/);
  });

  it('name which tiles a set of nodes needs', () => {
    expect(
      tilesForNodes([
        { level: 0, index: 5 },
        { level: 3, index: 1 },
        { level: 8, index: 0 },
        { level: 9, index: 200 },
      ]),
    ).toEqual([
      { level: 0, index: 0 },
      { level: 1, index: 0 },
      { level: 1, index: 1 },
    ]);
    expect(
      nodeFromTile({ level: 2, index: 63 }, { level: 0, index: 0, hashes: Buffer.alloc(255 * 32) }),
    ).toBeUndefined();
  });

  it('encode tile paths as the spec does', () => {
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(0, 1234067, 8)).toBe('tile/0/x001/x234/067.p/8');
    expect(tilePath(1, 0)).toBe('tile/1/000');
    expect(tilePath(2, 1000, 255)).toBe('tile/2/x001/000.p/255');
  });
});

/** RFC 6962 MTH computed directly from the leaf hashes, independent of tiles and frontiers. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.concat([Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k))]))
    .digest();
}

describe('the root from tiles alone', () => {
  it.each([[[1]], [[255]], [[256]], [[257]], [[300, 70]], [[65535]], [[65536]], [[65536, 300]], [[70000]]])(
    'batches %j',
    (batches) => {
      const { store, size } = grow(batches);
      const wanted = rootTiles(size);
      // Each tile is cut to the width rootTiles names, as a client fetching .p/W would get it.
      const fetched = (id: { level: number; index: number }) => {
        const w = wanted.find((t) => t.level === id.level && t.index === id.index);
        if (!w) throw new Error(`tile ${id.level}/${id.index} was not named by rootTiles`);
        const t = store.tile(id.level, id.index)!;
        return { ...t, hashes: t.hashes.subarray(0, w.width * 32) };
      };
      const leaves = Array.from({ length: size }, (_, i) => leaf(i));
      expect(rootFromTiles(size, fetched).equals(mth(leaves))).toBe(true);
      for (const t of wanted) expect(t.width).toBeGreaterThan(0);
    },
  );

  it('names the tiles of the spec example tree, and fails without them', () => {
    // tlog-tiles: size 70,000 = 273 full level-0 tiles + 112, one full level-1 tile + 17, level 2 width 1.
    const ids = rootTiles(70000)
      .map((t) => `${t.level}/${t.index}.${t.width}`)
      .sort();
    expect(ids).toEqual(['0/273.112', '1/1.17', '2/0.1']);
    expect(rootFromTiles(0, () => undefined).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(() => rootFromTiles(3, () => undefined)).toThrow(MerkleProofError);
  });
});

describe('tile paths from requests', () => {
  it.each([
    ['tile/0/000', { kind: 'hashes', level: 0, index: 0, width: 256 }],
    ['tile/0/x001/x234/067', { kind: 'hashes', level: 0, index: 1234067, width: 256 }],
    ['tile/0/x001/x234/067.p/8', { kind: 'hashes', level: 0, index: 1234067, width: 8 }],
    ['tile/63/999.p/255', { kind: 'hashes', level: 63, index: 999, width: 255 }],
    ['tile/entries/x001/000', { kind: 'entries', index: 1000, width: 256 }],
    ['tile/entries/005.p/1', { kind: 'entries', index: 5, width: 1 }],
  ])('parses %s', (path, expected) => {
    expect(parseTilePath(path)).toEqual(expected);
    expect(
      expected.kind === 'entries'
        ? entryBundlePath(expected.index, expected.width)
        : tilePath((expected as { level: number }).level, expected.index, expected.width),
    ).toBe(path);
  });

  it.each([
    'tile/0',
    'tile/0/',
    'tile/00/000',
    'tile/64/000',
    'tile/-1/000',
    'tile/a/000',
    'tiles/0/000',
    'tile/0/1',
    'tile/0/0001',
    'tile/0/x000/001',
    'tile/0/001/x002',
    'tile/0/x1/002',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/08',
    'tile/0/000.p/',
    'tile/0/000.p',
    'tile/0/000.p/5/6',
    'tile/0/x999/x999/x999/x999/x999/x999/999',
    'tile/0/x009/x007/x199/x254/x740/993',
    'tile/entries/000.p/x',
  ])('rejects %s (BAD_TILE_PATH)', (path) => {
    expect(() => parseTilePath(path)).toThrow(expect.objectContaining({ code: 'BAD_TILE_PATH' }) as Error);
  });

  it('round-trips every index and width it formats', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 256 }),
        (level, index, width) => {
          expect(parseTilePath(tilePath(level, index, width))).toEqual({ kind: 'hashes', level, index, width });
          expect(parseTilePath(entryBundlePath(index, width))).toEqual({ kind: 'entries', index, width });
        },
      ),
    );
  });
});

describe('entry bundles', () => {
  it('are uint16 big-endian length-prefixed entries and decode back', () => {
    const entries = [Buffer.from('{"a":1}'), Buffer.alloc(0), Buffer.alloc(0xffff, 7)];
    const bundle = encodeEntryBundle(entries);
    expect(bundle.subarray(0, 2)).toEqual(Buffer.from([0x00, 0x07]));
    expect(bundle.length).toBe(2 + 7 + 2 + 2 + 0xffff);
    expect(decodeEntryBundle(bundle)).toEqual(entries);
  });

  it('refuse an entry longer than a uint16 length can say, and truncated bundles', () => {
    expect(() => encodeEntryBundle([Buffer.alloc(0x10000)])).toThrow(
      expect.objectContaining({ code: 'ENTRY_TOO_LARGE' }) as Error,
    );
    expect(() => decodeEntryBundle(Buffer.from([0x00]))).toThrow(
      expect.objectContaining({ code: 'MALFORMED_BUNDLE' }) as Error,
    );
    expect(() => decodeEntryBundle(Buffer.from([0x00, 0x03, 0x61]))).toThrow(
      expect.objectContaining({ code: 'MALFORMED_BUNDLE' }) as Error,
    );
  });
});
