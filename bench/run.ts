/**
 * `npm run bench` (node dist/bench/run.js): the ingest pipeline against its raw ceiling and a
 * naive baseline, measured side by side in one run on this machine, plus the ledger's append
 * and proof costs. Starts its own dev broker and a fresh database; prints a table and writes
 * bench/results.json. What each figure means: bench/README.md.
 *
 *   node dist/bench/run.js [--events N] [--records N] [--naive-events N] [--quick]
 *                          [--partitions P] [--batch B] [--latency-seconds S]
 *                          [--export-records N] [--out PATH] [--no-profile] [--keep]
 *   node dist/bench/run.js --instances N | --compare-instances N [--rounds R] [--events N] [--partitions P]
 *
 * `--instances N` runs only the real pipeline's throughput with N service processes in one
 * consumer group; `--compare-instances N` runs it with 1 and with N (R times each, alternating)
 * and prints N ÷ 1 ratios (bench/README.md, "Several instances").
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Message } from 'kafkajs';
import { startDevKafka, type DevKafka } from '../tools/dev-kafka/dev-kafka.js';
import { consumeAndCopy, consumeNoWork, copyBatches, createRecordsLikeTable, type CopyRun } from './lib/ceiling.js';
import type { ConsumeRun } from './lib/consumers.js';
import pg from 'pg';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../test/support/test-database.js';
import { instancesTable, runInstances, type InstancesRun } from './lib/instances.js';
import { serviceEnv } from '../test/support/service-env.js';
import { benchEvent, quantile, WIRE_HEADERS, wireOf } from './lib/env.js';
import { hookFailures, runHooks, type HookResult } from './lib/hooks.js';
import {
  GZIP_BYTES_PER_EVENT_BUDGET,
  kafkaClient,
  PARTITION_BUDGET_BYTES,
  preload,
  produceAtRate,
  topicOffsets,
  type PreloadResult,
} from './lib/kafka.js';
import { appendCost, proofRates, seedShard, type AppendCost, type RateFigure } from './lib/ledger.js';
import { naiveBaseline } from './lib/naive.js';
import { cpuDelta, cpuSnapshot, PostgresBackends, watchPostgresBackends, type CpuSnapshot } from './lib/proc.js';
import { summarizeProfile, type ProfileSummary } from './lib/profile.js';
import { recordCopyTuple } from './lib/rows.js';
import { seedRecords } from './lib/seed.js';
import { scrapeMetrics, ServiceChild, waitConsumed } from './lib/service.js';
import { stageBreakdown, type StageFigure } from './lib/stages.js';
import { printReport, type LatencyPhase, type Report } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string' },
    records: { type: 'string' },
    'naive-events': { type: 'string' },
    partitions: { type: 'string' },
    batch: { type: 'string' },
    'latency-seconds': { type: 'string' },
    'export-records': { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'decode-threads': { type: 'string' },
    instances: { type: 'string' },
    'compare-instances': { type: 'string' },
    rounds: { type: 'string' },
  },
});

const quick = args.quick === true;
const int = (v: string | undefined, d: number): number => {
  if (v === undefined) return d;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};
const OPT = {
  events: int(args.events, quick ? 5_000 : 100_000),
  records: int(args.records, quick ? 50_000 : 1_000_000),
  naiveEvents: int(args['naive-events'], quick ? 500 : 10_000),
  batch: int(args.batch, 1000),
  latencySeconds: int(args['latency-seconds'], quick ? 2 : 10),
  stageEvents: quick ? 500 : 5000,
  exportRecords: int(args['export-records'], quick ? 2_000 : 100_000),
  appendBatches: quick ? 3 : 20,
  proofSeconds: quick ? 1 : 3,
  smallTree: 10_000,
  profile: args['no-profile'] !== true,
  /** Partitions consumed concurrently by the service (its default) = COPY connections of the ceiling. */
  concurrency: 2,
};
OPT.naiveEvents = Math.min(OPT.naiveEvents, OPT.events);
// Enough partitions that the gzip'd backlog stays under the broker's 5 MiB per partition.
const PARTITIONS = int(
  args.partitions,
  Math.max(8, Math.ceil((OPT.events * GZIP_BYTES_PER_EVENT_BUDGET) / PARTITION_BUDGET_BYTES)),
);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The instance counts of `--instances N` ([N]) or `--compare-instances N` ([1, N]); undefined for the full bench. */
const INSTANCE_COUNTS =
  args['compare-instances'] !== undefined
    ? [1, int(args['compare-instances'], 3)]
    : args.instances !== undefined
      ? [int(args.instances, 1)]
      : undefined;
const OUT = args.out ?? join(REPO_ROOT, 'bench', INSTANCE_COUNTS ? join('.out', 'instances.json') : 'results.json');

const TOPIC = 'bench.events';
const NAIVE_TOPIC = 'bench.naive';
const PIPELINE_GROUP = 'bench-pipeline';
const LATENCY_TICK_MS = 100;
/** Seq ranges: the throughput events, then each later phase far from the others (event_id is demo-<gw>-<seq>). */
const SEQ = { latencyFull: 20_000_000, latencyHalf: 30_000_000, stages: 50_000_000, hookRecords: 100_000_000 };
const STAGE_SHARD = 900;
const SMALL_SHARD = 1000;
const BIG_SHARD = 1001;

const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const cleanups: Array<() => Promise<unknown>> = [];

async function main(): Promise<void> {
  if (INSTANCE_COUNTS) return instancesMain(INSTANCE_COUNTS);
  const started = Date.now();
  mkdirSync(dirname(OUT), { recursive: true });
  log(
    `events ${OPT.events}, naive ${OPT.naiveEvents}, records (ledger) ${OPT.records}, partitions ${PARTITIONS}, batch ${OPT.batch}${quick ? ', quick' : ''}`,
  );

  const dk: DevKafka = await startDevKafka({
    topics: [
      { name: TOPIC, partitions: PARTITIONS },
      { name: NAIVE_TOPIC, partitions: PARTITIONS },
      { name: 'bench.dlq', partitions: 1 },
      { name: 'bench.checkpoints', partitions: 1 },
    ],
  });
  cleanups.push(() => dk.stop());
  const kafka = kafkaClient(dk.brokers, 'bench');
  const db: TestDatabase = await createTestDatabase('rl_bench', 6);
  if (!args.keep) cleanups.push(() => db.drop());
  else log(`keeping database ${db.name}`);
  const watch = { broker: dk.pid };
  const backends = new PostgresBackends(async () =>
    (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db.name])).map(
      (r) => r.pid,
    ),
  );
  await backends.start();
  watchPostgresBackends(backends);
  cleanups.unshift(async () => backends.stop());
  const loadStart = loadavg();

  // ---- the events, and the rows the ledger would store for them (for the COPY ceiling)
  log('generating events…');
  const wires: Buffer[] = new Array(OPT.events);
  const rows: Buffer[] = new Array(OPT.events);
  for (let i = 0; i < OPT.events; i++) {
    const e = benchEvent(i);
    wires[i] = wireOf(e);
    rows[i] = recordCopyTuple(e, wires[i], {
      shard: i % PARTITIONS,
      leaf: i,
      topic: TOPIC,
      offset: Math.floor(i / PARTITIONS),
    });
  }
  const wireBytes = wires.reduce((a, w) => a + w.length, 0);
  const message = (i: number): Message => ({ key: String(i), value: wires[i], headers: { ...WIRE_HEADERS } });

  log(`preloading ${OPT.events} events into ${TOPIC} (${PARTITIONS} partitions, sets of ${OPT.batch}, gzip)…`);
  const pre: PreloadResult = await preload(kafka, TOPIC, PARTITIONS, OPT.events, OPT.batch, message, { gzip: true });
  const preNaive: PreloadResult = await preload(kafka, NAIVE_TOPIC, PARTITIONS, OPT.naiveEvents, OPT.batch, message, {
    gzip: true,
  });
  const trimmedAtPreload = pre.trimmed.reduce((a, o) => a + o.low, 0) + preNaive.trimmed.reduce((a, o) => a + o.low, 0);
  if (trimmedAtPreload > 0)
    log(
      `WARNING: the broker trimmed ${trimmedAtPreload} messages before consumption (5 MiB per partition): use more --partitions or fewer --events`,
    );
  const available = OPT.events - pre.trimmed.reduce((a, o) => a + o.low, 0);

  // ---- 1. raw ceiling
  log('1. raw ceiling: kafkajs consume, no work…');
  const consume: ConsumeRun = await consumeNoWork(kafka, TOPIC, available, OPT.concurrency, watch);
  log(`   ${fmt(consume.eventsPerS)} events/s`);
  await db.query('CHECKPOINT');
  await createRecordsLikeTable(db.pool, 'bench_ceiling_copy');
  await createRecordsLikeTable(db.pool, 'bench_ceiling_together');
  const copyChunks: Array<{ rows: number; body: Buffer }> = [];
  for (let i = 0; i < OPT.events; i += OPT.batch)
    copyChunks.push({ rows: Math.min(OPT.batch, OPT.events - i), body: Buffer.concat(rows.slice(i, i + OPT.batch)) });
  log(`1. raw ceiling: COPY into a records-shaped table, ${OPT.concurrency} connections…`);
  const copy: CopyRun = await copyBatches(db.pool, 'bench_ceiling_copy', copyChunks, OPT.concurrency);
  log(`   ${fmt(copy.rowsPerS)} rows/s`);
  copyChunks.length = 0;
  await db.query('CHECKPOINT');
  log('1. raw ceiling: consume + COPY together…');
  const together: ConsumeRun = await consumeAndCopy(
    kafka,
    TOPIC,
    available,
    OPT.concurrency,
    db.pool,
    'bench_ceiling_together',
    (seq) => rows[seq],
    watch,
  );
  log(`   ${fmt(together.eventsPerS)} events/s`);
  const harmonic = 1 / (1 / consume.eventsPerS + 1 / copy.rowsPerS);
  await db.query('DROP TABLE bench_ceiling_copy, bench_ceiling_together');
  rows.length = 0;

  // ---- 2. naive baseline
  await db.query('CHECKPOINT');
  log(`2. naive baseline: eachMessage + JSON.parse + TypeORM save, ${OPT.naiveEvents} events…`);
  const naive: ConsumeRun = await naiveBaseline(
    kafka,
    NAIVE_TOPIC,
    OPT.naiveEvents - preNaive.trimmed.reduce((a, o) => a + o.low, 0),
    db.url,
    watch,
  );
  log(`   ${fmt(naive.eventsPerS)} events/s`);
  await db.query('DROP TABLE IF EXISTS bench_naive_records');

  // ---- 3. the real pipeline
  await db.query('CHECKPOINT');
  log('3. pipeline: starting the service (child process)…');
  const dataDir = mkdtempSync(join(tmpdir(), 'rl-bench-'));
  if (!args.keep) cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  let joinSnap: CpuSnapshot | undefined;
  let joinedAt = 0;
  let svcPid = 0;
  let markJoined!: () => void;
  const joined = new Promise<void>((resolve) => (markJoined = resolve));
  const env = await serviceEnv(
    { db, brokers: dk.brokers, dataDir },
    {
      TOPIC_DECISIONS: TOPIC,
      TOPIC_DLQ: 'bench.dlq',
      TOPIC_CHECKPOINTS: 'bench.checkpoints',
      KAFKA_GROUP_ID: PIPELINE_GROUP,
      KAFKA_CLIENT_ID: 'bench-pipeline',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      BENCH_PROFILE_ON_JOIN: OPT.profile ? '1' : '0',
      // The service's own default unless asked: 0 decodes on the consumer's thread.
      ...(args['decode-threads'] === undefined ? {} : { INGEST_DECODE_THREADS: args['decode-threads'] }),
    },
  );
  const svc = await ServiceChild.start(env, (at, pid) => {
    // The snapshot is taken as the consumer's GROUP_JOIN message arrives.
    if (joinSnap) return;
    joinSnap = cpuSnapshot({ ...watch, service: pid, serviceMain: `${pid}/task/${pid}` });
    joinedAt = at;
    markJoined();
  });
  cleanups.unshift(() => svc.stop());
  svcPid = svc.pid;
  await joined;
  const profilePath = join(dirname(OUT), 'pipeline.cpuprofile');
  const doneAt = await waitConsumed(db.pool, kafka, PIPELINE_GROUP, TOPIC, {
    timeoutMs: 900_000,
    describe: () => svc.output().slice(-3000),
  });
  const doneSnap = cpuSnapshot({ ...watch, service: svcPid, serviceMain: `${svcPid}/task/${svcPid}` });
  if (OPT.profile) await svc.request({ cmd: 'profile-stop', path: profilePath }, 'profile-stopped', 120_000);
  const afterThroughput = await svc.stats();
  const metrics = await scrapeMetrics(Number(env.PORT));
  const [{ n: appendedS }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM records');
  const appended = Number(appendedS);
  const pipeSeconds = (doneAt - joinedAt) / 1000;
  const pipeCpu = cpuDelta(joinSnap!, doneSnap);
  const pipeRate = appended / pipeSeconds;
  log(`   ${fmt(pipeRate)} events/s (${appended} appended in ${pipeSeconds.toFixed(2)} s)`);

  // Latency at full speed and at half of it: produce at a fixed rate, occurred_at = send time.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  cleanups.unshift(() => producer.disconnect());
  const latency = async (label: string, ratePerS: number, base: number): Promise<LatencyPhase> => {
    log(`3. pipeline: latency at ${label}, ${fmt(ratePerS)} events/s for ${OPT.latencySeconds} s…`);
    const a = cpuSnapshot({ ...watch, service: svcPid });
    const sent = await produceAtRate(
      producer,
      TOPIC,
      PARTITIONS,
      ratePerS,
      OPT.latencySeconds * 1000,
      LATENCY_TICK_MS,
      (i, now) => ({
        key: String(base + i),
        value: wireOf(benchEvent(base + i, now)),
        headers: { ...WIRE_HEADERS },
      }),
    );
    const producedDone = Date.now();
    await waitConsumed(db.pool, kafka, PIPELINE_GROUP, TOPIC, {
      timeoutMs: 600_000,
      intervalMs: 50,
      describe: () => svc.output().slice(-3000),
    });
    const drainS = (Date.now() - producedDone) / 1000;
    const b = cpuSnapshot({ ...watch, service: svcPid });
    const lats = (
      await db.query<{ ms: number }>(
        `SELECT extract(epoch FROM (c.signed_at - r.occurred_at)) * 1000 AS ms
         FROM records r
         CROSS JOIN LATERAL (SELECT signed_at FROM checkpoints c WHERE c.shard = r.shard AND c.tree_size > r.leaf_index ORDER BY c.tree_size LIMIT 1) c
        WHERE r.occurred_at >= $1 AND r.occurred_at <= $2`,
        [sent.firstAt, new Date(sent.lastAt.getTime() + 1)],
      )
    )
      .map((r) => Number(r.ms))
      .sort((x, y) => x - y);
    const offsets = await topicOffsets(kafka, TOPIC);
    return {
      targetPerS: ratePerS,
      producedPerS: sent.sent / sent.seconds,
      sent: sent.sent,
      appended: lats.length,
      seconds: sent.seconds,
      p50Ms: quantile(lats, 0.5),
      p99Ms: quantile(lats, 0.99),
      maxMs: lats[lats.length - 1] ?? NaN,
      drainS,
      cpu: cpuDelta(a, b),
      trimmed: lats.length < sent.sent && offsets.some((o) => o.low > 0),
    };
  };
  const full = await latency('full speed', Math.round(pipeRate), SEQ.latencyFull);
  const half = await latency('half speed', Math.round(pipeRate / 2), SEQ.latencyHalf);
  const finalStats = await svc.stats();
  await svc.stop();
  const profile: ProfileSummary | undefined = OPT.profile ? summarizeProfile(profilePath) : undefined;

  // Storage per record, before the later sections add rows.
  const [storage] = await db.query<{
    records: string;
    heap: string;
    toast: string;
    indexes: string;
    total: string;
    nodes: string;
    checkpoints: string;
  }>(
    `SELECT (SELECT count(*) FROM records) AS records, pg_relation_size('records') AS heap,
            pg_total_relation_size('records') - pg_relation_size('records') - pg_indexes_size('records') AS toast,
            pg_indexes_size('records') AS indexes, pg_total_relation_size('records') AS total,
            pg_total_relation_size('merkle_tiles') + pg_total_relation_size('merkle_partial_tiles') AS nodes, pg_total_relation_size('checkpoints') AS checkpoints`,
  );
  const shards = (
    await db.query<{ shard: number; tree_size: string }>('SELECT shard, tree_size FROM shard_heads ORDER BY shard')
  ).map((s) => ({ shard: s.shard, treeSize: Number(s.tree_size) }));

  log(`3. pipeline: stage microbenchmarks on ${OPT.stageEvents} of the same events…`);
  const stages: StageFigure[] = await stageBreakdown({
    events: OPT.stageEvents,
    batchSize: OPT.batch,
    baseSeq: SEQ.stages,
    databaseUrl: db.url,
    pool: db.pool,
    shard: STAGE_SHARD,
  });

  // ---- 5. ledger
  log(`5. ledger: seeding shards of ${OPT.smallTree} and ${OPT.records} leaves…`);
  const seedSmall = await seedShard(db.pool, SMALL_SHARD, OPT.smallTree);
  const seedBig = await seedShard(db.pool, BIG_SHARD, OPT.records);
  log(`   seeded ${seedBig.nodes} nodes in ${seedBig.seconds.toFixed(1)} s`);
  await db.query('CHECKPOINT');
  const costSmall: AppendCost = await appendCost(db.pool, SMALL_SHARD, OPT.appendBatches, OPT.batch);
  const costBig: AppendCost = await appendCost(db.pool, BIG_SHARD, OPT.appendBatches, OPT.batch);
  const eventIds = (
    await db.query<{ event_id: string }>(
      'SELECT event_id FROM records WHERE shard < $1 ORDER BY md5(event_id) LIMIT 2000',
      [PARTITIONS],
    )
  ).map((r) => r.event_id);
  const biggest = shards.filter((s) => s.shard < PARTITIONS).sort((a, b) => b.treeSize - a.treeSize)[0];
  log('5. ledger: receipts and proofs per second…');
  const proofs: RateFigure[] = await proofRates({
    databaseUrl: db.url,
    bigShard: BIG_SHARD,
    bigSize: costBig.treeSize + (OPT.appendBatches + 1) * OPT.batch,
    durationMs: OPT.proofSeconds * 1000,
    concurrency: 4,
    eventIds,
    pipelineShard: biggest ? { shard: biggest.shard, size: biggest.treeSize } : undefined,
  });

  // ---- 6. hooks
  const hooks: HookResult[] = await runHooks({
    databaseUrl: db.url,
    records: OPT.records,
    quick,
    shards: shards.filter((s) => s.shard < PARTITIONS),
    seedRecords: (n) => seedRecords(db, n, SEQ.hookRecords, log),
    createDatabase: async () => {
      const extra = await createTestDatabase('rl_bench_hook');
      cleanups.push(() => extra.drop());
      return { url: extra.url };
    },
    exportRecords: OPT.exportRecords,
    tmpDir: dataDir,
    log,
  });

  const report: Report = {
    generatedAt: new Date().toISOString(),
    durationS: (Date.now() - started) / 1000,
    machine: {
      loadavgStart: loadStart,
      loadavgEnd: loadavg(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memGiB: totalmem() / 2 ** 30,
      node: process.version,
      postgres: (await db.query<{ server_version: string }>('SHOW server_version'))[0].server_version,
    },
    options: { ...OPT, quick, partitions: PARTITIONS, wireBytesPerEvent: wireBytes / OPT.events },
    broker: { preload: pre, preloadNaive: preNaive, trimmedBeforeConsumption: trimmedAtPreload },
    ceiling: { consume, copy, together, harmonicPerS: harmonic },
    naive,
    pipeline: {
      profilePath: OPT.profile ? profilePath : undefined,
      events: appended,
      expected: available,
      seconds: pipeSeconds,
      eventsPerS: pipeRate,
      cpu: pipeCpu,
      serviceCpuUsPerEvent: ((pipeCpu.watchedS.service ?? NaN) * 1e6) / appended,
      serviceMainThreadCpuUsPerEvent: ((pipeCpu.watchedS.serviceMain ?? NaN) * 1e6) / appended,
      postgresCpuUsPerEvent: ((pipeCpu.postgresS ?? NaN) * 1e6) / appended,
      brokerCpuUsPerEvent: ((pipeCpu.watchedS.broker ?? NaN) * 1e6) / appended,
      peakRssMiB: finalStats.maxRssMiB,
      rssAfterThroughputMiB: afterThroughput.rssMiB,
      peakRssAfterThroughputMiB: afterThroughput.maxRssMiB,
      metrics,
      latency: { tickMs: LATENCY_TICK_MS, full, half },
      stages,
      profile,
    },
    ratios: {
      ceiling: { value: pipeRate / together.eventsPerS, target: 0.7, pass: pipeRate / together.eventsPerS >= 0.7 },
      ceilingHarmonic: { value: pipeRate / harmonic },
      naive: { value: pipeRate / naive.eventsPerS, target: 20, pass: pipeRate / naive.eventsPerS >= 20 },
      latencyHalfP99: { value: half.p99Ms, target: 1000, pass: half.p99Ms < 1000 },
    },
    ledger: { seedSmall, seedBig, appendSmall: costSmall, appendBig: costBig, proofs },
    storage: {
      records: Number(storage.records),
      bytesPerRecord: {
        heap: Number(storage.heap) / Number(storage.records),
        toast: Number(storage.toast) / Number(storage.records),
        indexes: Number(storage.indexes) / Number(storage.records),
        recordsTotal: Number(storage.total) / Number(storage.records),
        merkleNodes: Number(storage.nodes) / Number(storage.records),
        checkpoints: Number(storage.checkpoints) / Number(storage.records),
      },
    },
    hooks,
  };
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
  printReport(report);
  process.stdout.write(`\nresults: ${OUT}\n`);
  const failed = hookFailures(hooks);
  if (failed) throw new Error(failed);
}

/**
 * `--instances` / `--compare-instances`: the preloaded events consumed by each instance count in
 * turn (alternating when `--rounds` > 1), each run with a fresh database and group. Nothing else.
 */
async function instancesMain(counts: number[]): Promise<void> {
  const started = Date.now();
  const rounds = int(args.rounds, 1);
  mkdirSync(dirname(OUT), { recursive: true });
  log(
    `instances ${counts.join(' vs ')}, ${rounds} round(s), events ${OPT.events}, partitions ${PARTITIONS}, batch ${OPT.batch}`,
  );
  const dk: DevKafka = await startDevKafka({
    topics: [
      { name: TOPIC, partitions: PARTITIONS },
      { name: 'bench.dlq', partitions: 1 },
      { name: 'bench.checkpoints', partitions: 1 },
    ],
  });
  cleanups.push(() => dk.stop());
  const kafka = kafkaClient(dk.brokers, 'bench');
  const loadStart = loadavg();
  log(`preloading ${OPT.events} events into ${TOPIC} (${PARTITIONS} partitions, sets of ${OPT.batch}, gzip)…`);
  const message = (i: number): Message => ({
    key: String(i),
    value: wireOf(benchEvent(i)),
    headers: { ...WIRE_HEADERS },
  });
  const pre = await preload(kafka, TOPIC, PARTITIONS, OPT.events, OPT.batch, message, { gzip: true });
  const trimmed = pre.trimmed.reduce((a, o) => a + o.low, 0);
  if (trimmed > 0) throw new Error(`the broker trimmed ${trimmed} messages before consumption: use more --partitions`);
  const runs: InstancesRun[] = [];
  for (let round = 1; round <= rounds; round++)
    for (const n of counts) {
      await adminCheckpoint();
      log(`pipeline with ${n} instance(s) in one group, round ${round}…`);
      runs.push(
        await runInstances(n, {
          kafka,
          brokers: dk.brokers,
          brokerPid: dk.pid,
          topic: TOPIC,
          partitions: PARTITIONS,
          label: `r${round}-n${n}`,
          env: {
            TOPIC_DECISIONS: TOPIC,
            TOPIC_DLQ: 'bench.dlq',
            TOPIC_CHECKPOINTS: 'bench.checkpoints',
            ...(args['decode-threads'] === undefined ? {} : { INGEST_DECODE_THREADS: args['decode-threads'] }),
          },
          log,
        }),
      );
    }
  // The median run of each count, by throughput, is the one compared.
  const medianOf = (n: number) => {
    const of = runs.filter((r) => r.instances === n).sort((a, b) => a.eventsPerS - b.eventsPerS);
    return of[Math.floor((of.length - 1) / 2)];
  };
  const compared = counts.map(medianOf);
  const loadEnd = loadavg();
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        durationS: (Date.now() - started) / 1000,
        machine: { loadavgStart: loadStart, loadavgEnd: loadEnd, cpus: cpus().length, cpuModel: cpus()[0]?.model },
        options: { events: OPT.events, partitions: PARTITIONS, batch: OPT.batch, counts, rounds },
        preload: pre,
        runs,
        compared: compared.map((r) => runs.indexOf(r)),
      },
      null,
      2,
    ) + '\n',
  );
  const out = [
    `routing-ledger benchmark, instances ${counts.join(' vs ')} — ${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; load average (1 min) at start ${loadStart[0].toFixed(2)}, at end ${loadEnd[0].toFixed(2)}`,
    `events: ${OPT.events.toLocaleString('en')} preloaded once, ${PARTITIONS} partitions, sets of ${OPT.batch}; each run a fresh database and group${rounds > 1 ? `; median of ${rounds} rounds by throughput` : ''}`,
    '',
    instancesTable(compared),
  ];
  if (rounds > 1) {
    out.push('', 'every run (events/s, service µs/event, postgres µs/record, settled s):');
    for (const r of runs)
      out.push(
        `  ${r.groupId}: ${Math.round(r.eventsPerS)}, ${r.serviceCpuUsPerEvent.toFixed(1)}, ${r.postgresCpuUsPerEvent.toFixed(1)}, ${r.firstJoinToSettledS.toFixed(2)}`,
      );
  }
  process.stdout.write(out.join('\n') + `\n\nresults: ${OUT}\n`);
}

/** A CHECKPOINT before each write phase, so that none inherits another's dirty buffers. */
async function adminCheckpoint(): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en');
}

async function cleanup(): Promise<void> {
  for (const c of cleanups) await c().catch((e: Error) => log(`cleanup: ${e.message}`));
}

main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  async (e: Error) => {
    log(`failed: ${e.stack ?? e.message}`);
    await cleanup();
    process.exit(1);
  },
);
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
