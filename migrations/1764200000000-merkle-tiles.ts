import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merkle data as tiles (src/domain/merkle/tiles.ts, the C2SP tlog-tiles layout) instead of one
 * row per node: `merkle_tiles` holds full tiles (256 hashes, 8,192 bytes), append-only like the
 * other ledger tables; `merkle_partial_tiles` holds each shard's right-edge partial tile per
 * tile level (at most one per level), rewritten as it grows and deleted in the transaction that
 * writes it full. Proofs compute the nodes between tile levels from the tile hashes.
 *
 * Existing nodes are converted in SQL: the nodes at tree levels divisible by 8 are exactly the
 * tile hashes; the others are not kept (they are recomputed from tiles when a proof needs
 * them). Irreversible: `down` refuses rather than restore a table without its inner nodes.
 */
export class MerkleTiles1764200000000 implements MigrationInterface {
  name = 'MerkleTiles1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE merkle_tiles (
        shard   integer  NOT NULL,
        level   smallint NOT NULL,
        idx     bigint   NOT NULL,
        hashes  bytea    NOT NULL,
        CONSTRAINT merkle_tiles_pkey PRIMARY KEY (shard, level, idx),
        CONSTRAINT merkle_tiles_full CHECK (length(hashes) = 8192)
      )`);
    await q.query(`
      CREATE TABLE merkle_partial_tiles (
        shard   integer  NOT NULL,
        level   smallint NOT NULL,
        idx     bigint   NOT NULL,
        hashes  bytea    NOT NULL,
        CONSTRAINT merkle_partial_tiles_pkey PRIMARY KEY (shard, level),
        CONSTRAINT merkle_partial_tiles_width CHECK (length(hashes) BETWEEN 32 AND 8160 AND length(hashes) % 32 = 0)
      )`);
    // Random hashes do not compress: keep them out of the compressor's way.
    await q.query(`ALTER TABLE merkle_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL`);
    await q.query(`
      WITH t AS (
        SELECT shard, level / 8 AS level, idx / 256 AS idx, count(*) AS n, string_agg(hash, ''::bytea ORDER BY idx) AS hashes
        FROM merkle_nodes WHERE level % 8 = 0 GROUP BY shard, level / 8, idx / 256
      ), full_tiles AS (
        INSERT INTO merkle_tiles (shard, level, idx, hashes) SELECT shard, level, idx, hashes FROM t WHERE n = 256
      )
      INSERT INTO merkle_partial_tiles (shard, level, idx, hashes) SELECT shard, level, idx, hashes FROM t WHERE n < 256`);
    await q.query(`DROP TABLE merkle_nodes`);
    await q.query(
      `CREATE TRIGGER merkle_tiles_append_only BEFORE UPDATE OR DELETE ON merkle_tiles FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()`,
    );
    await q.query(
      `CREATE TRIGGER merkle_tiles_no_truncate BEFORE TRUNCATE ON merkle_tiles FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()`,
    );
    await q.query(`GRANT SELECT, INSERT ON merkle_tiles TO routing_ledger_app`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON merkle_partial_tiles TO routing_ledger_app`);
  }

  async down(): Promise<void> {
    throw new Error(
      'MerkleTiles1764200000000 cannot be reverted: merkle_nodes held inner nodes that tiles do not store',
    );
  }
}
