/**
 * Export and offline verification of audit bundles: rates in records/s and peak memory, at any
 * size (`--export-records`; 100k and 1M are the sizes bench/README.md reports).
 *
 *   const seeded = await seedExportBenchLedger({ databaseUrl, records: 100_000 });
 *   const exp = await measureExport({ databaseUrl, signingKeyJwk: seeded.signingKeyJwk, query: seeded.query, outFile });
 *   const ver = await measureVerify({ file: outFile, jwks: seeded.jwks });
 *
 * Export and verify each run in a fresh `node` child process, so `peakRssBytes` is that
 * process's own high-water mark: VmHWM from /proc/self/status, because getrusage maxRSS of a
 * child inherits the parent's high-water mark across fork+exec (a parent at 400 MiB: the child
 * reports 404 MiB, its VmHWM 39 MiB). Both need the compiled tree (`npm run build`). The
 * database must be migrated.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { loadConfigSections } from '../../src/config/app-config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import type { ExportQuery } from '../../src/domain/bundle/bundle-format.js';
import { exportPrivateJwk, generateSigningKey, type Jwks } from '../../src/domain/checkpoint/signing-key.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import { LedgerCoreModule } from '../../src/ledger/ledger.module.js';
import { SigningKeyService } from '../../src/ledger/signing-key.service.js';
import { MetricsModule } from '../../src/metrics/metrics.module.js';
import type { BenchFigure, BenchHook, BenchHookContext } from '../lib/hooks.js';

const run = promisify(execFile);

export const exportHook: BenchHook = {
  section: 'export + offline verification',
  source: 'bench/hooks/export.ts',
  run: measureExportAndVerify,
};

const RSS_NOTE = 'VmHWM of the child process that did the work (its own high-water mark)';

/**
 * Seeds a ledger through LedgerAppendService on a database of its own, exports one tenant's
 * bundle in a child process and verifies it offline in another (each child's own peak RSS).
 */
async function measureExportAndVerify(ctx: BenchHookContext): Promise<BenchFigure[]> {
  const db = await ctx.createDatabase();
  const t = performance.now();
  ctx.log(`6. export: seeding ${ctx.exportRecords} records through LedgerAppendService…`);
  const seeded = await seedExportBenchLedger({ databaseUrl: db.url, records: ctx.exportRecords });
  const seedS = (performance.now() - t) / 1000;
  const outFile = `${ctx.tmpDir}/bench-bundle.tar`;
  ctx.log('6. export: export, then offline verification…');
  const exp = await measureExport({
    databaseUrl: db.url,
    signingKeyJwk: seeded.signingKeyJwk,
    query: seeded.query,
    outFile,
  });
  const ver = await measureVerify({ file: outFile, jwks: seeded.jwks });
  const mib = (b: number) => b / 1048576;
  return [
    {
      name: `export, ${exp.records.toLocaleString('en')} records (one tenant)`,
      value: exp.recordsPerSecond,
      unit: 'records/s',
      target: '≥ 50,000',
      pass: exp.recordsPerSecond >= 50_000,
      note: `${exp.seconds.toFixed(2)} s, CPU ${exp.cpuSeconds.toFixed(2)} s, bundle ${mib(exp.bundleBytes).toFixed(1)} MiB`,
    },
    { name: 'export: peak RSS of the exporting process', value: mib(exp.peakRssBytes), unit: 'MiB', note: RSS_NOTE },
    {
      name: `offline verification, ${ver.records.toLocaleString('en')} records`,
      value: ver.recordsPerSecond,
      unit: 'records/s',
      target: '≥ 100,000',
      pass: ver.recordsPerSecond >= 100_000,
      note: `${ver.seconds.toFixed(2)} s, CPU ${ver.cpuSeconds.toFixed(2)} s`,
    },
    {
      name: 'verification: peak RSS of the verifying process',
      value: mib(ver.peakRssBytes),
      unit: 'MiB',
      note: RSS_NOTE,
    },
    { name: 'seeding the export ledger (LedgerAppendService)', value: seedS, unit: 's' },
  ];
}

export interface RateMeasurement {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** High-water mark of the measuring process's resident set (VmHWM). */
  peakRssBytes: number;
  /** Bundle size (export) or bytes read (verify). */
  bundleBytes: number;
  /** CPU time (user + system) of the measuring process: steadier than wall time on a busy machine; excludes PostgreSQL's own. */
  cpuSeconds: number;
}

export interface SeededLedger {
  query: ExportQuery;
  /** The ledger's signing key (private JWK as JSON): the export must sign with it. */
  signingKeyJwk: string;
  jwks: Jwks;
  /** Records of the tenant in the query's range (= lines the bundle will have, about). */
  tenantRecordsInRange: number;
}

export const BENCH_TENANT = 'bench-tenant';
const BENCH_TOPIC = 'routing.decisions';
const BENCH_T0 = Date.UTC(2026, 0, 1);

/**
 * Appends `records` records through LedgerAppendService (the ingest core's transaction:
 * Merkle nodes, tenant chains, one signed checkpoint per batch) to a migrated, empty
 * database. `tenantShare` of them belong to BENCH_TENANT (the rest to other tenants), spread
 * over `shards` shards in batches of `batchSize`. The returned query covers all of them.
 */
export async function seedExportBenchLedger(opts: {
  databaseUrl: string;
  records: number;
  shards?: number;
  batchSize?: number;
  tenantShare?: number;
  onProgress?: (done: number) => void;
}): Promise<SeededLedger> {
  const shards = opts.shards ?? 4;
  const batchSize = opts.batchSize ?? 1000;
  const share = opts.tenantShare ?? 1;
  const key = await generateSigningKey();
  const signingKeyJwk = JSON.stringify(await exportPrivateJwk(key));
  const config = loadConfigSections(['runtime', 'database', 'signing'], {
    DATABASE_URL: opts.databaseUrl,
    SIGNING_KEY_JWK: signingKeyJwk,
    NODE_ENV: 'test',
    DATA_DIR: '/tmp/routing-ledger-bench',
  });
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TypeOrmModule.forRoot(dataSourceOptions({ url: config.database.url, poolSize: shards + 1 })),
      MetricsModule,
      LedgerCoreModule,
    ],
  })
  class SeedModule {}
  const app = await NestFactory.createApplicationContext(SeedModule, { logger: ['error'] });
  let tenantRecords = 0;
  try {
    const append = app.get(LedgerAppendService);
    const offsets = new Array<number>(shards).fill(0);
    let done = 0;
    for (let b = 0; done < opts.records; b++) {
      // One batch per shard at a time, in parallel: each shard has its own writer, as in production.
      await Promise.all(
        Array.from({ length: shards }, async (_, shard) => {
          const n = Math.min(batchSize, opts.records - done - shard * batchSize);
          if (n <= 0) return;
          const items = [];
          for (let k = 0; k < n; k++) {
            const i = done + shard * batchSize + k;
            const own = share >= 1 || (i * 7919) % 1000 < share * 1000;
            if (own) tenantRecords++;
            const offset = String(offsets[shard]++);
            items.push({
              kind: 'record' as const,
              offset,
              record: benchRecord(i, own ? BENCH_TENANT : `other-${i % 7}`, shard, offset),
            });
          }
          await append.appendBatch({
            topic: BENCH_TOPIC,
            partition: shard,
            groupId: 'export-bench',
            items,
            nextOffset: String(offsets[shard]),
          });
        }),
      );
      done = Math.min(opts.records, done + shards * batchSize);
      opts.onProgress?.(done);
    }
    const jwks = (await app.get(SigningKeyService).jwks()) as Jwks;
    const query: ExportQuery = {
      tenant: BENCH_TENANT,
      from: new Date(BENCH_T0).toISOString(),
      to: new Date(BENCH_T0 + (opts.records + 1) * 10).toISOString(),
      filters: {},
    };
    return { query, signingKeyJwk, jwks, tenantRecordsInRange: tenantRecords };
  } finally {
    await app.close();
  }
}

/** Exports `query` from the database into `outFile` in a child process; rate and peak memory. */
export async function measureExport(opts: {
  databaseUrl: string;
  signingKeyJwk: string;
  query: ExportQuery;
  outFile: string;
  origin?: string;
}): Promise<RateMeasurement> {
  const module = distModule('src/export/standalone-export.js');
  const script = `
    import { readFileSync } from 'node:fs';
    import { exportFromDatabase } from ${JSON.stringify(module)};
    const peak = () => { try { return Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { return process.resourceUsage().maxRSS * 1024; } };
    const t = performance.now();
    const r = await exportFromDatabase({ query: ${JSON.stringify(opts.query)}, outFile: ${JSON.stringify(opts.outFile)} });
    const ms = performance.now() - t;
    const u = process.resourceUsage();
    process.stdout.write(JSON.stringify({ records: r.manifest.counts.records, ms, maxRss: peak(), bytes: r.size, cpuUs: u.userCPUTime + u.systemCPUTime }));
    process.exit(0);`;
  const env = {
    ...process.env,
    DATABASE_URL: opts.databaseUrl,
    SIGNING_KEY_JWK: opts.signingKeyJwk,
    DB_APP_ROLE: '',
    NODE_ENV: 'test',
    ...(opts.origin ? { LEDGER_ORIGIN: opts.origin } : {}),
  };
  return measured(await run(process.execPath, ['--input-type=module', '-e', script], { env, maxBuffer: 1 << 20 }));
}

/** Verifies `file` offline in a child process (with `jwks` as the trusted keys); rate and peak memory. */
export async function measureVerify(opts: { file: string; jwks?: Jwks }): Promise<RateMeasurement> {
  const module = distModule('src/domain/bundle/verify-bundle.js');
  const script = `
    import { createReadStream, readFileSync, statSync } from 'node:fs';
    const peak = () => { try { return Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { return process.resourceUsage().maxRSS * 1024; } };
    import { verifyBundle, describeProblem } from ${JSON.stringify(module)};
    const t = performance.now();
    const v = await verifyBundle(() => createReadStream(${JSON.stringify(opts.file)}), { trustedJwks: ${JSON.stringify(opts.jwks ?? null)} ?? undefined });
    const ms = performance.now() - t;
    if (!v.ok) { process.stderr.write(describeProblem(v.problem)); process.exit(1); }
    const u = process.resourceUsage();
    process.stdout.write(JSON.stringify({ records: v.counts.records, ms, maxRss: peak(), bytes: statSync(${JSON.stringify(opts.file)}).size, cpuUs: u.userCPUTime + u.systemCPUTime }));
    process.exit(0);`;
  return measured(await run(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 1 << 20 }));
}

function measured(out: { stdout: string }): RateMeasurement {
  const r = JSON.parse(out.stdout) as { records: number; ms: number; maxRss: number; bytes: number; cpuUs: number };
  const seconds = r.ms / 1000;
  return {
    records: r.records,
    seconds,
    recordsPerSecond: r.records / seconds,
    peakRssBytes: r.maxRss,
    bundleBytes: r.bytes,
    cpuSeconds: r.cpuUs / 1e6,
  };
}

function benchRecord(i: number, tenant: string, partition: number, offset: string): CanonicalRecord {
  return {
    schema_version: '1',
    event_id: `bench-${i}`,
    occurred_at: new Date(BENCH_T0 + i * 10).toISOString(),
    received_at: new Date(BENCH_T0 + i * 10 + 5).toISOString(),
    gateway: { id: 'gw-bench', kind: 'native' },
    tenant_id: tenant,
    request_id: `req-${i}`,
    requested_model: 'gpt-smart',
    resolved_model: { value: i % 5 === 0 ? 'claude-sonnet-4' : 'gpt-4.1', asserted_by: 'gateway' },
    provider: i % 5 === 0 ? 'anthropic' : 'openai',
    attempts: {
      completeness: 'full',
      count: 1,
      items: [
        { index: 0, provider: i % 5 === 0 ? 'anthropic' : 'openai', status: 'success', latency_ms: 100 + (i % 900) },
      ],
    },
    fallback_used: false,
    usage: { input_tokens: 100 + (i % 900), output_tokens: 20 + (i % 300) },
    cost: { amount: '0.0042', currency: 'USD', source: 'gateway' },
    outcome: { status: 'success', http_status: 200 },
    source: { format: 'native', raw_sha256: 'a'.repeat(64), topic: BENCH_TOPIC, partition, offset },
  };
}

/** file:// URL of a compiled module (the child processes run plain node on dist/). */
function distModule(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, 'package.json')) &&
      JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'routing-ledger'
    )
      break;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('routing-ledger package root not found');
    dir = parent;
  }
  const path = join(dir, 'dist', relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  return pathToFileURL(path).href;
}
