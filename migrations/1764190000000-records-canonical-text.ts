import type { MigrationInterface, QueryRunner } from 'typeorm';
import { canonicalJson } from '../src/domain/canonical/canonical-json.js';

/**
 * `records.record` becomes text holding the record's RFC 8785 canonical JSON: the exact bytes
 * its Merkle leaf embeds (docs/ledger-format.md), stored once. jsonb made PostgreSQL parse and
 * re-encode every record on the append path (about 40 µs of its CPU per row, measured with
 * COPY) for a form no hash covers; text costs a memcpy, and lz4 compresses what is toasted.
 *
 * Queries that read inside records use the view `records_json`, which presents the same rows
 * with `record` as jsonb (parsed when read).
 *
 * Existing rows are converted exactly, not with `record::text` (jsonb's text form orders keys
 * by length and adds spaces): each record is read as a value, canonicalized in JavaScript with
 * the ledger's own canonicalJson, and written back in leaf order, in chunks. The append-only
 * trigger is disabled for this transaction only.
 */
export class RecordsCanonicalText1764190000000 implements MigrationInterface {
  name = 'RecordsCanonicalText1764190000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE records ADD COLUMN record_text text`);
    await q.query(`ALTER TABLE records DISABLE TRIGGER records_append_only`);
    const chunk = 5000;
    for (let after: string | null = null; ;) {
      const rows: Array<{ event_id: string; record: unknown }> = await q.query(
        `SELECT event_id, record FROM records WHERE record_text IS NULL ${after === null ? '' : 'AND event_id > $2'} ORDER BY event_id LIMIT $1`,
        after === null ? [chunk] : [chunk, after],
      );
      if (rows.length === 0) break;
      await q.query(
        `UPDATE records r SET record_text = u.t FROM unnest($1::text[], $2::text[]) AS u(id, t) WHERE r.event_id = u.id`,
        [rows.map((r) => r.event_id), rows.map((r) => canonicalJson(r.record))],
      );
      after = rows[rows.length - 1].event_id;
    }
    await q.query(`ALTER TABLE records ENABLE TRIGGER records_append_only`);
    await q.query(`ALTER TABLE records DROP COLUMN record`);
    await q.query(`ALTER TABLE records RENAME COLUMN record_text TO record`);
    await q.query(`ALTER TABLE records ALTER COLUMN record SET NOT NULL`);
    await q.query(`ALTER TABLE records ALTER COLUMN record SET COMPRESSION lz4`);
    await q.query(`CREATE VIEW records_json AS SELECT ${RECORD_COLUMNS}, record::jsonb AS record FROM records`);
    await q.query(
      `COMMENT ON VIEW records_json IS 'records with record parsed as jsonb, for queries that read inside records'`,
    );
    await q.query(`GRANT SELECT ON records_json TO routing_ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW records_json`);
    await q.query(`ALTER TABLE records DISABLE TRIGGER records_append_only`);
    await q.query(`ALTER TABLE records ALTER COLUMN record TYPE jsonb USING record::jsonb`);
    await q.query(`ALTER TABLE records ENABLE TRIGGER records_append_only`);
  }
}

/** Every records column but `record`, as the view lists them. */
const RECORD_COLUMNS = `event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, content_sha256, occurred_at, received_at,
  request_id, trace_id, gateway_id, requested_model, resolved_model, provider, region_served, fallback_used, cache_status, outcome_status,
  signals, kafka_topic, kafka_partition, kafka_offset`;
