import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PgExportSource } from './pg-export-source.js';

/**
 * The export's ledger reads (pg-export-source.ts) over the service's TypeORM DataSource: its
 * queries, and its pg pool for the chain reads' COPY.
 */
@Injectable()
export class ExportSourceRepository extends PgExportSource {
  constructor(db: DataSource) {
    super({
      query: (sql, params) => db.query(sql, params),
      // TypeORM's PostgresDriver keeps its pg pool as `master` (read once connected).
      connect: () => (db.driver as unknown as { master: Pool }).master.connect(),
    });
  }
}
