/** The results table on stdout (bench/README.md explains every line). */
import type { CopyRun } from './ceiling.js';
import type { ConsumeRun } from './consumers.js';
import type { HookResult } from './hooks.js';
import type { PreloadResult } from './kafka.js';
import type { AppendCost, RateFigure } from './ledger.js';
import type { CpuDelta } from './proc.js';
import type { ProfileSummary } from './profile.js';
import type { StageFigure } from './stages.js';

/** One fixed-rate latency phase of section 3. */
export interface LatencyPhase {
  targetPerS: number;
  producedPerS: number;
  sent: number;
  appended: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  drainS: number;
  cpu: CpuDelta;
  trimmed: boolean;
}

interface Ratio {
  value: number;
  target?: number;
  pass?: boolean;
}

export interface Report {
  generatedAt: string;
  durationS: number;
  machine: {
    loadavgStart: number[];
    loadavgEnd: number[];
    cpus: number;
    cpuModel: string;
    memGiB: number;
    node: string;
    postgres: string;
  };
  options: Record<string, unknown> & {
    events: number;
    naiveEvents: number;
    records: number;
    partitions: number;
    batch: number;
    concurrency: number;
    latencySeconds: number;
    wireBytesPerEvent: number;
    stageEvents: number;
  };
  broker: { preload: PreloadResult; preloadNaive: PreloadResult; trimmedBeforeConsumption: number };
  ceiling: { consume: ConsumeRun; copy: CopyRun; together: ConsumeRun; harmonicPerS: number };
  naive: ConsumeRun;
  pipeline: {
    profilePath?: string;
    events: number;
    expected: number;
    seconds: number;
    eventsPerS: number;
    cpu: CpuDelta;
    serviceCpuUsPerEvent: number;
    /** The service's main thread alone (its tid is its pid): the rest is decode workers, libuv and V8's helpers. */
    serviceMainThreadCpuUsPerEvent: number;
    postgresCpuUsPerEvent: number;
    brokerCpuUsPerEvent: number;
    peakRssMiB: number;
    rssAfterThroughputMiB: number;
    peakRssAfterThroughputMiB: number;
    metrics: Record<string, number>;
    latency: { tickMs: number; full: LatencyPhase; half: LatencyPhase };
    stages: StageFigure[];
    profile?: ProfileSummary;
  };
  ratios: { ceiling: Ratio; ceilingHarmonic: Ratio; naive: Ratio; latencyHalfP99: Ratio };
  ledger: {
    seedSmall: { seconds: number; nodes: number };
    seedBig: { seconds: number; nodes: number };
    appendSmall: AppendCost;
    appendBig: AppendCost;
    proofs: RateFigure[];
  };
  storage: { records: number; bytesPerRecord: Record<string, number> };
  hooks: HookResult[];
}

const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : 'n/a');
const n1 = (x: number) =>
  Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 }) : 'n/a';
const n2 = (x: number) =>
  Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: 2, minimumFractionDigits: 2 }) : 'n/a';
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${Math.round(x * 100)} %`);

function cpuNote(c: CpuDelta, events: number, node: 'self' | 'service'): string {
  const nodeS = node === 'self' ? c.selfS : c.watchedS.service;
  const per = (s: number | undefined) => (s === undefined ? 'n/a' : n1((s * 1e6) / events));
  return `CPU µs/event: node ${per(nodeS)}, postgres ${per(c.postgresS)}, broker ${per(c.watchedS.broker)}; machine busy ${pct(c.machineBusy)}`;
}

export function printReport(r: Report): void {
  const lines: string[] = [];
  const w = (s = '') => lines.push(s);
  const row = (label: string, value: string, note = '') => w(`  ${label.padEnd(62)} ${value.padStart(14)}  ${note}`);
  const o = r.options;
  w(`routing-ledger benchmark — ${r.generatedAt}, ${r.durationS.toFixed(0)} s`);
  w(
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB.toFixed(0)} GiB, Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}`,
  );
  w(
    `load average (1 min) at start ${r.machine.loadavgStart[0].toFixed(2)}, at end ${r.machine.loadavgEnd[0].toFixed(2)}: above ~0.5 other work shares the cores and absolute rates drop (ratios less)`,
  );
  w(
    `events: ${n0(o.events)} demo events (${n0(o.wireBytesPerEvent)} B JSON each), ${o.partitions} partitions, sets of ${o.batch} per partition (gzip), ${o.concurrency} partitions consumed concurrently`,
  );
  if (o.quick)
    w(
      `quick: the pipeline phase lasts a second or two, much of it spent by the service's JIT compiling its hot code: its CPU per event reads several times a default run's (bench/README.md). Judge the targets on a default run`,
    );
  if (r.broker.trimmedBeforeConsumption > 0)
    w(
      `WARNING: the broker trimmed ${n0(r.broker.trimmedBeforeConsumption)} messages before consumption; rates count only what was there`,
    );
  w();
  w('1. Raw ceiling (no ledger work)');
  const c = r.ceiling;
  row(
    'kafkajs consume, eachBatch doing nothing',
    `${n0(c.consume.eventsPerS)} ev/s`,
    cpuNote(c.consume.cpu, c.consume.events, 'self'),
  );
  row(
    `COPY of the same rows into a records-shaped table (${c.copy.connections} conn)`,
    `${n0(c.copy.rowsPerS)} ev/s`,
    cpuNote(c.copy.cpu, c.copy.rows, 'self'),
  );
  row(
    'consume + COPY together, measured (= the ceiling)',
    `${n0(c.together.eventsPerS)} ev/s`,
    cpuNote(c.together.cpu, c.together.events, 'self'),
  );
  row('consume then COPY, harmonic 1/(1/a+1/b)', `${n0(c.harmonicPerS)} ev/s`);
  w();
  w('2. Naive baseline');
  row(
    `eachMessage + JSON.parse + TypeORM save(), N=${n0(r.naive.events)}`,
    `${n0(r.naive.eventsPerS)} ev/s`,
    cpuNote(r.naive.cpu, r.naive.events, 'self'),
  );
  w();
  const p = r.pipeline;
  w('3. The real pipeline (service child process: createApp → LedgerConsumerService → LedgerAppendService)');
  row(
    `throughput, N=${n0(p.events)} (from group join to last offset stored)`,
    `${n0(p.eventsPerS)} ev/s`,
    `${n2(p.seconds)} s`,
  );
  row('CPU per event: service (Node)', `${n1(p.serviceCpuUsPerEvent)} µs`);
  row(
    '  of which its main thread',
    `${n1(p.serviceMainThreadCpuUsPerEvent)} µs`,
    'the rest: decode worker threads, gunzip in the libuv pool, GC and compiler threads',
  );
  row('CPU per event: PostgreSQL (all backends)', `${n1(p.postgresCpuUsPerEvent)} µs`);
  row('CPU per event: dev broker', `${n1(p.brokerCpuUsPerEvent)} µs`);
  row('machine busy during the run (2 cores = 100 %)', pct(p.cpu.machineBusy));
  const m = p.metrics;
  const batches = m.routing_ledger_ingest_batch_size_count;
  if (batches)
    row(
      'consumer batches: count, mean size, mean time',
      `${n0(batches)}`,
      `${n0(m.routing_ledger_ingest_batch_size_sum / batches)} msgs, ${n1((m.routing_ledger_ingest_batch_seconds_sum / batches) * 1000)} ms each (decode + transaction)`,
    );
  row(
    'peak RSS of the service',
    `${n0(p.peakRssMiB)} MiB`,
    `(${n0(p.peakRssAfterThroughputMiB)} MiB at the end of the throughput run)`,
  );
  for (const [label, ph] of [
    ['full speed', p.latency.full],
    ['half speed', p.latency.half],
  ] as const) {
    row(
      `ingest → signed checkpoint at ${label} (${n0(ph.targetPerS)} ev/s offered)`,
      `p50 ${n0(ph.p50Ms)} ms`,
      `p99 ${n0(ph.p99Ms)} ms, max ${n0(ph.maxMs)} ms; produced ${n0(ph.producedPerS)} ev/s for ${n1(ph.seconds)} s, drained ${n1(ph.drainS)} s after; ${n0(ph.appended)}/${n0(ph.sent)} appended${ph.trimmed ? ', TRIMMED by the broker' : ''}`,
    );
  }
  w();
  w(
    `   CPU per event by stage (microbenchmarks of the pipeline's functions on ${n0(o.stageEvents)} of the same events, batch ${o.batch})`,
  );
  for (const s of p.stages) {
    const v = s.pgUsPerEvent !== undefined ? `${n1(s.wallUsPerEvent)} µs wall` : `${n1(s.cpuUsPerEvent)} µs`;
    const note =
      s.pgUsPerEvent !== undefined
        ? `node CPU ${n1(s.cpuUsPerEvent)} µs, postgres CPU ${n1(s.pgUsPerEvent)} µs${s.note ? `; ${s.note}` : ''}`
        : (s.note ?? '');
    row(s.stage.length > 62 ? `${s.stage.slice(0, 61)}…` : s.stage, v, note);
  }
  if (p.profile) {
    w();
    // Sample intervals count wall time, descheduled time included on a busy machine: shares
    // are meaningful, absolute times are scaled to the CPU time /proc measured. The profiler
    // samples the main thread only (decode workers are isolates of their own), so its CPU is the scale.
    const mainUs = p.serviceMainThreadCpuUsPerEvent;
    w(
      `   CPU profile of the service's main thread during the throughput run (share of busy samples × the ${n1(mainUs)} µs/event of main-thread CPU measured)`,
    );
    for (const s of p.profile.stages.filter((x) => x.share >= 0.005))
      row(`  ${s.stage}`, pct(s.share), `${n1(s.share * mainUs)} µs/event`);
    w('   top functions by self time');
    for (const f of p.profile.top.slice(0, 15)) row(`  ${f.fn}`.slice(0, 62), pct(f.share), f.where);
    w(`   profile: ${p.profilePath} (open in Chrome DevTools → Performance)`);
  }
  w();
  w('4. Ratios against targets');
  const mark = (x: Ratio) => (x.pass === undefined ? '' : x.pass ? 'PASS' : 'MISS');
  row(
    'pipeline ÷ raw ceiling (consume + COPY, measured)',
    `${n2(r.ratios.ceiling.value)} ×`,
    `target ≥ 0.7 ×  ${mark(r.ratios.ceiling)}`,
  );
  row('pipeline ÷ harmonic ceiling (for reference)', `${n2(r.ratios.ceilingHarmonic.value)} ×`);
  row('pipeline ÷ naive baseline', `${n1(r.ratios.naive.value)} ×`, `target ≥ 20 ×  ${mark(r.ratios.naive)}`);
  const cpuOf = (c: CpuDelta, events: number, node: number | undefined) =>
    (((node ?? NaN) + (c.postgresS ?? 0) + (c.watchedS.broker ?? 0)) * 1e6) / events;
  const ceilCpu = cpuOf(r.ceiling.together.cpu, r.ceiling.together.events, r.ceiling.together.cpu.selfS);
  const pipeCpu = cpuOf(p.cpu, p.events, p.cpu.watchedS.service);
  row(
    'CPU per event (Node + PostgreSQL + broker): pipeline ÷ ceiling',
    `${n1(pipeCpu / ceilCpu)} ×`,
    `${n0(pipeCpu)} vs ${n0(ceilCpu)} µs: the load-independent view of the first ratio`,
  );
  row(
    'ingest → checkpoint p99 at half of peak',
    `${n0(r.ratios.latencyHalfP99.value)} ms`,
    `target < 1,000 ms  ${mark(r.ratios.latencyHalfP99)}`,
  );
  const within = (value: number, target: number) => (Number.isFinite(value) ? (value <= target ? 'PASS' : 'MISS') : '');
  row(
    'service CPU per event (Node, from /proc)',
    `${n1(p.serviceCpuUsPerEvent)} µs`,
    `target ≤ 50 µs  ${within(p.serviceCpuUsPerEvent, 50)}`,
  );
  row(
    'PostgreSQL CPU per stored record',
    `${n1(p.postgresCpuUsPerEvent)} µs`,
    `target ≤ 40 µs  ${within(p.postgresCpuUsPerEvent, 40)}`,
  );
  w();
  w('5. Ledger');
  for (const a of [r.ledger.appendSmall, r.ledger.appendBig]) {
    row(
      `append ${a.batchSize} leaves to a tree of ${n0(a.treeSize)}: transaction`,
      `${n2(a.transactionMs)} ms`,
      `${n1((a.transactionMs * 1000) / a.batchSize)} µs/leaf; appendLeaves ${n2(a.appendLeavesUsPerLeaf)} µs/leaf, tiles for ${n2(a.nodesPerLeaf)} nodes/leaf written in ${n2(a.insertNodesMs)} ms, consistency proof ${n2(a.consistencyProofMs)} ms (median of ${a.batches})`,
    );
  }
  row(`seeding ${n0(r.ledger.seedBig.nodes)} nodes (appendLeaves + COPY)`, `${n1(r.ledger.seedBig.seconds)} s`);
  for (const f of r.ledger.proofs)
    row(
      f.what.length > 62 ? `${f.what.slice(0, 61)}…` : f.what,
      `${n0(f.perS)} /s`,
      `p50 ${n2(f.p50Ms)} ms, p99 ${n2(f.p99Ms)} ms, ${f.concurrency} in flight`,
    );
  w();
  w('6. Storage, lookups, export');
  const b = r.storage.bytesPerRecord;
  row(
    `storage per record (records table, ${n0(r.storage.records)} rows)`,
    `${n0(b.recordsTotal)} B`,
    `heap ${n0(b.heap)}, toast ${n0(b.toast)}, indexes ${n0(b.indexes)}; + Merkle tiles ${n0(b.merkleNodes)}, checkpoints ${n0(b.checkpoints)}`,
  );
  const stored = b.heap + b.toast + b.merkleNodes;
  row(
    'storage per record without indexes (heap + TOAST + Merkle tiles)',
    `${n0(stored)} B`,
    `target ≤ 1,536 B  ${stored <= 1536 ? 'PASS' : 'MISS'}`,
  );
  lines.push(...hookLines(r.hooks));
  process.stdout.write(lines.join('\n') + '\n');
}

/** The section-6 figures, one table line each (also printed alone by bench/reads.ts). */
export function hookLines(hooks: readonly HookResult[]): string[] {
  const lines: string[] = [];
  const row = (label: string, value: string, note = '') =>
    lines.push(`  ${label.padEnd(62)} ${value.padStart(14)}  ${note}`);
  for (const h of hooks) {
    if (h.error !== undefined) row(h.section.slice(0, 62), 'FAILED', `${h.source}: ${h.error}`);
    for (const f of h.figures)
      row(
        `  ${f.name}`.slice(0, 62),
        `${n2(f.value)} ${f.unit}`,
        `${f.target ? `target ${f.target} ` : ''}${f.pass === undefined ? '' : f.pass ? 'PASS' : 'MISS'}${f.note ? ` ${f.note}` : ''}`,
      );
  }
  return lines;
}
