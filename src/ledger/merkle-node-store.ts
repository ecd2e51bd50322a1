import type { NodeId } from '../domain/merkle/range.js';
import type { NodeReader } from '../domain/merkle/prover.js';

/** Anything that runs a query and returns rows: a pg client or a TypeORM DataSource/manager. */
export type RowQuery = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * Stored Merkle nodes by index probes on merkle_nodes_pkey, one per id, in the order asked;
 * undefined where a node is missing. (A plain join against the shard's nodes lets the planner
 * read every node of the shard on each call: quadratic as shards grow.)
 */
export async function readMerkleNodes(query: RowQuery, shard: number, ids: NodeId[]): Promise<Array<Buffer | undefined>> {
  if (ids.length === 0) return [];
  const rows = (await query(
    `SELECT w.ord, m.hash FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY AS w(level, idx, ord)
     CROSS JOIN LATERAL (SELECT hash FROM merkle_nodes WHERE shard = $1 AND level = w.level AND idx = w.idx) m`,
    [shard, ids.map((i) => i.level), ids.map((i) => i.index)],
  )) as Array<{ ord: string; hash: Buffer }>;
  const hashes = new Array<Buffer | undefined>(ids.length);
  for (const r of rows) hashes[Number(r.ord) - 1] = r.hash;
  return hashes;
}

/** A NodeReader for proofs: throws naming the first missing node. */
export function merkleNodeReader(query: RowQuery, shard: number): NodeReader {
  return async (ids) => {
    const hashes = await readMerkleNodes(query, shard, ids);
    return hashes.map((h, i) => {
      if (!h) throw new Error(`merkle node missing: shard ${shard} level ${ids[i].level} index ${ids[i].index}`);
      return h;
    });
  };
}
