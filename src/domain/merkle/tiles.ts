/**
 * Merkle data stored as tiles, in the layout of C2SP tlog-tiles (https://c2sp.org/tlog-tiles),
 * as Go's sumdb and Tessera store theirs: the tile at tile level L and index N holds the hashes
 * of the tree nodes at tree level 8·L with node indexes N·256 … N·256+W−1, concatenated (W ≤ 256;
 * W < 256 only for the right-edge tile of a tree whose size is not a multiple of 256^(L+1)).
 * Level-0 tiles hold the leaf hashes.
 *
 * Every node a proof needs is a tile hash or is computed from one tile: node (level l, index i)
 * with L = floor(l/8) and h = l − 8L is the RFC 6962 hash of the complete subtree over the
 * tile-level hashes [i·2^h, (i+1)·2^h), an aligned run of at most 128 that never crosses a tile
 * boundary. A partial tile is a prefix of every wider version of itself, so reading a node from
 * a wider stored tile is exact. One row per 256 hashes instead of one per node: the append
 * writes ~1/128 of the rows it used to, and the layout is the one witnesses and clients read.
 */
import { MerkleProofError } from './errors.js';
import { rootFromFrontier } from './append.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hasher.js';
import { completeSubtrees, type NodeId, type StoredNode } from './range.js';
import { AppError } from '../../common/app-error.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

/** A stored tile: `level` is the tile level L, `hashes` W concatenated 32-byte hashes. */
export interface Tile {
  level: number;
  index: number;
  hashes: Buffer;
}

export interface TileId {
  level: number;
  index: number;
}

export function tileWidth(t: Tile): number {
  return t.hashes.length / HASH_SIZE;
}

/** Hashes the tree of size `treeSize` has at tile level L (whole or partial tiles included). */
export function hashesAtTileLevel(treeSize: number, level: number): number {
  return Math.floor(treeSize / TILE_WIDTH ** level);
}

/** The tile holding the hashes node `id` is computed from, and where in it they are. */
export function tileOfNode(id: NodeId): { tile: TileId; offset: number; count: number } {
  const level = Math.floor(id.level / TILE_HEIGHT);
  const count = 2 ** (id.level - level * TILE_HEIGHT);
  const first = id.index * count;
  return { tile: { level, index: Math.floor(first / TILE_WIDTH) }, offset: first % TILE_WIDTH, count };
}

/** The tiles the given nodes need, each once. */
export function tilesForNodes(ids: NodeId[]): TileId[] {
  const out = new Map<string, TileId>();
  for (const id of ids) {
    const { tile } = tileOfNode(id);
    out.set(`${tile.level}/${tile.index}`, tile);
  }
  return [...out.values()];
}

/**
 * The hash of node `id` from its tile, or undefined when the tile is missing or too narrow to
 * hold the node (the node is not in the stored tree).
 */
export function nodeFromTile(id: NodeId, tile: Tile | undefined): Buffer | undefined {
  const { offset, count } = tileOfNode(id);
  if (!tile || tileWidth(tile) < offset + count) return undefined;
  let level: Buffer[] = [];
  for (let k = 0; k < count; k++)
    level.push(tile.hashes.subarray((offset + k) * HASH_SIZE, (offset + k + 1) * HASH_SIZE));
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let k = 0; k < level.length; k += 2) up.push(nodeHash(level[k], level[k + 1]));
    level = up;
  }
  return Buffer.from(level[0]);
}

/** What an append changes in tile storage. */
export interface TileWrites {
  /** Tiles that became full (W = 256): written once, never changed again. */
  full: Tile[];
  /** The new right-edge partial tile of each level that has one. */
  partial: Tile[];
  /** Levels whose stored partial tile became full and have no partial any more. */
  clearedLevels: number[];
}

/**
 * The tile writes of an append: `created` is every node appendLeaves returned (any level;
 * only levels divisible by 8 are stored), `partials` the shard's stored right-edge partial
 * tiles by tile level. Precondition, checked: at each tile level the new hashes continue the
 * stored partial tile (or start a new tile when there is none); otherwise TILE_GAP.
 */
export function tilesAfterAppend(partials: ReadonlyMap<number, Tile>, created: StoredNode[]): TileWrites {
  const byTile = new Map<string, { level: number; index: number; hashes: Buffer[]; first: number }>();
  for (const n of created) {
    if (n.level % TILE_HEIGHT !== 0) continue;
    const level = n.level / TILE_HEIGHT;
    const index = Math.floor(n.index / TILE_WIDTH);
    const key = `${level}/${index}`;
    let t = byTile.get(key);
    if (!t) byTile.set(key, (t = { level, index, hashes: [], first: n.index % TILE_WIDTH }));
    if (n.index % TILE_WIDTH !== t.first + t.hashes.length)
      throw new MerkleProofError('TILE_GAP', `node ${n.level}/${n.index} is not next in its tile`);
    t.hashes.push(n.hash);
  }
  const writes: TileWrites = { full: [], partial: [], clearedLevels: [] };
  const partialLevels = new Set<number>();
  for (const t of byTile.values()) {
    const stored = partials.get(t.level);
    const prefix = stored && stored.index === t.index ? stored.hashes : Buffer.alloc(0);
    if (prefix.length / HASH_SIZE !== t.first) {
      throw new MerkleProofError(
        'TILE_GAP',
        `tile ${t.level}/${t.index}: new hashes start at ${t.first} but ${prefix.length / HASH_SIZE} are stored`,
      );
    }
    const tile: Tile = { level: t.level, index: t.index, hashes: Buffer.concat([prefix, ...t.hashes]) };
    if (tileWidth(tile) === TILE_WIDTH) writes.full.push(tile);
    else {
      writes.partial.push(tile);
      partialLevels.add(t.level);
    }
  }
  for (const level of partials.keys()) {
    if (
      !partialLevels.has(level) &&
      writes.full.some((t) => t.level === level && t.index === partials.get(level)!.index)
    )
      writes.clearedLevels.push(level);
  }
  return writes;
}

/**
 * The tile path of C2SP tlog-tiles: `tile/<L>/<N>[.p/<W>]`, N written in groups of three digits,
 * every group but the last prefixed with `x` (1234067 → x001/x234/067).
 */
export function tilePath(level: number, index: number, width = TILE_WIDTH): string {
  return `tile/${level}/${indexPath(index, width)}`;
}

/** The path of an entry bundle: `tile/entries/<N>[.p/<W>]`, N and W as in tilePath. */
export function entryBundlePath(index: number, width = TILE_WIDTH): string {
  return `tile/entries/${indexPath(index, width)}`;
}

function indexPath(index: number, width: number): string {
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  const path = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `${path}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

/** What a tlog-tiles path asks for: W hashes of tile (L, N), or W entries of bundle N. */
export type TileRequest =
  { kind: 'hashes'; level: number; index: number; width: number } | { kind: 'entries'; index: number; width: number };

/** The highest tile level the spec allows in a path. */
export const MAX_TILE_PATH_LEVEL = 63;

export class TilePathError extends AppError {
  override readonly name = 'TilePathError';
  readonly code = 'BAD_TILE_PATH';
  override readonly status = 400;
}

/**
 * Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` as tlog-tiles writes them: L in
 * 0..63 and W in 1..255 without leading zeroes, N in three-digit groups. Only the one canonical
 * spelling is accepted (no `x000/` groups in front), so one tile has one URL and one cache entry.
 * Throws TilePathError.
 */
export function parseTilePath(path: string): TileRequest {
  const bad = (why: string) => new TilePathError(`${JSON.stringify(path)}: ${why}`);
  const segments = typeof path === 'string' ? path.split('/') : [];
  if (segments.length < 3 || segments[0] !== 'tile')
    throw bad('expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]');
  const entries = segments[1] === 'entries';
  if (!entries && !/^(0|[1-9][0-9]?)$/.test(segments[1])) throw bad('L must be a decimal 0..63 without leading zeroes');
  const level = entries ? 0 : Number(segments[1]);
  if (level > MAX_TILE_PATH_LEVEL) throw bad('L must be at most 63');
  let groups = segments.slice(2);
  let width = TILE_WIDTH;
  if (groups.length >= 2 && groups[groups.length - 2].endsWith('.p')) {
    const w = groups[groups.length - 1];
    if (!/^[1-9][0-9]{0,2}$/.test(w) || Number(w) >= TILE_WIDTH)
      throw bad('W must be a decimal 1..255 without leading zeroes');
    width = Number(w);
    groups = [...groups.slice(0, -2), groups[groups.length - 2].slice(0, -2)];
  }
  // Six groups reach 10^18, well past 2^53: more cannot be an index.
  if (groups.length > 6) throw bad('N has too many groups');
  if (!groups.slice(0, -1).every((g) => /^x[0-9]{3}$/.test(g)) || !/^[0-9]{3}$/.test(groups[groups.length - 1])) {
    throw bad('N must be three-digit groups, all but the last prefixed with x');
  }
  const index = groups.reduce((n, g) => n * 1000 + Number(g.replace('x', '')), 0);
  if (!Number.isSafeInteger(index)) throw bad('N is beyond 2^53 - 1');
  const canonical = entries ? entryBundlePath(index, width) : tilePath(level, index, width);
  if (canonical !== path) throw bad(`not the canonical spelling ${canonical}`);
  return entries ? { kind: 'entries', index, width } : { kind: 'hashes', level, index, width };
}

/**
 * Every complete node of a tile's subtree, level by level: `levels[h]` holds the
 * floor(W / 2^h) hashes of tree level 8·L + h under the tile, concatenated. What a tile of
 * width W holds never changes as the tile grows (a wider version has it as prefix), so a
 * reader can keep this and answer those nodes without hashing again.
 */
export function tileSubtree(tile: Tile): Buffer[] {
  const levels = [tile.hashes];
  for (let h = 1; h <= TILE_HEIGHT; h++) {
    const below = levels[h - 1];
    const n = Math.floor(below.length / (2 * HASH_SIZE));
    const up = Buffer.allocUnsafe(n * HASH_SIZE);
    for (let k = 0; k < n; k++) {
      nodeHash(
        below.subarray(2 * k * HASH_SIZE, (2 * k + 1) * HASH_SIZE),
        below.subarray((2 * k + 1) * HASH_SIZE, (2 * k + 2) * HASH_SIZE),
      ).copy(up, k * HASH_SIZE);
    }
    levels.push(up);
  }
  return levels;
}

/** Node `id` from the subtree of its tile (tileSubtree), or undefined when the tile does not hold it yet. */
export function nodeFromSubtree(id: NodeId, levels: Buffer[]): Buffer | undefined {
  const { offset, count } = tileOfNode(id);
  const h = Math.log2(count);
  const k = offset / count;
  if ((k + 1) * HASH_SIZE > levels[h].length) return undefined;
  return Buffer.from(levels[h].subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE));
}

/**
 * The tiles a client fetches to compute the root of a tree of `treeSize` leaves, each with the
 * width that tree gives it (256, or the partial width of the right edge).
 */
export function rootTiles(treeSize: number): Array<TileId & { width: number }> {
  return tilesForNodes(completeSubtrees({ begin: 0, end: treeSize })).map((t) => ({
    ...t,
    width: Math.min(TILE_WIDTH, hashesAtTileLevel(treeSize, t.level) - t.index * TILE_WIDTH),
  }));
}

/**
 * The root of a tree of `treeSize` leaves from tiles alone (rootTiles names them): its frontier
 * read from the tiles, folded from the right. Throws BAD_FRONTIER when a tile is missing or too
 * narrow for a node.
 */
export function rootFromTiles(treeSize: number, tile: (id: TileId) => Tile | undefined): Buffer {
  if (treeSize === 0) return Buffer.from(EMPTY_ROOT);
  const frontier = completeSubtrees({ begin: 0, end: treeSize }).map((id) => {
    const hash = nodeFromTile(id, tile(tileOfNode(id).tile));
    if (!hash)
      throw new MerkleProofError(
        'BAD_FRONTIER',
        `no tile holds node ${id.level}/${id.index} of the tree of size ${treeSize}`,
      );
    return hash;
  });
  return rootFromFrontier(frontier);
}
