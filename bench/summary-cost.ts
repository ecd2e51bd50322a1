/**
 * What the append's summaries cost per record, measured in isolation (the pipeline's own CPU
 * figures move by more than this on a shared machine): Node CPU of each summary's per-record
 * fact and per-batch roll-up, and PostgreSQL CPU of each summary's upsert, for batches of 1000
 * bench events appended in time order into one shard of a fresh database.
 *
 *   node dist/bench/summary-cost.js [--batches N]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { deriveSignals } from '../src/domain/record/derive-signals.js';
import { summarizeFacts, summaryFactOf } from '../src/domain/summary/traffic-summary.js';
import { findingFactOf, summarizeFindingFacts } from '../src/domain/summary/finding-summary.js';
import { summaryRowsParam, upsertSummariesSql } from '../src/ledger/summary-sql.js';
import { findingRowsParam, upsertFindingSummariesSql } from '../src/ledger/finding-summary-sql.js';
import { costFactOf, summarizeCostFacts } from '../src/domain/summary/cost-summary.js';
import { costRowsParam, upsertCostSummariesSql } from '../src/ledger/cost-summary-sql.js';
import { queryColumns } from '../src/ledger/record-columns.js';
import { createTestDatabase } from '../test/support/test-database.js';
import { benchEvent } from './lib/env.js';
import { processCpuSeconds } from './lib/proc.js';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '100' } } });
const BATCHES = Number(values.batches);
const BATCH = 1000;

function cpuUs(fn: () => void): number {
  const a = process.cpuUsage();
  fn();
  const b = process.cpuUsage(a);
  return b.user + b.system;
}

async function main(): Promise<void> {
  const load = loadavg()[0];
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => benchEvent(b * BATCH + i)),
  );
  const n = BATCHES * BATCH;
  const signals = batches.map((rs) => rs.map((r) => deriveSignals(r)));
  // The append computes the query columns anyway (prepareRecord); the cost fact reads them.
  const columns = batches.map((rs) => rs.map((r) => queryColumns(r)));
  let traffic: ReturnType<typeof summaryFactOf>[][] = [];
  let findings: ReturnType<typeof findingFactOf>[][] = [];
  let costs: ReturnType<typeof costFactOf>[][] = [];
  // Warm up both paths once, then measure.
  for (let round = 0; round < 2; round++) {
    const factTraffic = cpuUs(() => (traffic = batches.map((rs) => rs.map((r) => summaryFactOf(r)))));
    const factFindings = cpuUs(
      () => (findings = batches.map((rs, b) => rs.map((r, i) => findingFactOf(r, signals[b][i])))),
    );
    const factCosts = cpuUs(() => (costs = batches.map((rs, b) => rs.map((r, i) => costFactOf(r, columns[b][i])))));
    let tp: string[] = [];
    let fp: string[] = [];
    let cp: string[] = [];
    const rollTraffic = cpuUs(() => (tp = traffic.map((fs) => summaryRowsParam(summarizeFacts(fs)))));
    const rollFindings = cpuUs(
      () =>
        (fp = findings.map((fs, b) =>
          findingRowsParam(
            summarizeFindingFacts(
              fs.map((fact, i) => ({ fact, occurredAt: traffic[b][i].occurredAt, eventId: traffic[b][i].eventId })),
            ),
          ),
        )),
    );
    const rollCosts = cpuUs(
      () =>
        (cp = costs.map((fs, b) =>
          costRowsParam(
            summarizeCostFacts(
              fs.map((fact, i) => ({ fact, occurredAt: traffic[b][i].occurredAt, eventId: traffic[b][i].eventId })),
            ),
          ),
        )),
    );
    if (round === 0) continue;
    const db = await createTestDatabase('rl_summary_cost', 1);
    try {
      const c = await db.pool.connect();
      try {
        const [{ pid }] = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
        let pgTraffic = 0;
        let pgFindings = 0;
        let pgCosts = 0;
        const tSql = upsertSummariesSql('$1', '$2');
        const fSql = upsertFindingSummariesSql('$1', '$2');
        const cSql = upsertCostSummariesSql('$1', '$2');
        for (let b = 0; b < BATCHES; b++) {
          const s0 = processCpuSeconds(pid)!;
          await c.query({ name: 'traffic', text: tSql, values: [1, tp[b]] });
          const s1 = processCpuSeconds(pid)!;
          await c.query({ name: 'findings', text: fSql, values: [1, fp[b]] });
          const s2 = processCpuSeconds(pid)!;
          await c.query({ name: 'costs', text: cSql, values: [1, cp[b]] });
          const s3 = processCpuSeconds(pid)!;
          pgTraffic += s1 - s0;
          pgFindings += s2 - s1;
          pgCosts += s3 - s2;
        }
        const rows = await c.query<{ t: string; f: string; c: string }>(
          'SELECT (SELECT count(*) FROM traffic_minutes) AS t, (SELECT count(*) FROM finding_hours) AS f, (SELECT count(*) FROM cost_hours) AS c',
        );
        const per = (us: number) => (us / n).toFixed(2);
        process.stdout.write(
          `${n.toLocaleString('en')} records in batches of ${BATCH}; load average ${load.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end\n` +
            `rows stored: traffic_minutes ${rows.rows[0].t}, finding_hours ${rows.rows[0].f}, cost_hours ${rows.rows[0].c}\n` +
            `                         per-record fact   roll-up + param   PostgreSQL upsert   (µs CPU per record)\n` +
            `traffic_minutes          ${per(factTraffic).padStart(15)}   ${per(rollTraffic).padStart(15)}   ${per(pgTraffic * 1e6).padStart(17)}\n` +
            `finding_hours            ${per(factFindings).padStart(15)}   ${per(rollFindings).padStart(15)}   ${per(pgFindings * 1e6).padStart(17)}\n` +
            `cost_hours               ${per(factCosts).padStart(15)}   ${per(rollCosts).padStart(15)}   ${per(pgCosts * 1e6).padStart(17)}\n`,
        );
      } finally {
        c.release();
      }
    } finally {
      await db.drop();
    }
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
