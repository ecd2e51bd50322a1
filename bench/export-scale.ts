/**
 * Export and offline verification at several ledger sizes, for the "flat memory from 100k to
 * 10M" and records/s figures without the rest of the bench:
 *
 *   node dist/bench/export-scale.js 100000 1000000 10000000 [--runs K] [--state-dir DIR]
 *
 * For each size N, a ledger of N records of one tenant (4 shards) is seeded through
 * LedgerAppendService (seedExportBenchLedger), its whole bundle exported in a child process
 * (measureExport) and verified offline in another (measureVerify), K times (default 1). One JSON
 * line per run on stdout: records/s, wall and CPU seconds, each child's peak RSS (VmHWM).
 * With --state-dir the seeded databases are kept and described in DIR/ledger-N.json, and a later
 * run reuses them (a 10M seed takes ~20 minutes and ~20 GB); without it they are dropped.
 * The bundle is written to DIR (or the system's temporary directory) and removed after each run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ExportQuery } from '../src/domain/bundle/bundle-format.js';
import type { Jwks } from '../src/domain/checkpoint/signing-key.js';
import { ADMIN_URL, createTestDatabase, dropDatabase } from '../test/support/test-database.js';
import { measureExport, measureVerify, seedExportBenchLedger } from './hooks/export.js';

interface KeptLedger {
  name: string;
  url: string;
  signingKeyJwk: string;
  query: ExportQuery;
  jwks: Jwks;
}

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

async function ledgerOf(size: number, stateDir: string | undefined): Promise<KeptLedger> {
  const stateFile = stateDir && join(stateDir, `ledger-${size}.json`);
  if (stateFile && existsSync(stateFile)) {
    const kept = JSON.parse(readFileSync(stateFile, 'utf8')) as KeptLedger;
    if (await databaseExists(kept.name)) {
      process.stderr.write(`${size}: reusing database ${kept.name}\n`);
      return kept;
    }
  }
  const db = await createTestDatabase('rl_export_scale');
  await db.pool.end();
  const t = performance.now();
  const seeded = await seedExportBenchLedger({ databaseUrl: db.url, records: size });
  process.stderr.write(`${size}: seeded ${db.name} in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  const kept = { name: db.name, url: db.url, ...seeded };
  if (stateFile) writeFileSync(stateFile, JSON.stringify(kept));
  return kept;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const runs = Number(option('--runs') ?? 1);
  const stateDir = option('--state-dir');
  const sizes = args.map(Number);
  if (sizes.length === 0 || sizes.some((n) => !Number.isSafeInteger(n) || n <= 0) || !(runs >= 1))
    throw new Error('usage: export-scale.js N [N…] [--runs K] [--state-dir DIR]');
  const workDir = stateDir ?? mkdtempSync(join(tmpdir(), 'rl-export-scale-'));
  const mib = (b: number) => Number((b / 1048576).toFixed(1));
  for (const size of sizes) {
    const ledger = await ledgerOf(size, stateDir);
    try {
      for (let run = 1; run <= runs; run++) {
        const outFile = join(workDir, `bundle-${size}.tar`);
        const exp = await measureExport({
          databaseUrl: ledger.url,
          signingKeyJwk: ledger.signingKeyJwk,
          query: ledger.query,
          outFile,
        });
        const ver = await measureVerify({ file: outFile, jwks: ledger.jwks });
        rmSync(outFile, { force: true });
        if (exp.records !== ver.records) throw new Error(`exported ${exp.records} records, verified ${ver.records}`);
        process.stdout.write(
          `${JSON.stringify({
            size,
            run,
            records: exp.records,
            bundleMiB: mib(exp.bundleBytes),
            export: {
              recordsPerSecond: Math.round(exp.recordsPerSecond),
              seconds: Number(exp.seconds.toFixed(2)),
              cpuSeconds: Number(exp.cpuSeconds.toFixed(2)),
              peakRssMiB: mib(exp.peakRssBytes),
            },
            verify: {
              recordsPerSecond: Math.round(ver.recordsPerSecond),
              seconds: Number(ver.seconds.toFixed(2)),
              cpuSeconds: Number(ver.cpuSeconds.toFixed(2)),
              peakRssMiB: mib(ver.peakRssBytes),
            },
          })}\n`,
        );
      }
    } finally {
      if (!stateDir) await dropDatabase(ledger.name);
    }
  }
  if (!stateDir) rmSync(workDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
