import { jest } from '@jest/globals';
import type { ServiceProcess } from '../support/service-process.js';
import { pollUntil } from '../support/poll-until.js';
import { buildWorkload } from '../support/workload.js';
import {
  FULL,
  PacedProducer,
  SEED,
  consumedOffsets,
  ledgerShape,
  offsetGapLines,
  rng,
  scaled,
  sleep,
  summary,
  verifyCli,
  waitConsumed,
} from '../support/chaos-kit.js';
import { logLines, sharedByAll, startGroupRun, type GroupRun, type Logged } from '../support/group-kit.js';

/**
 * Three instances in one consumer group while events flow. At random points (seeded) one
 * instance is SIGKILLed and a replacement started, or one is SIGSTOPped until the group has
 * rebalanced around it (past its session timeout) and then SIGCONTed, while the others keep
 * consuming. In the end the ledger must hold every distinct valid event exactly once, in
 * gap-free shards, with conflicts and poison quarantined exactly once, pass `npm run verify`,
 * and no resumed instance may have appended a batch on a partition it had lost (a zombie append).
 */
jest.setTimeout(FULL ? 3_600_000 : 600_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 8;
const INSTANCES = 3;
const DISTINCT = scaled(20_000, 100_000);
const FAULTS = scaled(4, 12);
const DUPLICATES = Math.round(DISTINCT * 0.02);
const CONFLICTS = Math.round(DISTINCT * 0.0025);
const POISON = Math.round(DISTINCT * 0.0025);
// Debug logging gives the "batch appended" lines the zombie check reads; the oversized poison needs the cap.
/** Roughly what one fault takes on this machine: a 6 s session timeout, a rebalance, a rejoin. */
const FAULT_MS = 15_000;
const CHUNK = 200;
const EXTRA_ENV = { LOG_LEVEL: 'debug', MAX_MESSAGE_BYTES: String(64 * 1024) };

/**
 * Every line an instance printed. The service's own output() keeps only a tail, which the debug
 * lines of a long run would push its "joined group" lines and early gap reports out of.
 */
interface Instance extends Logged {
  svc: ServiceProcess;
  name: string;
  /** Every line. */
  lines: string[];
  /** Called with each line as it arrives. */
  onLine?: (line: string) => void;
}

function instance(svc: ServiceProcess, name: string): Instance {
  const lines: string[] = [];
  // Lines other than the per-batch debug ones, for the group-kit readers polled while the test runs.
  let notable = '';
  let partial = '';
  const take = (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      if (!l.includes('"msg":"batch appended"')) notable += `${l}\n`;
      self.onLine?.(l);
    }
  };
  // What it printed before it was ready (its first "joined group" line among it), then everything as it comes.
  const self: Instance = { svc, name, lines, output: () => notable };
  take(Buffer.from(svc.output()));
  svc.child.stdout!.on('data', take);
  svc.child.stderr!.on('data', take);
  return self;
}

/**
 * SIGSTOPs the instance as soon as it reports a batch appended: it is then most likely inside its
 * next batch (kafkajs hands over the fetched batches one after another), the case a zombie must get
 * right. Without such a line within 3 s it is stopped wherever it is. Resolves whether it was mid-flow.
 */
function stopMidBatch(i: Instance): Promise<boolean> {
  return new Promise((resolve) => {
    const stop = (midFlow: boolean) => {
      clearTimeout(timer);
      i.onLine = undefined;
      i.svc.signal('SIGSTOP');
      resolve(midFlow);
    };
    const timer = setTimeout(() => stop(false), 3000);
    i.onLine = (l) => {
      if (l.includes('"msg":"batch appended"')) stop(true);
    };
  });
}

const joins = (i: Instance) => logLines(i).filter((l) => l.msg.startsWith('joined group')).length;

describe('chaos: three instances in one group, SIGKILLed and paused at random', () => {
  let group: GroupRun | undefined;
  afterAll(async () => {
    await group?.stop();
  });

  it(`stores ${DISTINCT} distinct events exactly once across ${FAULTS} faults`, async () => {
    const random = rng(SEED);
    const workload = buildWorkload({
      total: DISTINCT + DUPLICATES + CONFLICTS + POISON,
      duplicates: DUPLICATES,
      conflicts: CONFLICTS,
      poison: POISON,
    });
    const distinct = new Set(workload.filter((m) => m.expect === 'record').map((m) => m.eventId!));
    expect(distinct.size).toBe(DISTINCT);

    group = await startGroupRun('rl_chaos_group', PARTITIONS, TOPIC);
    const { kafka, db } = group;
    const all: Instance[] = [];
    let started = 0;
    const launch = async () => {
      const i = instance(await group!.start(EXTRA_ENV), `i${++started}`);
      all.push(i);
      return i;
    };
    const describeAll = () => all.map((i) => `${i.name}:\n${i.svc.output().slice(-1500)}`).join('\n---\n');
    const settled = (live: Instance[]) =>
      pollUntil(() => sharedByAll(live, PARTITIONS), {
        timeoutMs: 90_000,
        what: () => `${live.map((i) => i.name).join(', ')} to share the partitions\n${describeAll()}`,
      });
    const stored = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n);

    const live: Instance[] = [];
    for (let k = 0; k < INSTANCES; k++) live.push(await launch());
    await settled(live);

    // Three instances ingest far faster than a fault plays out (a rebalance waits for a 6 s session),
    // so the flow is also held to a rate that spreads it over about FAULT_MS per fault: faults land mid-flow.
    const producer = new PacedProducer(kafka.brokers, db, { maxBacklog: 500, chunk: CHUNK });
    await producer.connect();
    const perSecond = workload.length / ((FAULTS * FAULT_MS + 20_000) / 1000);
    let produced = 0;
    let produceError: unknown;
    const producing = (async () => {
      const since = Date.now();
      for (let at = 0; at < workload.length; at += CHUNK) {
        await producer.sendAll(workload.slice(at, at + CHUNK).map((m) => ({ key: m.key, value: m.value })));
        produced = Math.min(workload.length, at + CHUNK);
        await sleep(since + (produced / perSecond) * 1000 - Date.now());
      }
    })().catch((e) => (produceError = e));
    const flowing = () => produced < workload.length;

    // At least one fault of each kind, the rest at random, in random order, at increasing record counts.
    const kinds = Array.from({ length: FAULTS }, (_, k): 'kill' | 'pause' =>
      k === 0 ? 'kill' : k === 1 ? 'pause' : random() < 0.5 ? 'kill' : 'pause',
    );
    for (let k = kinds.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [kinds[k], kinds[j]] = [kinds[j], kinds[k]];
    }
    const thresholds = kinds.map(() => Math.floor((0.05 + random() * 0.75) * DISTINCT)).sort((a, b) => a - b);

    const faults: string[] = [];
    let midFlow = 0;
    let zombieRefused = 0;
    const zombieAppends: unknown[] = [];
    for (let k = 0; k < FAULTS; k++) {
      await pollUntil(async () => produceError !== undefined || (await stored()) >= thresholds[k], {
        timeoutMs: 300_000,
        intervalMs: 50,
        what: () => `${thresholds[k]} records before fault ${k + 1}\n${describeAll()}`,
      });
      if (produceError) throw produceError;
      await sleep(random() * 300);
      const victim = live[Math.floor(random() * live.length)];
      const records = await stored();
      if (flowing()) midFlow++;
      expect({ victim: victim.name, alive: victim.svc.alive() }).toEqual({ victim: victim.name, alive: true });

      if (kinds[k] === 'kill') {
        await victim.svc.kill('SIGKILL');
        live.splice(live.indexOf(victim), 1);
        const replacement = await launch();
        live.push(replacement);
        await settled(live);
        faults.push(`kill(${victim.name})@${records}+${replacement.name}`);
        continue;
      }

      const others = live.filter((i) => i !== victim);
      const joinsBefore = joins(victim);
      const stoppedAt = Date.now();
      const midBatch = await stopMidBatch(victim);
      // Past the session timeout: the others have split every partition between them.
      await settled(others);
      await sleep(random() * 2000);
      // Offsets stored by the new owners while the victim was still stopped.
      const storedAtResume = await consumedOffsets(db, TOPIC);
      const resumedAt = Date.now();
      victim.svc.signal('SIGCONT');
      await pollUntil(() => joins(victim) > joinsBefore && sharedByAll(live, PARTITIONS), {
        timeoutMs: 90_000,
        what: () => `${victim.name} to rejoin after SIGCONT\n${describeAll()}`,
      });
      // What the victim did between SIGCONT and its rejoin. A batch it reports appended then must have
      // committed before the pause (the answer to its COMMIT read only after SIGCONT): the offsets stored
      // before the resume are already past it. Anything else is a zombie append.
      const window = logLines({ output: () => victim.lines.join('\n') });
      const rejoin = window.filter((l) => l.msg.startsWith('joined group'))[joinsBefore];
      const stale = window.filter((l) => l.time >= resumedAt - 50 && l.time <= rejoin.time);
      const refused = stale.filter((l) => l.msg.startsWith('batch not appended')).length;
      zombieRefused += refused;
      const late = stale.filter((m) => m.msg === 'batch appended' && Number(m.appended) > 0);
      for (const l of late) {
        const before = storedAtResume.get(Number(l.partition)) ?? 0n;
        if (BigInt(String(l.lastOffset)) + 1n > before) zombieAppends.push({ victim: victim.name, line: l, before });
      }
      faults.push(
        `pause(${victim.name})@${records}${midBatch ? '/after-batch' : ''}:${resumedAt - stoppedAt}ms,refused=${refused},reported_late=${late.length}`,
      );
    }

    await producing;
    if (produceError) throw produceError;
    await producer.disconnect();
    await waitConsumed(db, kafka.brokers, { timeoutMs: 300_000, describe: describeAll });

    const rows = await db.query<{ event_id: string }>('SELECT event_id FROM records');
    const ids = new Set(rows.map((r) => r.event_id));
    const missing = [...distinct].filter((id) => !ids.has(id));
    const unexpected = [...ids].filter((id) => !distinct.has(id));
    const shape = await ledgerShape(db);
    const quarantine = await db.query<{ reason_code: string; n: string; offsets: string }>(
      `SELECT CASE WHEN reason_code = 'CONFLICT' THEN 'CONFLICT' ELSE 'POISON' END AS reason_code, count(*) AS n,
              count(DISTINCT (partition, "offset")) AS offsets FROM quarantine GROUP BY 1`,
    );
    const q = Object.fromEntries(
      quarantine.map((r) => [r.reason_code, { n: Number(r.n), offsets: Number(r.offsets) }]),
    );
    const verify = await verifyCli(db.url);
    const everything = all.map((i) => i.lines.join('\n'));
    const gaps = everything.flatMap(offsetGapLines);
    const refusedLogged = everything.reduce((n, o) => n + (o.match(/"msg":"batch not appended/g)?.length ?? 0), 0);
    const consumerCrashes = everything.reduce((n, o) => n + (o.match(/consumer crashed/g)?.length ?? 0), 0);
    const checkpoints = shape.shards.reduce((n, s) => n + s.checkpoints, 0);

    summary('group', {
      instances: INSTANCES,
      partitions: PARTITIONS,
      started: all.length,
      faults: faults.length,
      fault_list: faults.join(','),
      faults_mid_flow: midFlow,
      messages_produced: workload.length,
      distinct_valid_produced: DISTINCT,
      stored: rows.length,
      distinct_stored: shape.distinctEventIds,
      missing: missing.length,
      unexpected: unexpected.length,
      duplicates_resent: DUPLICATES,
      conflicts_expected: CONFLICTS,
      conflicts_quarantined: q.CONFLICT?.n ?? 0,
      poison_expected: POISON,
      poison_quarantined: q.POISON?.n ?? 0,
      shards: shape.shards.length,
      checkpoints,
      ledger_problems: shape.problems.length,
      offset_gaps_logged: gaps.length,
      batches_refused_logged: refusedLogged,
      zombie_refused: zombieRefused,
      zombie_appends: zombieAppends.length,
      consumer_crashes_logged: consumerCrashes,
      verify: verify.code === 0 ? 'VERIFIED' : `exit ${verify.code}`,
    });

    expect(faults).toHaveLength(FAULTS);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(rows.length).toBe(DISTINCT);
    expect(shape.problems).toEqual([]);
    expect(shape.shards).toHaveLength(PARTITIONS);
    expect(q.CONFLICT).toEqual({ n: CONFLICTS, offsets: CONFLICTS });
    expect(q.POISON).toEqual({ n: POISON, offsets: POISON });
    expect(gaps).toEqual([]);
    expect(zombieAppends).toEqual([]);
    expect(verify.out).toContain(`VERIFIED: ${DISTINCT} records in ${PARTITIONS} shards`);
    expect(verify.code).toBe(0);
    for (const i of live) expect({ instance: i.name, alive: i.svc.alive() }).toEqual({ instance: i.name, alive: true });
  });
});
