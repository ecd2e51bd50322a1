import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { GatewayRow } from './gateway-policy.js';

export interface GatewayUpsert {
  id: string;
  kind: string;
  displayName: string | null;
  attestationRequired: boolean;
  publicKeys: { keys: object[] };
  defaultTenant: string | null;
}

const COLUMNS = 'id, kind, display_name, attestation_required, public_keys, default_tenant, created_at';

/** SQL of the `gateways` table (mutable registry, not a ledger table: the app role may UPDATE it). */
@Injectable()
export class GatewayRepository {
  constructor(private readonly db: DataSource) {}

  async all(): Promise<GatewayRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM gateways ORDER BY id`);
  }

  /** Registers or re-registers (keys rotated, policy changed) in one statement; `created` tells which. */
  async upsert(g: GatewayUpsert): Promise<{ row: GatewayRow; created: boolean }> {
    const rows: Array<GatewayRow & { created: boolean }> = await this.db.query(
      `INSERT INTO gateways (id, kind, display_name, attestation_required, public_keys, default_tenant)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT ON CONSTRAINT gateways_pkey DO UPDATE
         SET kind = EXCLUDED.kind, display_name = EXCLUDED.display_name,
             attestation_required = EXCLUDED.attestation_required, public_keys = EXCLUDED.public_keys,
             default_tenant = EXCLUDED.default_tenant
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [g.id, g.kind, g.displayName, g.attestationRequired, JSON.stringify(g.publicKeys), g.defaultTenant],
    );
    const { created, ...row } = rows[0];
    return { row, created };
  }
}
