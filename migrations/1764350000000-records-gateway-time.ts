import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The decision list filtered on a gateway walks a time index (all tenants) or each tenant's
 * records by time (named tenants) and checks the gateway on every row it reads: a gateway with
 * few or no records in the scope made that walk read the whole history (a sequential scan at 50k
 * records, 24.9 s for twelve tenants and an absent gateway at 10M). Walking (gateway_id,
 * occurred_at) instead stops after a page, or at once when the gateway has no records.
 * Gateways are few and every incident question can start from one, which is why this filter,
 * unlike region or outcome, gets an index of its own (bench/query-explain.ts checks the plans).
 */
export class RecordsGatewayTime1764350000000 implements MigrationInterface {
  name = 'RecordsGatewayTime1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX records_gateway_time_idx ON records (gateway_id, occurred_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX records_gateway_time_idx');
  }
}
