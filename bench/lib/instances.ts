/**
 * The real pipeline run by N service processes in one consumer group over the same partitions
 * (`--instances N`, `--compare-instances N`): each run gets a fresh database (so every run does
 * the same work: no event is a duplicate of an earlier run's) and a consumer group of its own
 * over the same preloaded topic, the N children started at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createTestDatabase } from '../../test/support/test-database.js';
import { serviceEnv } from '../../test/support/service-env.js';
import { sleep } from './env.js';
import {
  cpuDelta,
  cpuSnapshot,
  PostgresBackends,
  watchPostgresBackends,
  type CpuDelta,
  type CpuSnapshot,
} from './proc.js';
import { scrapeMetrics, ServiceChild, waitConsumed } from './service.js';

export interface InstancesRun {
  instances: number;
  groupId: string;
  /** Records appended (= events: every bench event is valid and distinct). */
  events: number;
  /** From the children's spawn to the first consumer GROUP_JOIN of any of them (process start + Nest boot + join). */
  spawnToFirstJoinS: number;
  /** From the first GROUP_JOIN to the first batch stored (the first consumed_offsets row). */
  firstJoinToFirstBatchS: number;
  /** From the first GROUP_JOIN until every instance owns some partitions and together all of them (the rebalances). */
  firstJoinToSettledS: number;
  /** GROUP_JOINs seen over all instances (N = one each, more = rebalances). */
  joins: number;
  /** From the first GROUP_JOIN to the last offset stored: phase 3's definition of the rate. */
  seconds: number;
  eventsPerS: number;
  /** Only what was appended after the group settled, over the time from settled to done. */
  steady: { events: number; seconds: number; eventsPerS: number };
  /** CPU from the first GROUP_JOIN to done; `watchedS` holds each instance (i0, i1, …) and the broker. */
  cpu: CpuDelta;
  serviceCpuS: number;
  /** Summed over the instances. */
  serviceCpuUsPerEvent: number;
  postgresCpuUsPerEvent: number;
  brokerCpuUsPerEvent: number;
  /** Per instance: partitions it owned once settled, and consumer batches it handled. */
  perInstance: Array<{ partitions: number[]; batches: number; events: number }>;
}

export interface InstancesOptions {
  kafka: Kafka;
  brokers: string[];
  brokerPid: number | undefined;
  topic: string;
  partitions: number;
  /** Names the group (and the database prefix). */
  label: string;
  /** Extra service environment (topics, decode threads). */
  env: Record<string, string>;
  log: (m: string) => void;
}

/** N fresh service children in one group over `topic`, from spawn to the last offset stored, then stopped. */
export async function runInstances(n: number, o: InstancesOptions): Promise<InstancesRun> {
  // More members than partitions leave some idle: the group would never be "settled" as defined here.
  if (n > o.partitions) throw new Error(`${n} instances for ${o.partitions} partitions: some would get none`);
  const db = await createTestDatabase(`rl_bench_i${n}`, 2);
  const dataDir = mkdtempSync(join(tmpdir(), 'rl-bench-inst-'));
  const backends = new PostgresBackends(async () =>
    (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db.name])).map(
      (r) => r.pid,
    ),
  );
  await backends.start(100);
  watchPostgresBackends(backends);
  const children: ServiceChild[] = [];
  const groupId = `bench-${o.label}`;
  try {
    const pids: number[] = [];
    const latest: Array<number[] | undefined> = [];
    const watch = (): Record<string, number | undefined> => ({
      broker: o.brokerPid,
      ...Object.fromEntries(pids.map((p, k) => [`i${k}`, p])),
    });
    let joins = 0;
    let first: { at: number; snap: CpuSnapshot } | undefined;
    let settled: { at: number } | undefined;
    let markSettled!: () => void;
    const settledP = new Promise<void>((r) => (markSettled = r));
    const onJoined = (k: number) => (at: number, _pid: number, assignment?: Record<string, number[]>) => {
      joins++;
      latest[k] = assignment?.[o.topic] ?? [];
      // Snapshots are taken as the GROUP_JOIN message arrives; pids are known once every child spawned.
      if (!first) first = { at, snap: cpuSnapshot(watch()) };
      const owned = latest.map((l) => l ?? []);
      const all = owned.flat();
      if (
        !settled &&
        owned.length === n &&
        owned.every((l) => l.length > 0) &&
        all.length === o.partitions &&
        new Set(all).size === o.partitions
      ) {
        settled = { at };
        markSettled();
      }
    };
    const spawnAt = Date.now();
    const starts = Array.from({ length: n }, async (_, k) => {
      const env = await serviceEnv(
        { db, brokers: o.brokers, dataDir },
        {
          ...o.env,
          KAFKA_GROUP_ID: groupId,
          KAFKA_CLIENT_ID: `${groupId}-${k}`,
          KAFKA_SESSION_TIMEOUT_MS: '10000',
          BENCH_PROFILE_ON_JOIN: '0',
        },
      );
      const child = await ServiceChild.start(env, onJoined(k), (pid) => (pids[k] = pid));
      children[k] = child;
      return { child, port: Number(env.PORT) };
    });
    // The first batch: the first consumed_offsets row, polled while the children start.
    let firstBatchAt = 0;
    let atSettled: number | undefined;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const [{ s }] = await db.query<{ s: string | null }>(
          'SELECT sum(next_offset) AS s FROM consumed_offsets WHERE group_id = $1',
          [groupId],
        );
        const stored = Number(s ?? 0);
        if (stored > 0 && !firstBatchAt) firstBatchAt = Date.now();
        if (settled && atSettled === undefined) atSettled = stored;
        await sleep(20);
      }
    })();
    const started = await Promise.all(starts);
    await settledP;
    const doneAt = await waitConsumed(db.pool, o.kafka, groupId, o.topic, {
      timeoutMs: 900_000,
      describe: () => children.map((c) => c.output().slice(-1500)).join('\n---\n'),
    });
    const doneSnap = cpuSnapshot(watch());
    polling = false;
    await poll;
    const metrics = await Promise.all(started.map((s) => scrapeMetrics(s.port)));
    const [{ n: appendedS }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM records');
    const events = Number(appendedS);
    const cpu = cpuDelta(first!.snap, doneSnap);
    const serviceCpuS = pids.reduce((t, _, k) => t + (cpu.watchedS[`i${k}`] ?? NaN), 0);
    const seconds = (doneAt - first!.at) / 1000;
    const steadyEvents = events - (atSettled ?? 0);
    const steadySeconds = (doneAt - settled!.at) / 1000;
    const run: InstancesRun = {
      instances: n,
      groupId,
      events,
      spawnToFirstJoinS: (first!.at - spawnAt) / 1000,
      firstJoinToFirstBatchS: (firstBatchAt - first!.at) / 1000,
      firstJoinToSettledS: (settled!.at - first!.at) / 1000,
      joins,
      seconds,
      eventsPerS: events / seconds,
      steady: { events: steadyEvents, seconds: steadySeconds, eventsPerS: steadyEvents / steadySeconds },
      cpu,
      serviceCpuS,
      serviceCpuUsPerEvent: (serviceCpuS * 1e6) / events,
      postgresCpuUsPerEvent: ((cpu.postgresS ?? NaN) * 1e6) / events,
      brokerCpuUsPerEvent: ((cpu.watchedS.broker ?? NaN) * 1e6) / events,
      perInstance: metrics.map((m, k) => ({
        partitions: [...(latest[k] ?? [])].sort((a, b) => a - b),
        batches: m.routing_ledger_ingest_batch_size_count ?? 0,
        events: m.routing_ledger_ingest_batch_size_sum ?? 0,
      })),
    };
    o.log(
      `   ${n} instance(s): ${Math.round(run.eventsPerS)} events/s (${events} in ${seconds.toFixed(2)} s), settled ${run.firstJoinToSettledS.toFixed(2)} s after the first join, ${joins} joins`,
    );
    return run;
  } finally {
    for (const c of children) if (c) await c.stop();
    backends.stop();
    watchPostgresBackends(undefined);
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const r1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const r2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const r0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : 'n/a');

/** The table of `--instances` / `--compare-instances`: one column per run, a ratio column against the first (1 instance). */
export function instancesTable(runs: InstancesRun[]): string {
  const base = runs[0];
  const rows: Array<[string, (r: InstancesRun) => number, (x: number) => string]> = [
    ['events appended', (r) => r.events, r0],
    ['throughput, first join → last offset (events/s)', (r) => r.eventsPerS, r0],
    ['throughput after the group settled (events/s)', (r) => r.steady.eventsPerS, r0],
    ['  events appended after it settled', (r) => r.steady.events, r0],
    ['service CPU per event, all instances (µs)', (r) => r.serviceCpuUsPerEvent, r1],
    ['PostgreSQL CPU per record (µs)', (r) => r.postgresCpuUsPerEvent, r1],
    ['broker CPU per event (µs)', (r) => r.brokerCpuUsPerEvent, r1],
    ['machine busy (2 cores = 100 %)', (r) => (r.cpu.machineBusy ?? NaN) * 100, r0],
    ['spawn → first group join (s)', (r) => r.spawnToFirstJoinS, r2],
    ['first join → first batch stored (s)', (r) => r.firstJoinToFirstBatchS, r2],
    ['spawn → first batch stored (s)', (r) => r.spawnToFirstJoinS + r.firstJoinToFirstBatchS, r2],
    ['first join → group settled (s)', (r) => r.firstJoinToSettledS, r2],
    ['group joins (all instances)', (r) => r.joins, r0],
  ];
  const head = ['', ...runs.map((r) => `${r.instances} inst.`), ...runs.slice(1).map((r) => `${r.instances} ÷ 1`)];
  const out = [head.map((h, i) => (i === 0 ? h.padEnd(52) : h.padStart(12))).join('')];
  for (const [label, get, f] of rows) {
    const cells = runs.map((r) => f(get(r)).padStart(12));
    const ratios = runs.slice(1).map((r) => `${r2(get(r) / get(base))} ×`.padStart(12));
    out.push(label.padEnd(52) + cells.join('') + ratios.join(''));
  }
  for (const r of runs)
    out.push(
      `  ${r.instances} inst.: ${r.perInstance.map((p, k) => `i${k} partitions [${p.partitions.join(',')}] ${r0(p.events)} events in ${r0(p.batches)} batches`).join('; ')}`,
    );
  return out.join('\n');
}
