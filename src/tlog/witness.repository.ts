import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StoredCosignature {
  witness: string;
  keyId: number;
  /** The signature bytes after the key ID: timestamp || Ed25519 signature. */
  signature: Buffer;
}

export interface WitnessStateRow {
  witness: string;
  shard: number;
  cosignedSize: number;
  cosignedAt: Date | null;
  failures: number;
  lastError: string | null;
  nextAttemptAt: Date;
}

/** SQL of witnessing: cosignatures (append-only) and the per witness and shard submission state. */
@Injectable()
export class WitnessRepository {
  constructor(private readonly db: DataSource) {}

  /** One state row per (witness, shard); existing rows are kept. */
  async ensureStates(witnesses: string[], shards: number[]): Promise<void> {
    if (witnesses.length === 0 || shards.length === 0) return;
    await this.db.query(
      `INSERT INTO witness_state (witness, shard)
       SELECT w, s FROM unnest($1::text[]) w CROSS JOIN unnest($2::int[]) s
       ON CONFLICT ON CONSTRAINT witness_state_pkey DO NOTHING`,
      [witnesses, shards],
    );
  }

  /**
   * Takes the lease of (witness, shard) for `leaseMs` when it is due and not leased by another
   * instance; returns the size the witness last cosigned, or undefined when not taken.
   */
  async lease(
    witness: string,
    shard: number,
    leaseMs: number,
  ): Promise<{ cosignedSize: number; failures: number } | undefined> {
    type Row = { cosigned_size: string; failures: number };
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected count].
    const [rows] = (await this.db.query(
      `UPDATE witness_state SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE witness = $1 AND shard = $2 AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
       RETURNING cosigned_size, failures`,
      [witness, shard, leaseMs],
    )) as [Row[], number];
    const r = rows[0];
    return r && { cosignedSize: Number(r.cosigned_size), failures: r.failures };
  }

  async setKnownSize(witness: string, shard: number, size: number): Promise<void> {
    await this.db.query(`UPDATE witness_state SET cosigned_size = $3 WHERE witness = $1 AND shard = $2`, [
      witness,
      shard,
      size,
    ]);
  }

  /** Stores the cosignatures and the new cosigned size, and releases the lease, in one transaction. */
  async succeeded(
    shard: number,
    treeSize: number,
    rootHash: Buffer,
    witness: string,
    cosignatures: Array<{ keyId: number; timestamp: bigint; signature: Buffer }>,
  ): Promise<void> {
    await this.db.transaction(async (m) => {
      for (const c of cosignatures) {
        await m.query(
          `INSERT INTO witness_cosignatures (shard, tree_size, root_hash, witness, key_id, cosigned_at, signature)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT witness_cosignatures_pkey DO NOTHING`,
          [shard, treeSize, rootHash, witness, c.keyId, c.timestamp.toString(), c.signature],
        );
      }
      await m.query(
        `UPDATE witness_state SET cosigned_size = $3, cosigned_at = now(), failures = 0, last_error = NULL,
                next_attempt_at = now(), lease_until = NULL
         WHERE witness = $1 AND shard = $2`,
        [witness, shard, treeSize],
      );
    });
  }

  async failed(witness: string, shard: number, error: string, backoffMs: number): Promise<void> {
    await this.db.query(
      `UPDATE witness_state SET failures = failures + 1, last_error = $3,
              next_attempt_at = now() + $4 * interval '1 millisecond', lease_until = NULL
       WHERE witness = $1 AND shard = $2`,
      [witness, shard, error.slice(0, 1000), backoffMs],
    );
  }

  async release(witness: string, shard: number): Promise<void> {
    await this.db.query(`UPDATE witness_state SET lease_until = NULL WHERE witness = $1 AND shard = $2`, [
      witness,
      shard,
    ]);
  }

  /** The stored cosignatures of exactly this checkpoint (size and root). */
  async cosignatures(shard: number, treeSize: number, rootHash: Buffer): Promise<StoredCosignature[]> {
    const rows: Array<{ witness: string; key_id: string; signature: Buffer }> = await this.db.query(
      `SELECT witness, key_id, signature FROM witness_cosignatures
       WHERE shard = $1 AND tree_size = $2 AND root_hash = $3 ORDER BY witness, key_id`,
      [shard, treeSize, rootHash],
    );
    return rows.map((r) => ({ witness: r.witness, keyId: Number(r.key_id), signature: r.signature }));
  }

  /**
   * The largest tree size of the shard cosigned by at least `quorum` of `witnesses`. Grouped by
   * size alone, so the primary key's order serves it and the scan stops at the first match: a
   * stored cosignature was verified over the checkpoint of that size, and a size has one root.
   */
  async newestCosigned(shard: number, witnesses: string[], quorum: number): Promise<number | undefined> {
    const rows: Array<{ tree_size: string }> = await this.db.query(
      `SELECT tree_size FROM witness_cosignatures
       WHERE shard = $1 AND witness = ANY($2::text[])
       GROUP BY tree_size HAVING count(DISTINCT witness) >= $3
       ORDER BY tree_size DESC LIMIT 1`,
      [shard, witnesses, quorum],
    );
    return rows[0] && Number(rows[0].tree_size);
  }

  /** The smallest tree size > leafIndex cosigned by at least `quorum` of `witnesses`. */
  async smallestCosignedCovering(
    shard: number,
    leafIndex: number,
    witnesses: string[],
    quorum: number,
  ): Promise<number | undefined> {
    const rows: Array<{ tree_size: string }> = await this.db.query(
      `SELECT tree_size FROM witness_cosignatures
       WHERE shard = $1 AND tree_size > $2 AND witness = ANY($3::text[])
       GROUP BY tree_size HAVING count(DISTINCT witness) >= $4
       ORDER BY tree_size LIMIT 1`,
      [shard, leafIndex, witnesses, quorum],
    );
    return rows[0] && Number(rows[0].tree_size);
  }

  async states(): Promise<WitnessStateRow[]> {
    const rows: Array<{
      witness: string;
      shard: number;
      cosigned_size: string;
      cosigned_at: Date | null;
      failures: number;
      last_error: string | null;
      next_attempt_at: Date;
    }> = await this.db.query(
      `SELECT witness, shard, cosigned_size, cosigned_at, failures, last_error, next_attempt_at
       FROM witness_state ORDER BY witness, shard`,
    );
    return rows.map((r) => ({
      witness: r.witness,
      shard: r.shard,
      cosignedSize: Number(r.cosigned_size),
      cosignedAt: r.cosigned_at,
      failures: r.failures,
      lastError: r.last_error,
      nextAttemptAt: r.next_attempt_at,
    }));
  }
}
