/**
 * Section 6: figures of features other engineers are building (issue 6: query lookups and
 * incident reconstruction; issue 7: export and offline verification). Each is an optional
 * module compiled with the project; the bench runs it when it exists and says so when not.
 *
 * Contract: the module exports `runBench(ctx: BenchHookContext): Promise<BenchFigure[]>`.
 *   dist/src/query/query-bench.js    (source: src/query/query-bench.ts)   lookups p50/p99 at --records
 *   dist/src/export/export-bench.js  (source: src/export/export-bench.ts) export + verify records/s, peak memory
 * It receives a migrated database holding the pipeline's ledger (records, nodes, signed
 * checkpoints, the signing key's public JWKS) and a helper that bulk-loads more `records`
 * rows of the real shape (for lookups at 1M or 10M rows).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. "p99 < 5 ms". */
  target?: string;
  pass?: boolean;
  note?: string;
}

export interface BenchHookContext {
  /** A migrated database holding the pipeline run's ledger. */
  databaseUrl: string;
  /** --records: how many records the lookups should run against. */
  records: number;
  quick: boolean;
  /** Shards the pipeline wrote (0..n-1) and their sizes. */
  shards: Array<{ shard: number; treeSize: number }>;
  /**
   * Bulk-loads `n` more rows into `records` (real shape, demo traffic, COPY), in shards from
   * 10_000 up so they never collide with the pipeline's; resolves with the rows now in the table.
   */
  seedRecords(n: number): Promise<{ rows: number; seconds: number }>;
  /** A fresh migrated database of its own, dropped after the hooks ran. */
  createDatabase(): Promise<{ url: string }>;
  /** Records to export and verify (--export-records). */
  exportRecords: number;
  /** A scratch directory, removed after the run. */
  tmpDir: string;
  log(message: string): void;
}

export interface HookResult {
  section: string;
  module: string;
  ran: boolean;
  figures: BenchFigure[];
  note?: string;
}

export const HOOKS: Array<{ section: string; module: string }> = [
  { section: 'query: request/trace lookup, 1-hour incident reconstruction (issue 6)', module: '../../src/query/query-bench.js' },
  { section: 'query plans: EXPLAIN ANALYZE of the query paths (bench/query-explain.ts)', module: '../query-explain.js' },
  { section: 'export + offline verification (issue 7)', module: '../../src/export/export-bench.js' },
];

export async function runHooks(ctx: BenchHookContext): Promise<HookResult[]> {
  const out: HookResult[] = [];
  for (const h of HOOKS) {
    const url = new URL(h.module, import.meta.url);
    const shown = fileURLToPath(url).replace(/^.*\/dist\//, 'dist/');
    if (!existsSync(url)) {
      out.push({ section: h.section, module: shown, ran: false, figures: [], note: `skipped: ${shown} does not exist yet (contract in bench/lib/hooks.ts)` });
      continue;
    }
    try {
      const mod = (await import(url.href)) as { runBench?: (c: BenchHookContext) => Promise<BenchFigure[]> } & Partial<ExportBenchModule> & Partial<QueryExplainModule>;
      if (typeof mod.runBench !== 'function' && isQueryExplain(mod)) {
        out.push({ section: h.section, module: shown, ran: true, figures: await queryExplain(mod, ctx) });
        continue;
      }
      if (typeof mod.runBench !== 'function' && isExportBench(mod)) {
        out.push({ section: h.section, module: shown, ran: true, figures: await exportBench(mod, ctx) });
        continue;
      }
      if (typeof mod.runBench !== 'function') {
        out.push({ section: h.section, module: shown, ran: false, figures: [], note: `skipped: ${shown} exports no runBench(ctx)` });
        continue;
      }
      out.push({ section: h.section, module: shown, ran: true, figures: await mod.runBench(ctx) });
    } catch (e) {
      out.push({ section: h.section, module: shown, ran: false, figures: [], note: `failed: ${(e as Error).message}` });
    }
  }
  return out;
}

/**
 * src/export/export-bench.ts (issue 7) exposes seed / measure functions rather than runBench:
 * seed a ledger through LedgerAppendService on a database of its own, export one tenant's
 * bundle in a child process, verify it offline in another (each child's own maxRSS).
 */
interface RateMeasurement {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssBytes: number;
  bundleBytes: number;
  cpuSeconds: number;
}
interface ExportBenchModule {
  seedExportBenchLedger(o: { databaseUrl: string; records: number; onProgress?: (done: number) => void }): Promise<{ query: unknown; signingKeyJwk: string; jwks: unknown; tenantRecordsInRange: number }>;
  measureExport(o: { databaseUrl: string; signingKeyJwk: string; query: never; outFile: string }): Promise<RateMeasurement>;
  measureVerify(o: { file: string; jwks?: never }): Promise<RateMeasurement>;
}

function isExportBench(m: Partial<ExportBenchModule>): m is ExportBenchModule {
  return typeof m.seedExportBenchLedger === 'function' && typeof m.measureExport === 'function' && typeof m.measureVerify === 'function';
}

/**
 * getrusage maxRSS of a child keeps the high-water mark of the process it was forked from
 * across execve on Linux (a parent at 400 MiB: the child reports 404 MiB, its VmHWM 39 MiB).
 */
const RSS_NOTE = 'VmHWM of the child process that did the work (its own high-water mark)';

async function exportBench(mod: ExportBenchModule, ctx: BenchHookContext): Promise<BenchFigure[]> {
  const db = await ctx.createDatabase();
  const t = performance.now();
  ctx.log(`6. export: seeding ${ctx.exportRecords} records through LedgerAppendService…`);
  const seeded = await mod.seedExportBenchLedger({ databaseUrl: db.url, records: ctx.exportRecords });
  const seedS = (performance.now() - t) / 1000;
  const outFile = `${ctx.tmpDir}/bench-bundle.tar`;
  ctx.log('6. export: export, then offline verification…');
  const exp = await mod.measureExport({ databaseUrl: db.url, signingKeyJwk: seeded.signingKeyJwk, query: seeded.query as never, outFile });
  const ver = await mod.measureVerify({ file: outFile, jwks: seeded.jwks as never });
  const mib = (b: number) => b / 1048576;
  return [
    { name: `export, ${exp.records.toLocaleString('en')} records (one tenant)`, value: exp.recordsPerSecond, unit: 'records/s', target: '≥ 50,000', pass: exp.recordsPerSecond >= 50_000, note: `${exp.seconds.toFixed(2)} s, CPU ${exp.cpuSeconds.toFixed(2)} s, bundle ${mib(exp.bundleBytes).toFixed(1)} MiB` },
    { name: 'export: peak RSS of the exporting process', value: mib(exp.peakRssBytes), unit: 'MiB', note: RSS_NOTE },
    { name: `offline verification, ${ver.records.toLocaleString('en')} records`, value: ver.recordsPerSecond, unit: 'records/s', target: '≥ 100,000', pass: ver.recordsPerSecond >= 100_000, note: `${ver.seconds.toFixed(2)} s, CPU ${ver.cpuSeconds.toFixed(2)} s` },
    { name: 'verification: peak RSS of the verifying process', value: mib(ver.peakRssBytes), unit: 'MiB', note: RSS_NOTE },
    { name: 'seeding the export ledger (LedgerAppendService)', value: seedS, unit: 's' },
  ];
}

/**
 * bench/query-explain.ts (issue 6) checks the query paths' plans: one EXPLAIN ANALYZE per
 * query, run here on the pipeline's ledger. Single executions, not p50/p99: the lookup
 * latency figures come with src/query/query-bench.ts.
 */
interface QueryExplainModule {
  explainQueryPaths(pool: pg.Pool): Promise<Array<{ name: string; path: string; mustAvoidSeqScan: boolean; seqScanOnRecords: boolean; indexes: string[]; executionMs: number }>>;
}

function isQueryExplain(m: Partial<QueryExplainModule>): m is QueryExplainModule {
  return typeof m.explainQueryPaths === 'function';
}

async function queryExplain(mod: QueryExplainModule, ctx: BenchHookContext): Promise<BenchFigure[]> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  try {
    const results = await mod.explainQueryPaths(pool);
    // One line per query path: the slowest of its queries, and whether any scans records.
    const paths = [...new Set(results.map((r) => r.path))];
    return paths.map((path) => {
      const rs = results.filter((r) => r.path === path);
      const slowest = rs.reduce((a, b) => (b.executionMs > a.executionMs ? b : a));
      const scans = rs.filter((r) => r.seqScanOnRecords).length;
      const must = rs.some((r) => r.mustAvoidSeqScan);
      return {
        name: `${path}: slowest of ${rs.length} queries`,
        value: slowest.executionMs,
        unit: 'ms',
        pass: must ? scans === 0 : undefined,
        note: `${slowest.name}; ${scans === 0 ? 'no sequential scan of records' : `${scans} scan records sequentially`}${must ? ' (must not)' : ''}; fastest ${Math.min(...rs.map((r) => r.executionMs)).toFixed(2)} ms; one EXPLAIN ANALYZE each`,
      };
    });
  } finally {
    await pool.end();
  }
}
