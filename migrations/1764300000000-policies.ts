import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Declared routing policies (docs/policies.md): the policy log, beside the record shards.
 *
 * - `policy_versions`: one row per leaf of the policy log. `entry` holds the exact leaf bytes
 *   (RFC 8785 canonical JSON of the PolicyEntry, src/domain/policy/policy-log.ts), so a version is
 *   verified from what is stored, like a record. Versions are never edited: append-only triggers
 *   and a role with SELECT and INSERT only.
 * - `policy_checkpoints`: the signed tree head after each append. Append-only too.
 *
 * Appends are serialized by an advisory transaction lock (the service role may not take table
 * locks stronger than ROW EXCLUSIVE, which needs UPDATE or DELETE rights it does not have).
 */
export class Policies1764300000000 implements MigrationInterface {
  name = 'Policies1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policy_versions (
        leaf_index      bigint      NOT NULL,
        tenant_id       text        NOT NULL,
        version         integer     NOT NULL,
        effective_from  timestamptz NOT NULL,
        published_at    timestamptz NOT NULL,
        published_by    text        NOT NULL,
        leaf_hash       bytea       NOT NULL,
        entry           text        NOT NULL,
        CONSTRAINT policy_versions_pkey PRIMARY KEY (leaf_index),
        CONSTRAINT policy_versions_tenant_version_key UNIQUE (tenant_id, version),
        CONSTRAINT policy_versions_version_positive CHECK (version > 0)
      )`);
    // The version in force at a time: the latest effective_from at or before it, per tenant.
    await q.query(`CREATE INDEX policy_versions_tenant_effective_idx ON policy_versions (tenant_id, effective_from)`);
    await q.query(`
      CREATE TABLE policy_checkpoints (
        tree_size  bigint      NOT NULL,
        root_hash  bytea       NOT NULL,
        signed_at  timestamptz NOT NULL,
        kid        text        NOT NULL,
        jws        text        NOT NULL,
        CONSTRAINT policy_checkpoints_pkey PRIMARY KEY (tree_size)
      )`);
    for (const table of ['policy_versions', 'policy_checkpoints']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()`,
      );
    }
    await q.query(`GRANT SELECT, INSERT ON policy_versions, policy_checkpoints TO routing_ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE policy_checkpoints, policy_versions`);
  }
}
