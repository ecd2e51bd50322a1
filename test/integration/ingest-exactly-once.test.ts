import { jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { buildWorkload, POISON_KINDS, type WorkloadMessage } from '../support/workload.js';
import {
  storedAndRecomputedCostSummaries,
  storedAndRecomputedFindingSummaries,
  storedAndRecomputedSummaries,
} from '../support/summary-check.js';

const { Kafka, logLevel } = kafkajs;
jest.setTimeout(600_000);

const TOPIC = 'routing.decisions';
const DLQ = 'routing.decisions.dlq';
const PARTITIONS = 4;
const workload = buildWorkload({ total: 10_000, duplicates: 500, conflicts: 50, poison: 100 });

interface Run {
  kafka: DevKafka;
  db: TestDatabase;
  env: Record<string, string>;
}

async function setUpRun(): Promise<Run> {
  const kafka = await startDevKafka({
    topics: [
      { name: TOPIC, partitions: PARTITIONS },
      { name: DLQ, partitions: 1 },
      { name: 'routing.checkpoints', partitions: 1 },
    ],
  });
  const db = await createTestDatabase();
  const env = await serviceEnv(
    { db, brokers: kafka.brokers },
    { MAX_MESSAGE_BYTES: String(64 * 1024), KAFKA_COMMIT_INTERVAL_MS: '1000' },
  );
  return { kafka, db, env };
}

async function produce(brokers: string[], messages: WorkloadMessage[]): Promise<void> {
  const producer = new Kafka({ clientId: 'workload', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += 250) {
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: messages.slice(i, i + 250).map((m) => ({ key: m.key, value: m.value })),
    });
  }
  await producer.disconnect();
}

async function highWatermarks(brokers: string[], topic: string): Promise<Map<number, string>> {
  const admin = new Kafka({ clientId: 'workload-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
  } finally {
    await admin.disconnect();
  }
}

async function waitConsumed(run: Run, svc: () => ServiceProcess | undefined): Promise<void> {
  const highs = await highWatermarks(run.kafka.brokers, TOPIC);
  await pollUntil(
    async () => {
      const rows = await run.db.query<{ partition: number; next_offset: string }>(
        'SELECT partition, next_offset FROM consumed_offsets',
      );
      return [...highs].every(([p, high]) => rows.find((r) => r.partition === p)?.next_offset === high);
    },
    {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: () => `all partitions consumed up to ${JSON.stringify([...highs])}\n${svc()?.output().slice(-3000) ?? ''}`,
    },
  );
}

async function ledgerRows(db: TestDatabase) {
  return db.query<{ event_id: string; shard: number; leaf_index: string; tenant_seq: string; content: string }>(
    `SELECT event_id, shard, leaf_index, tenant_seq, encode(content_sha256, 'hex') AS content FROM records ORDER BY shard, leaf_index`,
  );
}

async function readDeadLetters(brokers: string[]): Promise<Array<{ code: string; reason: string; offset: string }>> {
  const consumer = new Kafka({ clientId: 'dlq-reader', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `dlq-reader-${Date.now()}`,
  });
  const seen: Array<{ code: string; reason: string; offset: string }> = [];
  const high = Number((await highWatermarks(brokers, DLQ)).get(0));
  await consumer.connect();
  await consumer.subscribe({ topic: DLQ, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({
        code: String(message.headers?.['x-dlq-reason-code']),
        reason: String(message.headers?.['x-dlq-reason']),
        offset: String(message.headers?.['x-dlq-source-offset']),
      });
    },
  });
  await pollUntil(() => seen.length >= high, { timeoutMs: 60_000, what: `${high} dead letters` });
  await consumer.disconnect();
  return seen;
}

describe('ingest: Kafka → validated records → PostgreSQL, exactly once', () => {
  const distinct = workload.filter((m) => m.expect === 'record');
  let first: Run;
  let firstRows: Awaited<ReturnType<typeof ledgerRows>>;

  afterAll(async () => {
    await first?.kafka.stop();
    await first?.db.drop();
  });

  it('stores exactly the distinct valid events; conflicts and poison go to quarantine and the DLQ with reasons', async () => {
    first = await setUpRun();
    const svc = await startServiceProcess(first.env);
    try {
      await produce(first.kafka.brokers, workload);
      await waitConsumed(first, () => svc);
    } finally {
      await svc.kill('SIGTERM');
    }
    firstRows = await ledgerRows(first.db);
    expect(firstRows.map((r) => r.event_id).sort()).toEqual(distinct.map((m) => m.eventId).sort());

    const quarantine = await first.db.query<{
      reason_code: string;
      reason: string;
      event_id: string | null;
      existing: string | null;
      incoming: string | null;
    }>(
      `SELECT reason_code, reason, event_id, encode(existing_sha256, 'hex') AS existing, encode(incoming_sha256, 'hex') AS incoming FROM quarantine`,
    );
    const conflicts = quarantine.filter((q) => q.reason_code === 'CONFLICT');
    expect(conflicts).toHaveLength(50);
    expect(new Set(conflicts.map((c) => c.event_id))).toEqual(
      new Set(workload.filter((m) => m.expect === 'conflict').map((m) => m.eventId)),
    );
    for (const c of conflicts) {
      expect(c.existing).toMatch(/^[0-9a-f]{64}$/);
      expect(c.incoming).toMatch(/^[0-9a-f]{64}$/);
      expect(c.existing).not.toBe(c.incoming);
    }
    const poison = quarantine.filter((q) => q.reason_code !== 'CONFLICT');
    expect(poison).toHaveLength(100);
    for (const p of poison) expect(p.reason.length).toBeGreaterThan(10);
    expect(new Set(poison.map((p) => p.reason_code)).size).toBeGreaterThanOrEqual(4);
    expect(POISON_KINDS.length).toBeGreaterThanOrEqual(8);

    const dlq = await readDeadLetters(first.kafka.brokers);
    expect(dlq).toHaveLength(150);
    expect(dlq.every((d) => d.reason.length > 10 && d.code.length > 0)).toBe(true);

    // The Merkle heads agree with the records, and every shard has a checkpoint at its head.
    const heads = await first.db.query<{ shard: number; tree_size: string; n: string; cp: string }>(
      `SELECT h.shard, h.tree_size, (SELECT count(*) FROM records r WHERE r.shard = h.shard) AS n,
              (SELECT max(tree_size) FROM checkpoints c WHERE c.shard = h.shard) AS cp FROM shard_heads h`,
    );
    expect(heads.length).toBe(PARTITIONS);
    for (const h of heads) {
      expect(h.tree_size).toBe(h.n);
      expect(h.cp).toBe(h.tree_size);
    }

    // The traffic summaries count exactly the stored records: duplicates and conflicts added nothing.
    const { stored, recomputed } = await storedAndRecomputedSummaries(first.db);
    expect(stored.reduce((n, r) => n + r.requests, 0)).toBe(distinct.length);
    expect(stored).toEqual(recomputed);
    const findings = await storedAndRecomputedFindingSummaries(first.db);
    expect(findings.stored.reduce((n, r) => n + r.requests, 0)).toBe(distinct.length);
    expect(findings.stored).toEqual(findings.recomputed);
    const costs = await storedAndRecomputedCostSummaries(first.db);
    expect(costs.stored.reduce((n, r) => n + r.requests, 0)).toBe(distinct.length);
    expect(costs.stored).toEqual(costs.recomputed);
  });

  it('ends in the same table, row for row, when the consumer is SIGKILLed mid-stream and restarted', async () => {
    expect(firstRows?.length).toBe(distinct.length);
    const run = await setUpRun();
    let svc: ServiceProcess | undefined;
    try {
      svc = await startServiceProcess(run.env);
      const kills = 3;
      const chunk = Math.ceil(workload.length / (kills + 1));
      for (let k = 0; k <= kills; k++) {
        await produce(run.kafka.brokers, workload.slice(k * chunk, (k + 1) * chunk));
        if (k === kills) break;
        // Let it get into the chunk, then kill it without warning, mid-batch if we are lucky.
        await pollUntil(
          async () =>
            Number((await run.db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n) > k * chunk * 0.5,
          { timeoutMs: 60_000, what: 'progress before kill' },
        );
        expect(await svc.kill('SIGKILL')).toBeNull();
        svc = await startServiceProcess(run.env);
      }
      await waitConsumed(run, () => svc);
      const rows = await ledgerRows(run.db);
      expect(rows).toEqual(firstRows);
      // Batches redelivered after each SIGKILL were counted once in the summaries too.
      const { stored, recomputed } = await storedAndRecomputedSummaries(run.db);
      expect(stored.reduce((n, r) => n + r.requests, 0)).toBe(distinct.length);
      expect(stored).toEqual(recomputed);
      const findings = await storedAndRecomputedFindingSummaries(run.db);
      expect(findings.stored.reduce((n, r) => n + r.requests, 0)).toBe(distinct.length);
      expect(findings.stored).toEqual(findings.recomputed);
      const costs = await storedAndRecomputedCostSummaries(run.db);
      expect(costs.stored.reduce((n, r) => n + r.requests, 0)).toBe(distinct.length);
      expect(costs.stored).toEqual(costs.recomputed);
      const q = await run.db.query<{ n: string }>(`SELECT count(*) AS n FROM quarantine`);
      expect(Number(q[0].n)).toBe(150);
    } finally {
      await svc?.kill('SIGTERM');
      await run.kafka.stop();
      await run.db.drop();
    }
  });
});
