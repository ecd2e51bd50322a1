import type { NodeId } from '../domain/merkle/range.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import { nodeFromTile, tileOfNode, tilesForNodes, type Tile, type TileId } from '../domain/merkle/tiles.js';

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
 * Stored Merkle nodes, computed from their tiles (src/domain/merkle/tiles.ts), in the order
 * asked; undefined where the tiles do not hold a node. `overlay` holds tiles newer than the
 * stored ones (an append's own, before they are written) and wins over them.
 */
export async function readMerkleNodes(query: RowQuery, shard: number, ids: NodeId[], overlay?: TileMap): Promise<Array<Buffer | undefined>> {
  if (ids.length === 0) return [];
  const needed = tilesForNodes(ids).filter((t) => !overlay?.has(tileKey(t)));
  const stored = needed.length > 0 ? await readTiles(query, shard, needed) : new Map<string, Tile>();
  return ids.map((id) => {
    const key = tileKey(tileOfNode(id).tile);
    return nodeFromTile(id, overlay?.get(key) ?? stored.get(key));
  });
}

/** A NodeReader for proofs: one query per proof; throws naming the first missing node. */
export function merkleNodeReader(query: RowQuery, shard: number, overlay?: TileMap): NodeReader {
  return async (ids) => {
    const hashes = await readMerkleNodes(query, shard, ids, overlay);
    return hashes.map((h, i) => {
      if (!h) throw new Error(`merkle node missing: shard ${shard} level ${ids[i].level} index ${ids[i].index}`);
      return h;
    });
  };
}
