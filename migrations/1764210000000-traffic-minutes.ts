import type { MigrationInterface, QueryRunner } from 'typeorm';
import { summarizeStoredRecords } from '../src/ledger/summary-rebuild.js';
import { LATENCY_BUCKET_COLUMNS } from '../src/ledger/summary-sql.js';

/**
 * Per-minute traffic summaries (src/domain/summary/traffic-summary.ts), written by the append
 * transaction beside the records they count, so they commit exactly once with them. Incident
 * reconstruction reads these instead of the records of its window.
 *
 * Rows are per shard and found by the SHA-256 of their key text (src/ledger/summary-sql.ts says
 * why); the key columns, NULL where a record has no served provider, cost or attempts, are
 * stored for reading.
 *
 * Existing records are summarized here in JavaScript, by the same function the append uses,
 * in chunks of leaf order.
 */
export class TrafficMinutes1764210000000 implements MigrationInterface {
  name = 'TrafficMinutes1764210000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE traffic_minutes (
        shard integer NOT NULL,
        key_sha256 bytea NOT NULL,
        minute timestamptz NOT NULL,
        tenant_id text NOT NULL,
        gateway_id text NOT NULL,
        requested_model text NOT NULL,
        provider text,
        resolved_model text,
        region_served text,
        outcome_status text NOT NULL,
        outcome_error_class text,
        fallback_used text,
        currency text,
        chain jsonb,
        requests bigint NOT NULL,
        affected bigint NOT NULL,
        fallbacks bigint NOT NULL,
        errors bigint NOT NULL,
        cache_hits bigint NOT NULL,
        latency_n bigint NOT NULL,
        latency_sum_ms bigint NOT NULL,
        ${LATENCY_BUCKET_COLUMNS.map((c) => `${c} bigint NOT NULL`).join(',\n        ')},
        cost_n bigint NOT NULL,
        cost_sum numeric NOT NULL,
        first_at timestamptz NOT NULL,
        first_event_id text NOT NULL
      )`);
    await q.query(`ALTER TABLE traffic_minutes ADD CONSTRAINT traffic_minutes_key UNIQUE (shard, key_sha256)`);
    await q.query(`CREATE INDEX traffic_minutes_minute ON traffic_minutes (minute)`);
    await q.query(`CREATE INDEX traffic_minutes_tenant_minute ON traffic_minutes (tenant_id, minute)`);
    await q.query(
      `COMMENT ON TABLE traffic_minutes IS 'per-minute additive traffic summaries, maintained by the append transaction'`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE ON traffic_minutes TO routing_ledger_app`);

    await summarizeStoredRecords((sql, params) => q.query(sql, params));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE traffic_minutes`);
  }
}
