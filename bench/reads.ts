/**
 * `npm run bench:reads` (node dist/bench/reads.js): the read side alone, at scale — the
 * section-6 hooks of `npm run bench` (lookups, decision pages, incidents, query plans, export and
 * offline verification) on a fresh database seeded with --records records of demo traffic (COPY,
 * with their summaries), without the ingest phases. For the 10M-record figures, where the full
 * bench would spend most of its time ingesting.
 *
 *   node dist/bench/reads.js [--records N] [--span-days D] [--export-records N] [--out PATH] [--keep] [--quick]
 *                            [--reuse DATABASE] [--baseline-runs N]
 *
 * --span-days: the seeded records' occurred_at spread evenly over D days. Default: 10M records
 * over 30 days, i.e. D = 30 × N / 10M (one record every 259 ms, ~14k an hour, as one busy
 * gateway fleet), so the 1-hour and 24-hour windows and the 30-day findings read the density
 * they would in production rather than all of N packed into a few hours.
 *
 * --keep leaves the seeded database in place (its name is logged); --reuse DATABASE measures on
 * such a database again, migrated to the current schema and topped up to --records, without
 * seeding it anew: a 10M seed takes most of an hour, the reads a few minutes. The database must
 * have been seeded with the same --span-days (the seed's density is not recorded in it).
 * --baseline-runs N: each findings read from records alone (the baseline the summaries are
 * compared with) runs N times instead of as often as the summary read; at 10M one takes ~1 min.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestDatabase, openTestDatabase } from '../test/support/test-database.js';
import { hookFailures, runHooks } from './lib/hooks.js';
import { hookLines } from './lib/report.js';
import { seedRecords } from './lib/seed.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string' },
    'span-days': { type: 'string' },
    'export-records': { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    'baseline-runs': { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const int = (v: string | undefined, d: number): number => {
  if (v === undefined) return d;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};
const quick = args.quick === true;
const records = int(args.records, quick ? 50_000 : 1_000_000);
/** The default density: 10M records in 30 days. */
const DEFAULT_SPACING_MS = (30 * 86_400_000) / 10_000_000;
const spanDays =
  args['span-days'] === undefined ? (records * DEFAULT_SPACING_MS) / 86_400_000 : Number(args['span-days']);
if (!(spanDays > 0)) throw new Error(`--span-days must be positive: ${args['span-days']}`);
const spacingMs = (spanDays * 86_400_000) / records;
const exportRecords = int(args['export-records'], quick ? 2_000 : 100_000);
const OUT = args.out ?? join(fileURLToPath(new URL('../../', import.meta.url)), 'bench', 'results-reads.json');
/** Same seq range as the full bench's section 6, so both seed the same events. */
const SEED_SEQ = 100_000_000;

const log = (m: string) => process.stderr.write(`[bench:reads ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  const loadStart = loadavg();
  const db = args.reuse ? await openTestDatabase(args.reuse, 4) : await createTestDatabase('rl_bench_reads', 4);
  const cleanups: Array<() => Promise<unknown>> = [];
  if (args.reuse) cleanups.push(() => db.pool.end());
  else if (!args.keep) cleanups.push(() => db.drop());
  else log(`keeping database ${db.name}`);
  const tmp = mkdtempSync(join(tmpdir(), 'rl-bench-reads-'));
  cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));
  try {
    const [{ have }] = args.reuse
      ? await db.query<{ have: string }>('SELECT count(*) AS have FROM records')
      : [{ have: '0' }];
    const missing = records - Number(have);
    if (args.reuse) log(`reusing database ${db.name}: ${Number(have).toLocaleString('en')} records`);
    let seeded: Awaited<ReturnType<typeof seedRecords>> = { rows: 0, seconds: 0 };
    if (missing > 0) {
      log(
        `seeding ${missing.toLocaleString('en')} records over ${spanDays.toFixed(2)} days (one every ${spacingMs.toFixed(1)} ms)…`,
      );
      seeded = await seedRecords(db, missing, SEED_SEQ, { spacingMs, log });
      log(
        `   ${seeded.rows.toLocaleString('en')} rows in ${seeded.seconds.toFixed(0)} s (${(seeded.rows / seeded.seconds).toFixed(0)} records/s${seeded.indexSeconds ? `, of which ${seeded.indexSeconds.toFixed(0)} s rebuilding indexes` : ''})`,
      );
    }
    const hooks = await runHooks({
      databaseUrl: db.url,
      records,
      quick,
      baselineRuns: args['baseline-runs'] === undefined ? undefined : int(args['baseline-runs'], 1),
      shards: [],
      seedRecords: (n) => seedRecords(db, n, SEED_SEQ, { spacingMs, log }),
      createDatabase: async () => {
        const extra = await createTestDatabase('rl_bench_reads_hook');
        cleanups.push(() => extra.drop());
        return { url: extra.url };
      },
      exportRecords,
      tmpDir: tmp,
      log,
    });
    const [{ size }] = await db.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
    const report = {
      generatedAt: new Date().toISOString(),
      durationS: (Date.now() - started) / 1000,
      machine: { loadavgStart: loadStart, loadavgEnd: loadavg(), cpus: cpus().length, memGiB: totalmem() / 2 ** 30 },
      options: { records, spanDays, spacingMs, exportRecords, quick, reused: args.reuse ?? null },
      seeding: { ...seeded, databaseBytes: Number(size) },
      hooks,
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(
      [
        `routing-ledger read bench — ${report.generatedAt}, ${report.durationS.toFixed(0)} s`,
        `load average (1 min) at start ${loadStart[0].toFixed(2)}, at end ${loadavg()[0].toFixed(2)}; ${records.toLocaleString('en')} records over ${spanDays.toFixed(1)} days (${args.reuse ? `database reused, ${Math.max(0, missing).toLocaleString('en')} added` : 'seeded'} in ${seeded.seconds.toFixed(0)} s); database ${(Number(size) / 2 ** 30).toFixed(1)} GiB`,
        ...hookLines(hooks),
        `results: ${OUT}`,
      ].join('\n') + '\n',
    );
    const failed = hookFailures(hooks);
    if (failed) throw new Error(failed);
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e: Error) => log(`cleanup: ${e.message}`));
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    log(`failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
