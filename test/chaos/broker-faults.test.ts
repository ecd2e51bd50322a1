import { jest } from '@jest/globals';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { buildWorkload } from '../support/workload.js';
import {
  FULL,
  PacedProducer,
  highWatermarks,
  ledgerShape,
  offsetGapLines,
  scaled,
  sleep,
  startService,
  summary,
  tapTopic,
  verifyCli,
  waitConsumed,
  type ChaosService,
} from '../support/chaos-kit.js';

/**
 * Broker faults. Three dev brokers (librdkafka's mock cluster) and its fault injection through
 * the launcher: a partition leader down and up, injected Fetch, OffsetCommit, Heartbeat and
 * Produce errors, a leader moved, during ingest. The service must stay up, resume, and neither
 * lose nor double anything: every distinct event stored once, every Kafka copy of a poison or
 * conflicting message quarantined exactly once (the workload producer is not idempotent — the
 * broker cannot do that — so a retried send may legitimately put two copies in the log).
 */
jest.setTimeout(FULL ? 3_600_000 : 600_000);

const TOPIC = 'routing.decisions';
const GROUP = 'routing-ledger';
const DISTINCT = scaled(8000, 60_000);
const DUPLICATES = 200;
const CONFLICTS = 20;
const POISON = 24;

describe('chaos: broker outages and injected protocol errors', () => {
  let kafka: DevKafka;
  let db: TestDatabase;
  let svc: ChaosService | undefined;

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await kafka?.stop();
    await db?.drop();
  });

  it('resumes after every fault, nothing lost or doubled', async () => {
    kafka = await startDevKafka({
      brokers: 3,
      topics: [
        { name: TOPIC, partitions: 4 },
        { name: 'routing.decisions.dlq', partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    // Leaders spread over the brokers; the group coordinator stays on broker 1, which never goes down.
    for (const [p, b] of [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 2],
    ])
      await kafka.command(`leader ${TOPIC} ${p} ${b}`);
    await kafka.command('leader routing.decisions.dlq 0 1');
    await kafka.command('leader routing.checkpoints 0 1');
    await kafka.command(`coordinator group ${GROUP} 1`);

    db = await createTestDatabase('rl_chaos_broker');
    const workload = buildWorkload({
      total: DISTINCT + DUPLICATES + CONFLICTS + POISON,
      duplicates: DUPLICATES,
      conflicts: CONFLICTS,
      poison: POISON,
    });
    const messages = workload.map((m, i) => ({
      key: m.key,
      value: m.value,
      headers: { 'x-chaos-id': `${m.expect}:${i}` },
    }));
    const tap = await tapTopic(kafka.brokers, TOPIC);
    svc = await startService(
      await serviceEnv(
        { db, brokers: kafka.brokers },
        { MAX_MESSAGE_BYTES: String(64 * 1024), KAFKA_COMMIT_INTERVAL_MS: '500' },
      ),
    );
    const service = svc;
    let exited: string | undefined;
    void service.exited.then(({ code, signal }) => (exited = `exit ${code ?? signal}`));
    const stored = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n);

    // Production lasts as long as the faults do, so every fault meets live traffic: paced while
    // faults remain, and once the workload is exhausted it re-sends earlier valid messages (each a
    // redelivery the ledger must absorb as a duplicate). Without this the workload could end
    // before the last faults, and a caught-up consumer has nothing left to show progress on.
    const producer = new PacedProducer(kafka.brokers, db, { maxBacklog: 1500 });
    await producer.connect();
    let faultsDone = false;
    let redelivered = 0;
    const records = messages.filter((_, i) => workload[i].expect === 'record');
    const production = (async () => {
      for (let i = 0; i < messages.length; i += 100) {
        await producer.sendWithRetry(TOPIC, messages.slice(i, i + 100));
        await sleep(faultsDone ? 50 : FULL ? 60 : 400);
      }
      for (let j = 0; !faultsDone; j += 50) {
        const again = records
          .slice(j % records.length, (j % records.length) + 50)
          .map((m) => ({ ...m, headers: { 'x-chaos-id': 'redelivery' } }));
        await producer.sendWithRetry(TOPIC, again);
        redelivered += again.length;
        await sleep(250);
      }
    })();

    const faults: string[] = [];
    // Resumed = the ledger consumes everything the log held once the fault was lifted; production
    // goes on meanwhile, so this also needs fetch, commit and rebalance to work again.
    const progress = async (what: string) => {
      await waitConsumed(db, kafka.brokers, {
        timeoutMs: 120_000,
        stop: () => exited !== undefined,
        describe: () => `progress after ${what}\n${service.output().slice(-3000)}`,
      });
      if (exited) throw new Error(`service ${exited} after ${what}:\n${service.output().slice(-4000)}`);
    };
    const fault = async (name: string, commands: string[], holdMs: number, undo: string[] = []) => {
      for (const c of commands) await kafka.command(c);
      faults.push(name);
      await sleep(holdMs);
      for (const c of undo) await kafka.command(c);
      await progress(name);
    };

    await pollUntil(async () => (await stored()) > DISTINCT * 0.05, { timeoutMs: 120_000, what: 'ingest under way' });
    await fault('broker 2 down 3s (leads partitions 1, 3)', ['down 2'], 3000, ['up 2']);
    await fault(
      'Fetch NOT_LEADER x5 + REQUEST_TIMED_OUT x3',
      ['errors Fetch NOT_LEADER_FOR_PARTITION 5', 'errors Fetch REQUEST_TIMED_OUT 3'],
      2000,
    );
    await fault('Fetch _TRANSPORT x3 (connection dropped)', ['errors Fetch _TRANSPORT 3'], 1500);
    await fault(
      'OffsetCommit REQUEST_TIMED_OUT x3 + COORDINATOR_NOT_AVAILABLE x2',
      ['errors OffsetCommit REQUEST_TIMED_OUT 3', 'errors OffsetCommit 15 2'],
      3000,
    );
    await fault(
      'Heartbeat + OffsetCommit REBALANCE_IN_PROGRESS (rejoin, seek)',
      ['errors Heartbeat REBALANCE_IN_PROGRESS 2', 'errors OffsetCommit REBALANCE_IN_PROGRESS 2'],
      9000,
    );
    await fault(
      'Produce NOT_LEADER x3 + _TRANSPORT x2 (workload, DLQ and checkpoint producers)',
      ['errors Produce NOT_LEADER_FOR_PARTITION 3', 'errors Produce _TRANSPORT 2'],
      2000,
    );
    await fault('leader of partition 0 moved 1 -> 3', [`leader ${TOPIC} 0 3`], 2000);
    await fault('broker 3 down 2s (leads partitions 0, 2)', ['down 3'], 2000, ['up 3']);
    for (const api of ['Fetch', 'OffsetCommit', 'Heartbeat', 'Produce']) await kafka.command(`clear-errors ${api}`);
    faultsDone = true;

    await production;
    await producer.disconnect();
    await waitConsumed(db, kafka.brokers, {
      timeoutMs: 300_000,
      describe: () => `${exited ?? ''}\n${service.output().slice(-3000)}`,
    });
    const output = service.output();
    const exitedDuringRun = exited;
    await service.kill('SIGTERM');
    // The whole log as the broker holds it: how many copies of each message the producer left.
    await pollUntil(
      async () => {
        const highs = await highWatermarks(kafka.brokers, TOPIC);
        return tap.messages.length >= [...highs.values()].reduce((n, h) => n + Number(h), 0);
      },
      { timeoutMs: 60_000, what: 'the tap to read the whole topic' },
    );
    await tap.stop();
    const copies = new Map<string, number>();
    for (const m of tap.messages) copies.set(m.headers['x-chaos-id'], (copies.get(m.headers['x-chaos-id']) ?? 0) + 1);

    const distinct = new Set(workload.filter((m) => m.expect === 'record').map((m) => m.eventId!));
    const rows = await db.query<{ event_id: string }>('SELECT event_id FROM records');
    const ids = new Set(rows.map((r) => r.event_id));
    const missing = [...distinct].filter((id) => !ids.has(id));
    const quarantine = await db.query<{
      reason_code: string;
      event_id: string | null;
      chaos_id: string | null;
      partition: number;
      offset: string;
    }>(`SELECT reason_code, event_id, headers->>'x-chaos-id' AS chaos_id, partition, "offset" FROM quarantine`);
    const qOffsets = new Set(quarantine.map((q) => `${q.partition}/${q.offset}`));
    // Poison: quarantine rows per message equal its copies in the log.
    const poisonIds = workload
      .map((m, i) => (m.expect === 'poison' ? `poison:${i}` : undefined))
      .filter((x): x is string => x !== undefined);
    const poisonMismatch = poisonIds.filter(
      (id) => quarantine.filter((q) => q.chaos_id === id).length !== (copies.get(id) ?? 0) || !copies.get(id),
    );
    // Conflicts: quarantine rows per event id equal the copies of the conflicting message.
    const conflictIdx = workload.map((m, i) => (m.expect === 'conflict' ? i : -1)).filter((i) => i >= 0);
    const conflictMismatch = conflictIdx.filter(
      (i) =>
        quarantine.filter((q) => q.reason_code === 'CONFLICT' && q.event_id === workload[i].eventId).length !==
        (copies.get(`conflict:${i}`) ?? 0),
    );
    const logCopies = [...copies.values()].reduce((n, c) => n + c, 0);
    const workloadCopies = logCopies - (copies.get('redelivery') ?? 0);
    const shape = await ledgerShape(db);
    const verify = await verifyCli(db.url);

    summary('broker-faults', {
      brokers: 3,
      faults: faults.length,
      fault_list: faults.join(' | '),
      service_exits: exitedDuringRun ?? 0,
      messages_produced: workload.length,
      redelivered_while_faults_lasted: redelivered,
      copies_in_log: logCopies,
      producer_retry_duplicates: workloadCopies - workload.length,
      distinct_valid: distinct.size,
      stored: rows.length,
      missing: missing.length,
      quarantined: quarantine.length,
      quarantined_twice: quarantine.length - qOffsets.size,
      poison_accounted: `${poisonIds.length - poisonMismatch.length}/${poisonIds.length}`,
      conflicts_accounted: `${conflictIdx.length - conflictMismatch.length}/${conflictIdx.length}`,
      ledger_problems: shape.problems.length,
      offset_gaps_logged: offsetGapLines(output).length,
      verify: verify.code === 0 ? 'VERIFIED' : `exit ${verify.code}`,
    });

    expect(exitedDuringRun).toBeUndefined();
    expect(missing.slice(0, 10)).toEqual([]);
    expect(rows).toHaveLength(distinct.size);
    expect(quarantine.length).toBe(qOffsets.size);
    expect(poisonMismatch).toEqual([]);
    expect(conflictMismatch).toEqual([]);
    expect(shape.problems).toEqual([]);
    expect(offsetGapLines(output)).toEqual([]);
    expect(verify.code).toBe(0);
  });
});
