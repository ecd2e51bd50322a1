import type { MigrationInterface, QueryRunner } from 'typeorm';
import { summarizeStoredCosts } from '../src/ledger/summary-rebuild.js';

/**
 * Per-hour cost summaries (src/domain/summary/cost-summary.ts), written by the append
 * transaction beside the records they count, like finding_hours, so they commit exactly once
 * with them. The cost-bias findings and evaluation drift read these for the whole hours of
 * their window instead of the records.
 *
 * Rows are per shard and found by the SHA-256 of their key text (src/ledger/summary-sql.ts says
 * why). Existing records are summarized here in JavaScript, by the function the append uses.
 */
export class CostHours1764330000000 implements MigrationInterface {
  name = 'CostHours1764330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cost_hours (
        shard integer NOT NULL,
        key_sha256 bytea NOT NULL,
        hour timestamptz NOT NULL,
        tenant_id text NOT NULL,
        requested_model text NOT NULL,
        provider text,
        resolved_model text,
        version text,
        currency text,
        objective text,
        category text,
        first_provider text,
        first_model text,
        is_primary boolean NOT NULL,
        cached boolean NOT NULL,
        bad boolean NOT NULL,
        price_driven boolean NOT NULL,
        providers text[] NOT NULL,
        requests bigint NOT NULL,
        amount_sum numeric,
        priced_tokens numeric,
        first_at timestamptz NOT NULL,
        first_event_id text NOT NULL,
        last_at timestamptz NOT NULL,
        last_event_id text NOT NULL,
        samples text[] NOT NULL
      )`);
    await q.query(`ALTER TABLE cost_hours ADD CONSTRAINT cost_hours_key UNIQUE (shard, key_sha256)`);
    await q.query(`CREATE INDEX cost_hours_hour ON cost_hours (hour)`);
    await q.query(`CREATE INDEX cost_hours_tenant_alias_hour ON cost_hours (tenant_id, requested_model, hour)`);
    // Findings across tenants (admin scope) may name the alias but no tenant.
    await q.query(`CREATE INDEX cost_hours_alias_hour ON cost_hours (requested_model, hour)`);
    await q.query(
      `COMMENT ON TABLE cost_hours IS 'per-hour cost summaries (cost bias, evaluation drift), maintained by the append transaction'`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE ON cost_hours TO routing_ledger_app`);

    await summarizeStoredCosts((sql, params) => q.query(sql, params));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cost_hours`);
  }
}
