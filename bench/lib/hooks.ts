/**
 * Section 6: the query paths and export + offline verification, measured on the pipeline's
 * ledger by the hooks listed in HOOKS. A hook that throws fails the bench: its section is
 * reported FAILED and run.ts exits non-zero naming it.
 */
import { exportHook } from '../hooks/export.js';
import { queryHook } from '../hooks/query.js';
import { queryExplainHook } from '../query-explain.js';

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
  /** A migrated database holding the pipeline run's ledger (records, nodes, signed checkpoints). */
  databaseUrl: string;
  /** --records: how many records the lookups should run against. */
  records: number;
  quick: boolean;
  /**
   * How many times each records-only baseline read runs (default: as often as the summary read it
   * is compared with). At 10M records one baseline read takes most of a minute.
   */
  baselineRuns?: number;
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

export interface BenchHook {
  /** What the hook measures (the report's line when it fails). */
  section: string;
  /** The file it lives in, named when it fails. */
  source: string;
  run(ctx: BenchHookContext): Promise<BenchFigure[]>;
}

export interface HookResult {
  section: string;
  source: string;
  figures: BenchFigure[];
  /** Why the hook failed; absent when it ran. */
  error?: string;
}

export const HOOKS: readonly BenchHook[] = [queryHook, queryExplainHook, exportHook];

/** Runs every hook in turn; a failure is recorded and the next hook still runs. */
export async function runHooks(ctx: BenchHookContext, hooks: readonly BenchHook[] = HOOKS): Promise<HookResult[]> {
  const out: HookResult[] = [];
  for (const h of hooks) {
    try {
      out.push({ section: h.section, source: h.source, figures: await h.run(ctx) });
    } catch (e) {
      ctx.log(`6. ${h.source} failed: ${(e as Error).stack ?? String(e)}`);
      out.push({ section: h.section, source: h.source, figures: [], error: (e as Error).message ?? String(e) });
    }
  }
  return out;
}

/** The hooks that failed, as one message naming each (undefined when all ran). */
export function hookFailures(results: readonly HookResult[]): string | undefined {
  const failed = results.filter((r) => r.error !== undefined);
  return failed.length === 0
    ? undefined
    : `bench hook${failed.length > 1 ? 's' : ''} failed: ${failed.map((r) => `${r.source} (${r.error})`).join('; ')}`;
}
