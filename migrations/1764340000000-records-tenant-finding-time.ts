import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The signals of findings: rare, and absent from most tenants (see the class comment). */
const FINDING_SIGNALS = ['silent_substitution', 'residency_violation', 'policy_bypass'] as const;

/**
 * The decision list of named tenants walks each tenant's records newest first and stops after a
 * page. Filtered on a finding signal, that walk finds nothing in most tenants (a tenant without a
 * residency requirement never has a residency violation) and so reads the tenant's whole history,
 * while the GIN index on signals reads every match, unordered. One partial (tenant_id,
 * occurred_at) index per finding signal holds only the records that carry it, newest first: the
 * walk stops after a page, or at once in a tenant that has none. An insert of a record without
 * the signal (most records) evaluates the predicate and writes nothing here.
 *
 * The decisions repository repeats each predicate word for word so the planner can use them.
 */
export class RecordsTenantFindingTime1764340000000 implements MigrationInterface {
  name = 'RecordsTenantFindingTime1764340000000';

  async up(q: QueryRunner): Promise<void> {
    for (const signal of FINDING_SIGNALS)
      await q.query(
        `CREATE INDEX records_tenant_${signal}_time_idx ON records (tenant_id, occurred_at) WHERE signals @> ARRAY['${signal}']::text[]`,
      );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const signal of FINDING_SIGNALS) await q.query(`DROP INDEX records_tenant_${signal}_time_idx`);
  }
}
