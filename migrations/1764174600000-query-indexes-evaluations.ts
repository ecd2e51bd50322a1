import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read side: indexes the query, incident and findings paths need (each one
 * justified by an EXPLAIN on 1M rows, see bench/query-explain.ts), and the evaluations
 * registry that evaluation-drift findings compare live traffic against.
 *
 * Evaluations are registrations, append-only like the ledger: a newer evaluation for the
 * same alias and task category supersedes an older one, so the service role gets SELECT and
 * INSERT only.
 */
export class QueryIndexesEvaluations1764174600000 implements MigrationInterface {
  name = 'QueryIndexesEvaluations1764174600000';

  async up(q: QueryRunner): Promise<void> {
    // Time-ordered keyset for callers that span every tenant (admin) and the incident window
    // scan when no tenant narrows it; event_id breaks ties so the cursor is total.
    await q.query(`CREATE INDEX records_time_event_idx ON records (occurred_at, event_id)`);
    // A tenant's pages and windows use the initial (tenant_id, occurred_at) index; ties on
    // occurred_at cost an incremental sort, too small to justify a second (tenant, time) index.
    // Findings and the `signal` filter select rare signals: on 1M rows a 31-day residency scan
    // of one tenant took ~150 ms with it, ~450-600 ms without. Small (~6 MB per 1M rows).
    await q.query(`CREATE INDEX records_signals_idx ON records USING gin (signals)`);
    // Alias history of one tenant: ~350 ms instead of ~900 ms for 30 days on 1M rows.
    await q.query(`CREATE INDEX records_tenant_alias_time_idx ON records (tenant_id, requested_model, occurred_at)`);
    // No gateway index: gateway filters ride the tenant or time index (measured: a gateway index
    // was chosen for a tenant+gateway page and read the whole gateway's history).

    await q.query(`
      CREATE TABLE evaluations (
        id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
        tenant_id             text,
        alias                 text        NOT NULL,
        task_category         text        NOT NULL,
        model_versions        text[]      NOT NULL,
        test_set              text        NOT NULL,
        test_set_sha256       text,
        accuracy_target       numeric     NOT NULL,
        accuracy_result       numeric     NOT NULL,
        escalation_threshold  numeric,
        traffic_share         numeric,
        evaluated_at          timestamptz NOT NULL,
        registered_at         timestamptz NOT NULL DEFAULT now(),
        registered_by         text        NOT NULL,
        CONSTRAINT evaluations_pkey PRIMARY KEY (id),
        CONSTRAINT evaluations_versions_present CHECK (cardinality(model_versions) > 0),
        CONSTRAINT evaluations_accuracy_range CHECK (accuracy_target BETWEEN 0 AND 1 AND accuracy_result BETWEEN 0 AND 1),
        CONSTRAINT evaluations_share_range CHECK (traffic_share IS NULL OR traffic_share BETWEEN 0 AND 1)
      )`);
    await q.query(`COMMENT ON COLUMN evaluations.tenant_id IS 'NULL: the evaluation covers every tenant'`);
    await q.query(
      `COMMENT ON COLUMN evaluations.traffic_share IS 'share of the alias traffic this task category had in the evaluated mix'`,
    );
    await q.query(`CREATE INDEX evaluations_alias_idx ON evaluations (alias, task_category, evaluated_at)`);
    await q.query(`GRANT SELECT, INSERT ON evaluations TO routing_ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE evaluations`);
    await q.query(`DROP INDEX records_tenant_alias_time_idx, records_signals_idx, records_time_event_idx`);
  }
}
