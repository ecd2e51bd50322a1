import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A registered gateway may name the tenant its events belong to when they name none (a
 * single-tenant LiteLLM proxy, an OTel SDK): tenant resolution tries it after the event, the
 * x-routing-tenant header and the ingest token, before the ledger-wide DEFAULT_TENANT.
 */
export class GatewayDefaultTenant1764250000000 implements MigrationInterface {
  name = 'GatewayDefaultTenant1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE gateways ADD COLUMN default_tenant text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE gateways DROP COLUMN default_tenant`);
  }
}
