import { jest } from '@jest/globals';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { runMigrations } from '../../src/database/migrate.js';
import { startPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { buildWorkload } from '../support/workload.js';
import {
  FULL,
  PacedProducer,
  ledgerShape,
  offsetGapLines,
  readyStatus,
  scaled,
  sleep,
  startService,
  summary,
  verifyCli,
  waitConsumed,
  type ChaosService,
  type Queryable,
} from '../support/chaos-kit.js';

/**
 * Database faults. A PostgreSQL cluster owned by the test (initdb in a temporary directory, a
 * spare port) is crashed (`pg_ctl stop -m immediate`) and restarted, stopped cleanly and
 * restarted, and made to refuse every TCP connection for 30 s (pg_hba `reject` + reload, TCP
 * backends terminated), all mid-ingest. /readyz must answer 503 while the database is
 * unreachable, the service must keep running, retry without hammering the server, resume by
 * itself, and lose nothing.
 */
jest.setTimeout(FULL ? 3_600_000 : 600_000);

const TOPIC = 'routing.decisions';
const DB = 'routing_ledger';
const DISTINCT = scaled(8000, 60_000);
const REFUSE_MS = 30_000;

describe('chaos: PostgreSQL crashes, restarts and refuses connections mid-ingest', () => {
  let pg: PgCluster;
  let kafka: DevKafka;
  let svc: ChaosService | undefined;

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await kafka?.stop();
    await pg?.destroy();
  });

  it('reports not-ready during outages, resumes by itself and loses nothing', async () => {
    pg = await startPgCluster();
    await pg.query('postgres', `CREATE DATABASE ${DB}`);
    await runMigrations(pg.url(DB));
    // The test looks through the Unix socket, which the TCP refusal leaves open.
    const db: Queryable = { query: (sql, params) => pg.query(DB, sql, params) };
    const workload = buildWorkload({ total: DISTINCT + 200 + 20 + 20, duplicates: 200, conflicts: 20, poison: 20 });
    kafka = await startDevKafka({
      topics: [
        { name: TOPIC, partitions: 4 },
        { name: 'routing.decisions.dlq', partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    svc = await startService(
      await serviceEnv(
        { db: { url: pg.url(DB), name: DB }, brokers: kafka.brokers, dataDir: `${pg.dir}/data-dir` },
        {
          MAX_MESSAGE_BYTES: String(64 * 1024),
          KAFKA_COMMIT_INTERVAL_MS: '1000',
        },
      ),
    );
    const service = svc;
    let exited: string | undefined;
    void service.exited.then(({ code, signal }) => (exited = `exit ${code ?? signal}`));
    const stored = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n);

    // Produce at a steady pace, so that ingest is under way during every fault.
    const producer = new PacedProducer(kafka.brokers, db, { maxBacklog: 1500, chunk: 100 });
    await producer.connect();
    let producing = true;
    const messages = workload.map((m) => ({ key: m.key, value: m.value }));
    const production = (async () => {
      for (let i = 0; i < messages.length; i += 100) {
        await producer.sendWithRetry(TOPIC, messages.slice(i, i + 100));
        await sleep(FULL ? 40 : 90);
      }
    })().finally(() => (producing = false));

    const faults: string[] = [];
    const readyDuring: Record<string, number[]> = {};
    /** /readyz once a second while `fault` lasts; the first `graceMs` may still see a live connection. */
    const watchReady = (fault: string, graceMs: number) => {
      const statuses: number[] = (readyDuring[fault] = []);
      const t0 = Date.now();
      let on = true;
      const loop = (async () => {
        while (on) {
          const s = await readyStatus(service);
          if (Date.now() - t0 > graceMs && on) statuses.push(s);
          await sleep(1000);
        }
      })();
      return async () => {
        on = false;
        await loop;
      };
    };

    // 1. Crash: no shutdown checkpoint, WAL recovery on start.
    await pollUntil(async () => (await stored()) > DISTINCT * 0.1, {
      timeoutMs: 120_000,
      what: 'ingest under way before the crash',
    });
    let stop = watchReady('crash', 1500);
    await pg.stop('immediate');
    faults.push(`crash@${Date.now()}`);
    await sleep(5000);
    await pg.start();
    await stop();
    await pollUntil(async () => (await readyStatus(service)) === 200, {
      timeoutMs: 60_000,
      what: () => `ready after the crash\n${service.output().slice(-2000)}`,
    });

    // 2. Clean stop and restart.
    const before = await stored();
    await pollUntil(async () => (await stored()) > before + 200, {
      timeoutMs: 120_000,
      what: () => `ingest resumed after the crash\n${service.output().slice(-2000)}`,
    });
    stop = watchReady('restart', 1500);
    await pg.stop('fast');
    faults.push(`restart@${Date.now()}`);
    await sleep(4000);
    await pg.start();
    await stop();
    await pollUntil(async () => (await readyStatus(service)) === 200, {
      timeoutMs: 60_000,
      what: () => `ready after the restart\n${service.output().slice(-2000)}`,
    });

    // 3. Every TCP connection refused for 30 s.
    const before2 = await stored();
    await pollUntil(async () => (await stored()) > before2 + 200, {
      timeoutMs: 120_000,
      what: () => `ingest resumed after the restart\n${service.output().slice(-2000)}`,
    });
    const logBefore = pg.log().length;
    stop = watchReady('refuse', 2000);
    await pg.rejectTcp();
    const refusedAt = Date.now();
    faults.push(`refuse@${refusedAt}`);
    const countAtRefusal = await stored();
    await sleep(REFUSE_MS);
    const countAtEnd = await stored();
    await stop();
    await pg.acceptTcp();
    const refusedAttempts = (
      pg
        .log()
        .slice(logBefore)
        .match(/pg_hba\.conf rejects connection/g) ?? []
    ).length;
    const readyAfterMs = await (async () => {
      const t = Date.now();
      await pollUntil(async () => (await readyStatus(service)) === 200, {
        timeoutMs: 90_000,
        what: () => `ready after the refusal\n${service.output().slice(-2000)}`,
      });
      return Date.now() - t;
    })();

    await production;
    expect(producing).toBe(false);
    await producer.disconnect();
    await waitConsumed(db, kafka.brokers, {
      timeoutMs: 300_000,
      describe: () => `${exited ?? ''}\n${service.output().slice(-3000)}`,
    });
    const output = service.output();
    const exitedDuringRun = exited;
    await service.kill('SIGTERM');

    const distinct = new Set(workload.filter((m) => m.expect === 'record').map((m) => m.eventId!));
    const rows = await db.query<{ event_id: string }>('SELECT event_id FROM records');
    const ids = new Set(rows.map((r) => r.event_id));
    const missing = [...distinct].filter((id) => !ids.has(id));
    const shape = await ledgerShape(db);
    const [q] = await db.query<{ conflicts: string; poison: string; offsets: string; n: string }>(
      `SELECT count(*) FILTER (WHERE reason_code = 'CONFLICT') AS conflicts, count(*) FILTER (WHERE reason_code <> 'CONFLICT') AS poison,
              count(DISTINCT (partition, "offset", event_id)) AS offsets, count(*) AS n FROM quarantine`,
    );
    const verify = await verifyCli(pg.url(DB));
    const notReady = (f: string) =>
      `${readyDuring[f].filter((s) => s === 503).length}/${readyDuring[f].length}(${[...new Set(readyDuring[f])].join(',')})`;

    summary('database-faults', {
      faults: 'crash(immediate)+restart(fast)+refuse-30s',
      service_exits: exitedDuringRun ?? 0,
      readyz_503_during_crash: notReady('crash'),
      readyz_503_during_restart: notReady('restart'),
      readyz_503_during_refusal: notReady('refuse'),
      records_appended_while_refused: countAtEnd - countAtRefusal,
      refused_connection_attempts_30s: refusedAttempts,
      ready_again_after_ms: readyAfterMs,
      events_produced: workload.length,
      distinct_valid: distinct.size,
      stored: rows.length,
      missing: missing.length,
      conflicts_quarantined: Number(q.conflicts),
      poison_quarantined: Number(q.poison),
      ledger_problems: shape.problems.length,
      offset_gaps_logged: offsetGapLines(output).length,
      verify: verify.code === 0 ? 'VERIFIED' : `exit ${verify.code}`,
    });

    expect(exitedDuringRun).toBeUndefined();
    for (const f of ['crash', 'restart', 'refuse']) {
      expect(readyDuring[f].length).toBeGreaterThan(0);
      expect(readyDuring[f].filter((s) => s !== 503)).toEqual([]);
    }
    expect(countAtEnd).toBe(countAtRefusal);
    // Backoff, not a busy loop: the pool's retries stay well under 10 attempts a second.
    expect(refusedAttempts).toBeLessThan(REFUSE_MS / 100);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(rows).toHaveLength(distinct.size);
    expect(shape.problems).toEqual([]);
    expect(Number(q.conflicts)).toBe(20);
    expect(Number(q.poison)).toBe(20);
    expect(offsetGapLines(output)).toEqual([]);
    expect(verify.code).toBe(0);
  });
});
