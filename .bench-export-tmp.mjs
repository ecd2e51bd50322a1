import pg from 'pg';
import { runMigrations } from '/work/main/dist/src/database/migrate.js';
import { seedExportBenchLedger, measureExport, measureVerify } from '/work/main/dist/src/export/export-bench.js';
const N = Number(process.argv[2] ?? 100000);
const name = `rl_bench_export_${Date.now()}`;
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect(); await admin.query(`CREATE DATABASE ${name}`); await admin.end();
const url = `postgres://postgres@127.0.0.1:5432/${name}`;
try {
  await runMigrations(url);
  let t = Date.now();
  const seeded = await seedExportBenchLedger({ databaseUrl: url, records: N });
  console.log(`seeded ${N} in ${(Date.now() - t) / 1000}s`);
  const out = `/tmp/${name}.tar.gz`;
  const e = await measureExport({ databaseUrl: url, signingKeyJwk: seeded.signingKeyJwk, query: seeded.query, outFile: out });
  console.log('export', e);
  const v = await measureVerify({ file: out, jwks: seeded.jwks });
  console.log('verify', v);
} finally {
  const a = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await a.connect(); await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); await a.end();
}
