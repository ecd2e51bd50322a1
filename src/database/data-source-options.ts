import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

/**
 * One definition of the database connection, used by the service, the CLIs and the tests.
 * The schema comes only from migrations: `synchronize` stays off.
 *
 * `appRole`: the service SETs this role at connection start-up, so it can insert into the
 * ledger tables but never update or delete them (the migration grants nothing more). The
 * migration runner connects without it, as the owner.
 */
export function dataSourceOptions(opts: {
  url: string;
  poolSize?: number;
  appRole?: string;
  applicationName?: string;
}): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    entities: [],
    logging: ['error'],
    applicationName: opts.applicationName ?? 'routing-ledger',
    extra: {
      max: opts.poolSize ?? 6,
      connectionTimeoutMillis: 5000,
      ...(opts.appRole ? { options: `-c role=${opts.appRole}` } : {}),
    },
  };
}
