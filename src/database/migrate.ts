import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

/** Applies pending migrations to the database at `url` as its owner. Returns the names applied. */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = new DataSource({
    ...dataSourceOptions({ url, poolSize: 1 }),
    applicationName: 'routing-ledger-migrate',
  } as never);
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}
