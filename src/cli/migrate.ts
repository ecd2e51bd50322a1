import 'reflect-metadata';
import { ConfigError, loadConfigSection, type DatabaseConfig } from '../config/app-config.js';
import { runMigrations } from '../database/migrate.js';

/** `npm run migration:run`: migrates the database named by DATABASE_URL. */
let database: DatabaseConfig;
try {
  database = loadConfigSection('database');
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}
runMigrations(database.url).then(
  (applied) => {
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  },
  (e: Error) => {
    process.stderr.write(`migration failed: ${e.message}\n`);
    process.exit(1);
  },
);
