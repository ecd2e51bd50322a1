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
      const mod = (await import(url.href)) as { runBench?: (c: BenchHookContext) => Promise<BenchFigure[]> };
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
