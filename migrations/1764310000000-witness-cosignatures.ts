import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Witnessing (https://c2sp.org/tlog-witness): the cosignatures witnesses returned for shard
 * checkpoints, and per witness and shard the size it last cosigned and the submitter's retry
 * state.
 *
 * Cosignatures are evidence, append-only like the checkpoints they sign (same trigger, INSERT
 * only for the service role). A cosignature is kept with the root it signs, so a row can never
 * be appended to another checkpoint of the same size. witness_state is bookkeeping: updated in
 * place, and leased (lease_until) so that of several instances only one submits per witness
 * and shard at a time without holding a connection during the HTTP call.
 */
export class WitnessCosignatures1764310000000 implements MigrationInterface {
  name = 'WitnessCosignatures1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE witness_cosignatures (
        shard integer NOT NULL,
        tree_size bigint NOT NULL,
        root_hash bytea NOT NULL,
        witness text NOT NULL,
        key_id bigint NOT NULL,
        cosigned_at bigint NOT NULL,
        signature bytea NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT witness_cosignatures_pkey PRIMARY KEY (shard, tree_size, witness, key_id),
        CONSTRAINT witness_cosignatures_root_size CHECK (octet_length(root_hash) = 32),
        CONSTRAINT witness_cosignatures_key_id CHECK (key_id BETWEEN 0 AND 4294967295)
      )`);
    await q.query(`
      CREATE TABLE witness_state (
        witness text NOT NULL,
        shard integer NOT NULL,
        cosigned_size bigint NOT NULL DEFAULT 0,
        cosigned_at timestamptz,
        failures integer NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        CONSTRAINT witness_state_pkey PRIMARY KEY (witness, shard)
      )`);
    for (const t of ['witness_cosignatures']) {
      await q.query(
        `CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()`,
      );
    }
    await q.query(`GRANT SELECT, INSERT ON witness_cosignatures TO routing_ledger_app`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON witness_state TO routing_ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE witness_state`);
    await q.query(`DROP TABLE witness_cosignatures`);
  }
}
