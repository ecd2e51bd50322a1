import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Export jobs: one row per requested audit bundle. Not a ledger table: a job's
 * status and progress change, so the service role may UPDATE it; nothing here is trusted by a
 * bundle's verifier (the bundle proves itself). The bundle file lives in DATA_DIR/exports/.
 */
export class Exports1764180000000 implements MigrationInterface {
  name = 'Exports1764180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE exports (
        id              uuid        NOT NULL,
        tenant_id       text        NOT NULL,
        range_from      timestamptz NOT NULL,
        range_to        timestamptz NOT NULL,
        filters         jsonb       NOT NULL DEFAULT '{}',
        requested_by    text,
        status          text        NOT NULL DEFAULT 'queued',
        records_total   bigint,
        records_done    bigint      NOT NULL DEFAULT 0,
        file_name       text,
        file_size       bigint,
        file_sha256     bytea,
        manifest_counts jsonb,
        error           text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        started_at      timestamptz,
        finished_at     timestamptz,
        heartbeat_at    timestamptz,
        CONSTRAINT exports_pkey PRIMARY KEY (id),
        CONSTRAINT exports_status_check CHECK (status IN ('queued', 'running', 'done', 'failed')),
        CONSTRAINT exports_range_check CHECK (range_from < range_to)
      )`);
    await q.query(`CREATE INDEX exports_status_idx ON exports (status, created_at)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON exports TO routing_ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE exports`);
  }
}
