import type pg from 'pg';
import { createHash } from 'node:crypto';
import { MerkleTiles1764200000000 } from '../../migrations/1764200000000-merkle-tiles.js';
import { appendLeaves } from '../../src/domain/merkle/append.js';
import { leafHash } from '../../src/domain/merkle/hasher.js';
import { consistencyProof, inclusionProof } from '../../src/domain/merkle/prover.js';
import type { StoredNode } from '../../src/domain/merkle/range.js';
import { merkleNodeReader } from '../../src/ledger/merkle-node-store.js';
import { upgradedDatabase } from '../support/migration-upgrade.js';

/**
 * The migration that replaces merkle_nodes with tiles must carry every stored tree over: after
 * it, proofs served from the tiles equal the proofs served from the nodes before.
 */
describe('migration MerkleTiles: merkle_nodes become C2SP tiles', () => {
  const sizes = new Map([
    [0, 70_000],
    [1, 256],
    [2, 3],
  ]);
  const nodes = new Map<number, Map<string, Buffer>>();
  let db: pg.Pool;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ pool: db, drop } = await upgradedDatabase(MerkleTiles1764200000000, async (before) => {
      for (const [shard, size] of sizes) {
        // Grown in batches, as the append did: every complete-subtree node stored.
        const all: StoredNode[] = [];
        let state = { treeSize: 0, frontier: [] as Buffer[] };
        for (let i = 0; i < size; i += 9_000) {
          const r = appendLeaves(
            state,
            Array.from({ length: Math.min(9_000, size - i) }, (_, k) =>
              leafHash(
                createHash('sha256')
                  .update(`${shard}/${i + k}`)
                  .digest(),
              ),
            ),
          );
          all.push(...r.nodes);
          state = r;
        }
        nodes.set(shard, new Map(all.map((n) => [`${n.level}/${n.index}`, n.hash])));
        await before.query(
          `INSERT INTO merkle_nodes (shard, level, idx, hash) SELECT $1, l, i, h FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS u(l, i, h)`,
          [shard, all.map((n) => n.level), all.map((n) => n.index), all.map((n) => n.hash)],
        );
      }
    }));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('keeps full tiles in merkle_tiles and one partial tile per level', async () => {
    const full = await db.query<{ shard: number; level: number; n: string }>(
      'SELECT shard, level, count(*) AS n FROM merkle_tiles GROUP BY 1, 2 ORDER BY 1, 2',
    );
    expect(full.rows.map((r) => [r.shard, r.level, Number(r.n)])).toEqual([
      [0, 0, 273],
      [0, 1, 1],
      [1, 0, 1],
    ]);
    const partial = await db.query<{ shard: number; level: number; idx: string; w: number }>(
      'SELECT shard, level, idx, length(hashes) / 32 AS w FROM merkle_partial_tiles ORDER BY 1, 2',
    );
    expect(partial.rows.map((r) => [r.shard, r.level, Number(r.idx), r.w])).toEqual([
      [0, 0, 273, 112],
      [0, 1, 1, 17],
      [0, 2, 0, 1],
      [1, 1, 0, 1],
      [2, 0, 0, 3],
    ]);
    await expect(db.query('SELECT 1 FROM merkle_nodes')).rejects.toThrow(/does not exist/);
  });

  it('serves the proofs the stored nodes served', async () => {
    const query = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows;
    for (const [shard, size] of sizes) {
      const byNode = async (ids: Array<{ level: number; index: number }>) =>
        ids.map((id) => nodes.get(shard)!.get(`${id.level}/${id.index}`)!);
      const tiles = merkleNodeReader(query, shard);
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        expect(await inclusionProof(tiles, index, size)).toEqual(await inclusionProof(byNode, index, size));
      }
      if (size > 1) expect(await consistencyProof(tiles, 1, size)).toEqual(await consistencyProof(byNode, 1, size));
    }
  });
});
