import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shard-local append: every table the append transaction writes is keyed by `shard`, so that on a
 * PostgreSQL scaled out by shard (Citus, distribution column `shard`) a batch's rows and locks sit
 * on one node (docs/operations.md, "Scaling out").
 *
 * - `records`: the primary key becomes (event_id, shard). The append's duplicate lookup filters by
 *   shard; lookups by event_id alone keep using the index's leading column.
 * - `event_ids`: one row per event id of the whole ledger (its shard and content hash), the global
 *   uniqueness that records no longer enforce across shards. The append claims each new id here,
 *   so an event delivered to a second partition is still a duplicate or a conflict. Append-only
 *   like the ledger tables. Filled from the stored records.
 * - `consumed_offsets` and `quarantine` get a `shard` column (the batch's partition, which is its
 *   shard) in their primary keys. Filled from `partition`.
 */
export class ShardLocalAppend1764230000000 implements MigrationInterface {
  name = 'ShardLocalAppend1764230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_ids (
        event_id        text    NOT NULL,
        shard           integer NOT NULL,
        content_sha256  bytea   NOT NULL,
        CONSTRAINT event_ids_pkey PRIMARY KEY (event_id)
      )`);
    await q.query(
      `INSERT INTO event_ids (event_id, shard, content_sha256) SELECT event_id, shard, content_sha256 FROM records`,
    );
    await q.query(
      `COMMENT ON TABLE event_ids IS 'every event id in the ledger and its shard: event ids stay unique across shards'`,
    );
    await q.query(
      `CREATE TRIGGER event_ids_append_only BEFORE UPDATE OR DELETE ON event_ids FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()`,
    );
    await q.query(
      `CREATE TRIGGER event_ids_no_truncate BEFORE TRUNCATE ON event_ids FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()`,
    );
    await q.query(`GRANT SELECT, INSERT ON event_ids TO routing_ledger_app`);

    await q.query(
      `ALTER TABLE records DROP CONSTRAINT records_pkey, ADD CONSTRAINT records_pkey PRIMARY KEY (event_id, shard)`,
    );

    // A Kafka partition is appended to the shard of the same number (LedgerAppendService).
    await q.query(`ALTER TABLE consumed_offsets ADD COLUMN shard integer`);
    await q.query(`UPDATE consumed_offsets SET shard = partition`);
    await q.query(`
      ALTER TABLE consumed_offsets
        ALTER COLUMN shard SET NOT NULL,
        ADD CONSTRAINT consumed_offsets_shard_is_partition CHECK (shard = partition),
        DROP CONSTRAINT consumed_offsets_pkey,
        ADD CONSTRAINT consumed_offsets_pkey PRIMARY KEY (shard, group_id, topic, partition)`);

    // The append quarantines with the batch's partition; a row without one is filed under shard 0.
    await q.query(`ALTER TABLE quarantine ADD COLUMN shard integer`);
    await q.query(`UPDATE quarantine SET shard = coalesce(partition, 0)`);
    await q.query(`
      ALTER TABLE quarantine
        ALTER COLUMN shard SET NOT NULL,
        DROP CONSTRAINT quarantine_pkey,
        ADD CONSTRAINT quarantine_pkey PRIMARY KEY (shard, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE quarantine DROP CONSTRAINT quarantine_pkey, ADD CONSTRAINT quarantine_pkey PRIMARY KEY (id), DROP COLUMN shard`,
    );
    await q.query(`
      ALTER TABLE consumed_offsets
        DROP CONSTRAINT consumed_offsets_pkey,
        ADD CONSTRAINT consumed_offsets_pkey PRIMARY KEY (group_id, topic, partition),
        DROP COLUMN shard`);
    await q.query(
      `ALTER TABLE records DROP CONSTRAINT records_pkey, ADD CONSTRAINT records_pkey PRIMARY KEY (event_id)`,
    );
    await q.query(`DROP TABLE event_ids`);
  }
}
