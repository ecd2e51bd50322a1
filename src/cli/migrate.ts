import 'reflect-metadata';
import { runMigrations } from '../database/migrate.js';

/** `npm run migration:run`: migrates the database named by DATABASE_URL. */
const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('configuration error: DATABASE_URL is required\n');
  process.exit(2);
}
runMigrations(url).then(
  (applied) => {
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  },
  (e: Error) => {
    process.stderr.write(`migration failed: ${e.message}\n`);
    process.exit(1);
  },
);
