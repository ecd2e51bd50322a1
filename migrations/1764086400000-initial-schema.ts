import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger schema. Raw SQL: triggers, roles and hand-named constraints read better so.
 *
 * Ledger tables (records, merkle_nodes, checkpoints) are append-only twice over: triggers
 * reject UPDATE, DELETE and TRUNCATE for everyone, and the role the service runs as
 * (routing_ledger_app, SET after connect) holds only SELECT and INSERT on them.
 * Head tables (shard_heads, tenant_heads, consumed_offsets) are mutable summaries that a
 * full verification recomputes from the ledger tables.
 */
export class InitialSchema1764086400000 implements MigrationInterface {
  name = 'InitialSchema1764086400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE records (
        event_id         text        NOT NULL,
        shard            integer     NOT NULL,
        leaf_index       bigint      NOT NULL,
        tenant_id        text        NOT NULL,
        tenant_seq       bigint      NOT NULL,
        tenant_prev      bytea,
        leaf_hash        bytea       NOT NULL,
        content_sha256   bytea       NOT NULL,
        occurred_at      timestamptz NOT NULL,
        received_at      timestamptz NOT NULL,
        request_id       text        NOT NULL,
        trace_id         text,
        gateway_id       text        NOT NULL,
        requested_model  text        NOT NULL,
        resolved_model   text,
        provider         text,
        region_served    text,
        fallback_used    text,
        cache_status     text,
        outcome_status   text        NOT NULL,
        signals          text[]      NOT NULL DEFAULT '{}',
        record           jsonb       NOT NULL,
        kafka_topic      text,
        kafka_partition  integer,
        kafka_offset     bigint,
        CONSTRAINT records_pkey PRIMARY KEY (event_id),
        CONSTRAINT records_shard_leaf_key UNIQUE (shard, leaf_index),
        CONSTRAINT records_tenant_chain_key UNIQUE (shard, tenant_id, tenant_seq)
      )`);
    await q.query(`CREATE INDEX records_tenant_time_idx ON records (tenant_id, occurred_at)`);
    await q.query(`CREATE INDEX records_request_idx ON records (request_id)`);
    await q.query(`CREATE INDEX records_trace_idx ON records (trace_id) WHERE trace_id IS NOT NULL`);
    await q.query(`CREATE INDEX records_provider_time_idx ON records (provider, occurred_at)`);
    await q.query(`CREATE INDEX records_requested_model_time_idx ON records (requested_model, occurred_at)`);

    await q.query(`
      CREATE TABLE merkle_nodes (
        shard  integer  NOT NULL,
        level  smallint NOT NULL,
        idx    bigint   NOT NULL,
        hash   bytea    NOT NULL,
        CONSTRAINT merkle_nodes_pkey PRIMARY KEY (shard, level, idx)
      )`);

    await q.query(`
      CREATE TABLE shard_heads (
        shard       integer     NOT NULL,
        tree_size   bigint      NOT NULL DEFAULT 0,
        root_hash   bytea       NOT NULL,
        frontier    bytea[]     NOT NULL DEFAULT '{}',
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT shard_heads_pkey PRIMARY KEY (shard)
      )`);

    await q.query(`
      CREATE TABLE tenant_heads (
        shard           integer NOT NULL,
        tenant_id       text    NOT NULL,
        next_seq        bigint  NOT NULL,
        last_leaf_hash  bytea   NOT NULL,
        CONSTRAINT tenant_heads_pkey PRIMARY KEY (shard, tenant_id)
      )`);

    await q.query(`
      CREATE TABLE checkpoints (
        shard              integer     NOT NULL,
        tree_size          bigint      NOT NULL,
        root_hash          bytea       NOT NULL,
        signed_at          timestamptz NOT NULL,
        kid                text        NOT NULL,
        jws                text        NOT NULL,
        prev_tree_size     bigint,
        consistency_proof  bytea[]     NOT NULL DEFAULT '{}',
        CONSTRAINT checkpoints_pkey PRIMARY KEY (shard, tree_size)
      )`);

    await q.query(`
      CREATE TABLE signing_keys (
        kid          text        NOT NULL,
        public_jwk   jsonb       NOT NULL,
        valid_from   timestamptz NOT NULL,
        valid_until  timestamptz,
        CONSTRAINT signing_keys_pkey PRIMARY KEY (kid)
      )`);

    await q.query(`
      CREATE TABLE consumed_offsets (
        group_id     text        NOT NULL,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        next_offset  bigint      NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT consumed_offsets_pkey PRIMARY KEY (group_id, topic, partition)
      )`);

    await q.query(`
      CREATE TABLE quarantine (
        id               bigserial   NOT NULL,
        quarantined_at   timestamptz NOT NULL DEFAULT now(),
        reason_code      text        NOT NULL,
        reason           text        NOT NULL,
        event_id         text,
        existing_sha256  bytea,
        incoming_sha256  bytea,
        topic            text,
        partition        integer,
        "offset"         bigint,
        headers          jsonb       NOT NULL DEFAULT '{}',
        payload          bytea       NOT NULL,
        CONSTRAINT quarantine_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX quarantine_reason_idx ON quarantine (reason_code, quarantined_at)`);

    await q.query(`
      CREATE TABLE gateways (
        id                    text        NOT NULL,
        kind                  text        NOT NULL,
        display_name          text,
        attestation_required  boolean     NOT NULL DEFAULT false,
        public_keys           jsonb       NOT NULL DEFAULT '{"keys":[]}',
        created_at            timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT gateways_pkey PRIMARY KEY (id)
      )`);

    await q.query(`
      CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger table % is append-only: % rejected', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['records', 'merkle_nodes', 'checkpoints']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()`,
      );
    }

    // The service's role. Roles are cluster-wide, so create it only when missing.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'routing_ledger_app') THEN
          CREATE ROLE routing_ledger_app NOLOGIN;
        END IF;
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO routing_ledger_app`);
    await q.query(`GRANT SELECT, INSERT ON records, merkle_nodes, checkpoints, quarantine TO routing_ledger_app`);
    await q.query(
      `GRANT SELECT, INSERT, UPDATE ON shard_heads, tenant_heads, consumed_offsets, signing_keys, gateways TO routing_ledger_app`,
    );
    await q.query(`GRANT USAGE ON SEQUENCE quarantine_id_seq TO routing_ledger_app`);
    await q.query(`GRANT SELECT ON migrations TO routing_ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE gateways, quarantine, consumed_offsets, signing_keys, checkpoints, tenant_heads, shard_heads, merkle_nodes, records`,
    );
    await q.query(`DROP FUNCTION ledger_reject_change()`);
    await q.query(`REVOKE ALL ON SCHEMA public FROM routing_ledger_app`);
  }
}
