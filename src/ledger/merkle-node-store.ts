import type { NodeId } from '../domain/merkle/range.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import {
  nodeFromSubtree,
  nodeFromTile,
  tileOfNode,
  tileSubtree,
  tilesForNodes,
  type Tile,
  type TileId,
} from '../domain/merkle/tiles.js';

/** Anything that runs a query and returns rows: a pg client or a TypeORM DataSource/manager. */
export type RowQuery = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** Tiles by "level/index". */
export type TileMap = Map<string, Tile>;

export const tileKey = (t: TileId): string => `${t.level}/${t.index}`;

/**
 * The given tiles of a shard, full ones by index probes on merkle_tiles_pkey (a plain join
 * lets the planner read every tile of the shard), plus the shard's partial tiles (at most one
 * per level). A full tile wins over a partial row for the same position.
 */
export async function readTiles(query: RowQuery, shard: number, ids: TileId[]): Promise<TileMap> {
  const rows = (await query(
    `SELECT w.level, w.idx, t.hashes, true AS full FROM unnest($2::smallint[], $3::bigint[]) AS w(level, idx)
       CROSS JOIN LATERAL (SELECT hashes FROM merkle_tiles WHERE shard = $1 AND level = w.level AND idx = w.idx) t
     UNION ALL
     SELECT level, idx, hashes, false FROM merkle_partial_tiles WHERE shard = $1`,
    [shard, ids.map((i) => i.level), ids.map((i) => i.index)],
  )) as Array<{ level: number; idx: string; hashes: Buffer; full: boolean }>;
  const tiles: TileMap = new Map();
  for (const r of rows) {
    const tile = { level: r.level, index: Number(r.idx), hashes: r.hashes };
    if (r.full || !tiles.has(tileKey(tile))) tiles.set(tileKey(tile), tile);
  }
  return tiles;
}

/**
 * Subtrees of tiles already read, for serving proofs: computing a tile's inner nodes costs up to
 * 255 hashes, which every proof through it would otherwise pay again. What a tile holds never
 * changes as it grows (src/domain/merkle/tiles.ts), so a cached partial tile answers the nodes
 * it holds and a wider one is read only for the nodes it does not. Least recently used first
 * out; one cache per repository (per database). Never used by full verification, which must
 * read what is stored.
 */
export class TileCache {
  private readonly tiles = new Map<string, Buffer[]>();

  constructor(private readonly capacity = 1024) {}

  get(shard: number, t: TileId): Buffer[] | undefined {
    const key = `${shard}/${tileKey(t)}`;
    const hit = this.tiles.get(key);
    if (hit) {
      this.tiles.delete(key);
      this.tiles.set(key, hit);
    }
    return hit;
  }

  set(shard: number, tile: Tile): Buffer[] {
    const levels = tileSubtree(tile);
    this.tiles.set(`${shard}/${tileKey(tile)}`, levels);
    if (this.tiles.size > this.capacity) this.tiles.delete(this.tiles.keys().next().value as string);
    return levels;
  }
}

/**
 * Stored Merkle nodes, computed from their tiles (src/domain/merkle/tiles.ts), in the order
 * asked; undefined where the tiles do not hold a node. `overlay` holds tiles newer than the
 * stored ones (an append's own, before they are written) and wins over them; `cache`, when
 * given, answers what it holds and keeps what is read.
 */
export async function readMerkleNodes(
  query: RowQuery,
  shard: number,
  ids: NodeId[],
  overlay?: TileMap,
  cache?: TileCache,
): Promise<Array<Buffer | undefined>> {
  if (ids.length === 0) return [];
  const out = new Array<Buffer | undefined>(ids.length);
  const missing: number[] = [];
  ids.forEach((id, i) => {
    const tile = tileOfNode(id).tile;
    const fromOverlay = overlay?.get(tileKey(tile));
    if (fromOverlay) out[i] = nodeFromTile(id, fromOverlay);
    else {
      const levels = cache?.get(shard, tile);
      out[i] = levels && nodeFromSubtree(id, levels);
      if (!out[i]) missing.push(i);
    }
  });
  if (missing.length === 0) return out;
  const stored = await readTiles(query, shard, tilesForNodes(missing.map((i) => ids[i])));
  if (!cache) {
    for (const i of missing) out[i] = nodeFromTile(ids[i], stored.get(tileKey(tileOfNode(ids[i]).tile)));
    return out;
  }
  const subtrees = new Map<string, Buffer[]>();
  for (const [key, tile] of stored) subtrees.set(key, cache.set(shard, tile));
  for (const i of missing) {
    const levels = subtrees.get(tileKey(tileOfNode(ids[i]).tile));
    out[i] = levels && nodeFromSubtree(ids[i], levels);
  }
  return out;
}

/** A NodeReader for proofs: one query per proof at most; throws naming the first missing node. */
export function merkleNodeReader(query: RowQuery, shard: number, overlay?: TileMap, cache?: TileCache): NodeReader {
  return async (ids) => {
    const hashes = await readMerkleNodes(query, shard, ids, overlay, cache);
    return hashes.map((h, i) => {
      if (!h) throw new Error(`merkle node missing: shard ${shard} level ${ids[i].level} index ${ids[i].index}`);
      return h;
    });
  };
}
