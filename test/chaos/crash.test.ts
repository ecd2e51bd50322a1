import { jest } from '@jest/globals';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { buildWorkload } from '../support/workload.js';
import {
  FULL,
  PacedProducer,
  SEED,
  ledgerShape,
  offsetGapLines,
  rng,
  scaled,
  sleep,
  startService,
  summary,
  verifyCli,
  waitConsumed,
  type ChaosService,
} from '../support/chaos-kit.js';

/**
 * Crash recovery. The service runs as a child process while the workload is produced; it is
 * SIGKILLed at random points (most mid-ingest at a random stored-record count, every third
 * while it is still starting up: migrations, key loading, group join) and restarted. After
 * the last restart the ledger must hold every distinct valid event exactly once, in gap-free
 * shards, with every conflict and poison message quarantined exactly once, and pass full
 * verification.
 */
jest.setTimeout(FULL ? 3_600_000 : 600_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 8;
const DISTINCT = scaled(20_000, 200_000);
const KILLS = scaled(5, 20);
const DUPLICATES = Math.round(DISTINCT * 0.02);
const CONFLICTS = Math.round(DISTINCT * 0.0025);
const POISON = Math.round(DISTINCT * 0.0025);

describe('chaos: SIGKILL at random points while ingesting', () => {
  let kafka: DevKafka;
  let db: TestDatabase;
  let svc: ChaosService | undefined;
  const outputs: string[] = [];

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await kafka?.stop();
    await db?.drop();
  });

  it(`stores ${DISTINCT} distinct events exactly once across ${KILLS} kills`, async () => {
    const random = rng(SEED);
    const workload = buildWorkload({
      total: DISTINCT + DUPLICATES + CONFLICTS + POISON,
      duplicates: DUPLICATES,
      conflicts: CONFLICTS,
      poison: POISON,
    });
    const distinct = new Set(workload.filter((m) => m.expect === 'record').map((m) => m.eventId!));
    expect(distinct.size).toBe(DISTINCT);

    kafka = await startDevKafka({
      topics: [
        { name: TOPIC, partitions: PARTITIONS },
        { name: 'routing.decisions.dlq', partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    db = await createTestDatabase('rl_chaos_crash');
    const env = await serviceEnv(
      { db, brokers: kafka.brokers },
      // A decode worker too: batches of the paced producer's 400-message chunks go through it, so the
      // kills land while batches are on the worker as well as in the transaction.
      { MAX_MESSAGE_BYTES: String(64 * 1024), KAFKA_COMMIT_INTERVAL_MS: '1000', INGEST_DECODE_THREADS: '1' },
    );
    const stored = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n);

    svc = await startService(env);
    const producer = new PacedProducer(kafka.brokers, db, { maxBacklog: 1500, chunk: 400 });
    await producer.connect();
    let produced = false;
    let produceError: unknown;
    const producing = producer.sendAll(workload.map((m) => ({ key: m.key, value: m.value }))).then(
      () => (produced = true),
      (e) => (produceError = e),
    );

    // Kill points: stored-record counts spread at random over the run, in increasing order.
    const thresholds = Array.from({ length: KILLS }, () => Math.floor((0.03 + random() * 0.9) * DISTINCT)).sort(
      (a, b) => a - b,
    );
    const kills: Array<{ at: string; records: number; signal: string | null }> = [];
    for (let k = 0; k < KILLS; k++) {
      const early = k % 3 === 2;
      if (early) {
        // This process was started without waiting for /readyz: kill it while it is starting
        // up (migrations, key loading, group join, often the first batch).
        await sleep(200 + random() * 3500);
      } else {
        await pollUntil(async () => produceError !== undefined || (await stored()) >= thresholds[k], {
          timeoutMs: 300_000,
          intervalMs: 40,
          what: () => `${thresholds[k]} records before kill ${k + 1}\n${svc?.output().slice(-3000)}`,
        });
        if (produceError) throw produceError;
        await sleep(random() * 150);
      }
      const records = await stored();
      const wasAlive = svc.alive();
      outputs.push(svc.output());
      await svc.kill('SIGKILL');
      const { signal } = await svc.exited;
      kills.push({
        at: early ? 'startup' : 'ingest',
        records,
        signal: wasAlive ? signal : `already exited ${svc.child.exitCode}`,
      });
      expect(wasAlive).toBe(true);
      const nextEarly = k + 1 < KILLS && (k + 1) % 3 === 2;
      svc = await startService(env, { waitReady: !nextEarly, readyTimeoutMs: 90_000 });
    }

    await producing;
    if (produceError) throw produceError;
    expect(produced).toBe(true);
    await producer.disconnect();
    await waitConsumed(db, kafka.brokers, { timeoutMs: 600_000, describe: () => svc?.output().slice(-3000) ?? '' });
    outputs.push(svc.output());
    await svc.kill('SIGTERM');

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
    const gaps = outputs.flatMap(offsetGapLines);
    const checkpoints = shape.shards.reduce((n, s) => n + s.checkpoints, 0);

    summary('crash', {
      kills_survived: kills.length,
      kills_at: kills.map((k) => `${k.at}@${k.records}`).join(','),
      messages_produced: workload.length,
      distinct_valid_produced: DISTINCT,
      stored: rows.length,
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
      verify: verify.code === 0 ? 'VERIFIED' : `exit ${verify.code}`,
    });

    expect(kills).toHaveLength(KILLS);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(shape.problems).toEqual([]);
    expect(shape.shards).toHaveLength(PARTITIONS);
    expect(q.CONFLICT).toEqual({ n: CONFLICTS, offsets: CONFLICTS });
    expect(q.POISON).toEqual({ n: POISON, offsets: POISON });
    expect(gaps).toEqual([]);
    expect(verify.out).toContain(`VERIFIED: ${DISTINCT} records in ${PARTITIONS} shards`);
    expect(verify.code).toBe(0);
  });
});
