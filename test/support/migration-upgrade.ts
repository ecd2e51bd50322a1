import pg from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { adminQuery, databaseUrl, dropDatabase, uniqueDatabaseName } from './test-database.js';
import { validEvent } from './workload.js';

/**
 * A fresh database migrated up to (not including) `migration`, for tests of what a migration does
 * to existing rows: `seed` writes them in the old schema, then every remaining migration runs
 * (or, with `stopAfter`, only up to and including `migration`: for seeds that later migrations
 * need not accept, such as rows no ingest could have written).
 * Returns a pool on the upgraded database and a function that drops it.
 */
export async function upgradedDatabase(
  migration: (typeof MIGRATIONS)[number],
  seed: (before: DataSource) => Promise<void>,
  opts: { stopAfter?: boolean } = {},
): Promise<{ pool: pg.Pool; drop: () => Promise<void> }> {
  const name = uniqueDatabaseName('rl_upgrade');
  const url = databaseUrl(name);
  await adminQuery(`CREATE DATABASE ${name}`);
  const before = new DataSource({
    ...dataSourceOptions({ url, poolSize: 1 }),
    migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(migration)),
  } as never);
  await before.initialize();
  await before.runMigrations({ transaction: 'each' });
  await seed(before);
  await before.destroy();
  const upTo = opts.stopAfter ? MIGRATIONS.slice(0, MIGRATIONS.indexOf(migration) + 1) : MIGRATIONS;
  const after = new DataSource({ ...dataSourceOptions({ url, poolSize: 1 }), migrations: upTo } as never);
  await after.initialize();
  await after.runMigrations({ transaction: 'each' });
  await after.destroy();
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    pool,
    drop: async () => {
      await pool.end();
      await dropDatabase(name);
    },
  };
}

/**
 * Stores validEvent(0 … n-1) in the records table of a database `before` an upgrade, as rows
 * written in its schema: over three shards, leaf_hash sha256(event id), content_sha256
 * sha256(contentPrefix || event id) (a prefix makes the two hashes differ).
 */
export async function storeRecordsBefore(before: DataSource, n: number, contentPrefix = ''): Promise<void> {
  const records = Array.from({ length: n }, (_, i) => validEvent(i));
  await before.query(
    `INSERT INTO records (event_id, shard, leaf_index, tenant_id, tenant_seq, leaf_hash, content_sha256, occurred_at, received_at, request_id, gateway_id, requested_model, outcome_status, record)
     SELECT id, i % 3, i / 3, t, i, sha256(id::bytea), sha256(($5::text || id)::bytea), at, at, 'req', 'gw', 'alias', 'success', rec
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS u(id, t, at, rec, i)`,
    [
      records.map((r) => r.event_id),
      records.map((r) => r.tenant_id),
      records.map((r) => r.occurred_at),
      records.map((r) => JSON.stringify(r)),
      contentPrefix,
    ],
  );
}
