import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { verifyReceipt, type Receipt } from '../../src/domain/receipt/receipt.js';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(300_000);
const run = promisify(execFile);
const TOPIC = 'routing.decisions';
const EVENTS = 2000;

/** `npm run verify` against the test database: exit code and output. */
async function verifyCli(db: TestDatabase): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ['dist/src/cli/verify.js'], {
      env: { ...process.env, DATABASE_URL: db.url },
    });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

/** Superuser edit with the append-only triggers disabled: what an attacker with DB access can do. */
async function tamper(db: TestDatabase, sql: string, params: unknown[] = []): Promise<void> {
  await db.query(
    `BEGIN; SET LOCAL session_replication_role = replica; ${sql.replace(/\$1/g, `'${String(params[0])}'`)}; COMMIT;`,
  );
}

describe('ledger: receipts verify with the JWKS alone; tampering is found and named', () => {
  let kafka: DevKafka;
  let db: TestDatabase;
  let svc: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    kafka = await startDevKafka({
      topics: [
        { name: TOPIC, partitions: 3 },
        { name: 'routing.decisions.dlq', partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    db = await createTestDatabase();
    svc = await startServiceProcess(await serviceEnv({ db, brokers: kafka.brokers }));
    base = `http://127.0.0.1:${svc.port}`;
    const producer = new kafkajs.Kafka({
      clientId: 't',
      brokers: kafka.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).producer();
    await producer.connect();
    for (let i = 0; i < EVENTS; i += 200) {
      await producer.send({
        topic: TOPIC,
        messages: Array.from({ length: 200 }, (_, k) => {
          const e = validEvent(i + k);
          return { key: e.request_id, value: JSON.stringify(e) };
        }),
      });
    }
    await producer.disconnect();
    await pollUntil(
      async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n) === EVENTS,
      { timeoutMs: 120_000, what: `${EVENTS} records` },
    );
    await svc.kill('SIGTERM');
  });

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    await kafka?.stop();
    await db?.drop();
  });

  it('published every stored checkpoint on the checkpoints topic, in order per shard, before it stopped', async () => {
    const stored = await db.query<{ shard: number; tree_size: string; prev_tree_size: string | null }>(
      'SELECT shard, tree_size, prev_tree_size FROM checkpoints ORDER BY shard, tree_size',
    );
    expect(stored.length).toBeGreaterThan(3);
    const published: Array<{ shard: number; tree_size: number; prev_tree_size: number | null }> = [];
    const consumer = new kafkajs.Kafka({
      clientId: 't',
      brokers: kafka.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).consumer({ groupId: 'checkpoint-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'routing.checkpoints', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const m = JSON.parse(message.value!.toString()) as { jws: string; prev_tree_size: number | null };
          const payload = JSON.parse(Buffer.from(m.jws.split('.')[1], 'base64url').toString()) as {
            shard: number;
            tree_size: number;
          };
          expect(message.key?.toString()).toBe(String(payload.shard));
          published.push({ shard: payload.shard, tree_size: payload.tree_size, prev_tree_size: m.prev_tree_size });
        },
      });
      await pollUntil(() => published.length >= stored.length, {
        timeoutMs: 60_000,
        what: () => `${stored.length} checkpoints published (${published.length} read)`,
      });
    } finally {
      await consumer.disconnect();
    }
    // One partition: the topic's order is the order of sending, which per shard must be the ledger's.
    const byShard = (shard: number) => published.filter((p) => p.shard === shard);
    for (const shard of new Set(stored.map((c) => c.shard))) {
      expect(byShard(shard)).toEqual(
        stored
          .filter((c) => c.shard === shard)
          .map((c) => ({
            shard,
            tree_size: Number(c.tree_size),
            prev_tree_size: c.prev_tree_size === null ? null : Number(c.prev_tree_size),
          })),
      );
    }
    expect(published).toHaveLength(stored.length);
  });

  it('serves receipts that verify offline against the published JWKS', async () => {
    svc = await startServiceProcess(await serviceEnv({ db, brokers: kafka.brokers }));
    base = `http://127.0.0.1:${svc.port}`;
    const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
    for (const id of ['evt-000000', 'evt-000777', 'evt-001999']) {
      const receipt = (await (await fetch(`${base}/v1/records/${id}/receipt`)).json()) as Receipt;
      const { checkpoint } = await verifyReceipt(receipt, jwks as never);
      expect(checkpoint.tree_size).toBe(receipt.tree_size);
      // A receipt whose record was altered in transit fails.
      const forged = structuredClone(receipt);
      (forged.entry.record as { provider?: string }).provider = 'someone-else';
      await expect(verifyReceipt(forged, jwks as never)).rejects.toThrow();
    }
    const missing = await fetch(`${base}/v1/records/no-such-event/receipt`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const consistency = (await (await fetch(`${base}/v1/ledger/checkpoints`)).json()) as {
      latest: Array<{ shard: number; tree_size: number }>;
    };
    expect(consistency.latest.reduce((n, c) => n + c.tree_size, 0)).toBe(EVENTS);
  });

  it('verifies clean, then names the record edited with superuser SQL', async () => {
    const clean = await verifyCli(db);
    expect(clean.out).toContain(`VERIFIED: ${EVENTS} records`);
    expect(clean.code).toBe(0);

    const [victim] = await db.query<{ event_id: string }>("SELECT event_id FROM records WHERE event_id = 'evt-001234'");
    await tamper(
      db,
      `UPDATE records SET record = jsonb_set(record::jsonb, '{provider}', '"cheaper-provider"')::text WHERE event_id = $1`,
      [victim.event_id],
    );
    const edited = await verifyCli(db);
    expect(edited.code).toBe(1);
    expect(edited.out).toMatch(/TAMPERED: .*First: \[LEAF_HASH_MISMATCH\] shard \d+ leaf \d+ record evt-001234/);
  });

  it('names the first record after a deletion, and refuses plain UPDATE/DELETE/TRUNCATE', async () => {
    await expect(db.query("UPDATE records SET provider = 'x' WHERE event_id = 'evt-000001'")).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('DELETE FROM merkle_tiles')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE checkpoints')).rejects.toThrow(/append-only/);
    await expect(
      db.query("SET ROLE routing_ledger_app; DELETE FROM records WHERE event_id = 'evt-000001'"),
    ).rejects.toThrow(/permission denied/);
    await db.query('RESET ROLE');

    const [row] = await db.query<{ shard: number; leaf_index: string }>(
      "SELECT shard, leaf_index FROM records WHERE event_id = 'evt-000500'",
    );
    const [next] = await db.query<{ event_id: string }>(
      'SELECT event_id FROM records WHERE shard = $1 AND leaf_index = $2',
      [row.shard, Number(row.leaf_index) + 1],
    );
    await tamper(db, 'DELETE FROM records WHERE event_id = $1', ['evt-000500']);
    const out = await verifyCli(db);
    expect(out.code).toBe(1);
    expect(out.out).toContain('LEAF_INDEX_GAP');
    expect(out.out).toContain(next.event_id);
  });
});
