import type { MigrationInterface, QueryRunner } from 'typeorm';
import { summarizeStoredFindings } from '../src/ledger/summary-rebuild.js';
import { FLAGGED_ROWS } from '../src/ledger/finding-summary-sql.js';

/**
 * Per-hour finding summaries (src/domain/summary/finding-summary.ts), written by the append
 * transaction beside the records they count, like traffic_minutes, so they commit exactly once
 * with them. Alias history and the signal and coverage findings read these for the whole hours
 * of their window instead of the records.
 *
 * Rows are per shard and found by the SHA-256 of their key text (src/ledger/summary-sql.ts says
 * why). Existing records are summarized here in JavaScript, by the function the append uses.
 */
export class FindingHours1764320000000 implements MigrationInterface {
  name = 'FindingHours1764320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE finding_hours (
        shard integer NOT NULL,
        key_sha256 bytea NOT NULL,
        hour timestamptz NOT NULL,
        tenant_id text NOT NULL,
        gateway_id text NOT NULL,
        gateway_kind text NOT NULL,
        requested_model text NOT NULL,
        provider text,
        resolved_model text,
        version text,
        fallback_used text,
        load_balanced boolean,
        signals text[] NOT NULL,
        first_provider text,
        first_model text,
        notice text,
        region_served text,
        region_required jsonb,
        bypassed_checks jsonb,
        requests bigint NOT NULL,
        first_at timestamptz NOT NULL,
        first_event_id text NOT NULL,
        last_at timestamptz NOT NULL,
        last_event_id text NOT NULL,
        samples text[] NOT NULL
      )`);
    await q.query(`ALTER TABLE finding_hours ADD CONSTRAINT finding_hours_key UNIQUE (shard, key_sha256)`);
    await q.query(`CREATE INDEX finding_hours_hour ON finding_hours (hour)`);
    await q.query(`CREATE INDEX finding_hours_tenant_alias_hour ON finding_hours (tenant_id, requested_model, hour)`);
    // Alias history across tenants (admin scope) names the alias but no tenant.
    await q.query(`CREATE INDEX finding_hours_alias_hour ON finding_hours (requested_model, hour)`);
    // The signal findings read flagged rows only: few, where ordinary traffic is most rows.
    await q.query(`CREATE INDEX finding_hours_flagged ON finding_hours (tenant_id, hour) WHERE ${FLAGGED_ROWS}`);
    await q.query(
      `COMMENT ON TABLE finding_hours IS 'per-hour finding summaries (alias targets, signals, coverage), maintained by the append transaction'`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE ON finding_hours TO routing_ledger_app`);

    await summarizeStoredFindings((sql, params) => q.query(sql, params));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE finding_hours`);
  }
}
