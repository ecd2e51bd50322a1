import { mkdir } from 'node:fs/promises';
import kafkajs from 'kafkajs';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { mintToken } from '../../src/auth/token-mint.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { pollUntil } from './poll-until.js';
import { serviceEnv } from './service-env.js';

const { Kafka, logLevel } = kafkajs;

/**
 * One isolated ledger for an integration test: a fresh dev Kafka broker with the three topics,
 * a fresh migrated database, and the service (`node dist/main.js`, so `npm run build` first) as a
 * child process. Produce, wait until the consumer's stored offsets reach the high watermarks,
 * then read PostgreSQL (pattern of ingest-exactly-once.test.ts).
 */

export const TOPIC = 'routing.decisions';
export const DLQ = 'routing.decisions.dlq';
export const CHECKPOINTS = 'routing.checkpoints';

export interface LedgerRun {
  kafka: DevKafka;
  db: TestDatabase;
  env: Record<string, string>;
  svc: ServiceProcess;
  baseUrl: string;
  stop(): Promise<void>;
}

export interface ProducedMessage {
  key?: string | null;
  value: Buffer;
  headers?: Record<string, string>;
}

export async function startLedgerRun(
  opts: { partitions?: number; env?: Record<string, string> } = {},
): Promise<LedgerRun> {
  const kafka = await startDevKafka({
    topics: [
      { name: TOPIC, partitions: opts.partitions ?? 2 },
      { name: DLQ, partitions: 1 },
      { name: CHECKPOINTS, partitions: 1 },
    ],
  });
  const db = await createTestDatabase('rl_adapters');
  const env = await serviceEnv(
    { db, brokers: kafka.brokers },
    {
      MAX_MESSAGE_BYTES: String(256 * 1024),
      KAFKA_COMMIT_INTERVAL_MS: '1000',
      // Strict tenancy unless a test asks otherwise: a tenantless payload stays an error the adapter
      // tests can see (test/integration/tenant-resolution.test.ts covers the default tenant).
      DEFAULT_TENANT: '',
      ...opts.env,
    },
  );
  let svc: ServiceProcess;
  try {
    svc = await startServiceProcess(env);
  } catch (e) {
    await kafka.stop();
    await db.drop();
    throw e;
  }
  return {
    kafka,
    db,
    env,
    svc,
    baseUrl: `http://127.0.0.1:${env.PORT}`,
    stop: async () => {
      await svc.kill('SIGTERM');
      await kafka.stop();
      await db.drop();
    },
  };
}

export async function produce(brokers: string[], messages: ProducedMessage[], topic = TOPIC): Promise<void> {
  const producer = new Kafka({ clientId: 'adapters-test', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers ?? {} })),
    });
  } finally {
    await producer.disconnect();
  }
}

export async function highWatermarks(brokers: string[], topic: string): Promise<Map<number, string>> {
  const admin = new Kafka({ clientId: 'adapters-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
  } finally {
    await admin.disconnect();
  }
}

/** Waits until every message now on the decisions topic is committed to PostgreSQL (records, quarantine and offsets). */
export async function waitConsumed(run: LedgerRun, timeoutMs = 120_000): Promise<void> {
  const highs = await highWatermarks(run.kafka.brokers, TOPIC);
  await pollUntil(
    async () => {
      const rows = await run.db.query<{ partition: number; next_offset: string }>(
        'SELECT partition, next_offset FROM consumed_offsets WHERE topic = $1',
        [TOPIC],
      );
      return [...highs].every(([p, high]) => high === '0' || rows.find((r) => r.partition === p)?.next_offset === high);
    },
    {
      timeoutMs,
      intervalMs: 250,
      what: () => `the decisions topic consumed up to ${JSON.stringify([...highs])}\n${run.svc.output().slice(-3000)}`,
    },
  );
}

/** Waits until the decisions topic holds at least `count` messages in all (bridges produce asynchronously to the caller). */
export async function waitTopicCount(run: LedgerRun, count: number, timeoutMs = 60_000): Promise<void> {
  await pollUntil(
    async () =>
      [...(await highWatermarks(run.kafka.brokers, TOPIC)).values()].reduce((n, h) => n + Number(h), 0) >= count,
    {
      timeoutMs,
      what: `${count} messages on ${TOPIC}`,
    },
  );
}

export interface TopicMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Every message on `topic` (up to the high watermarks taken now). */
export async function readTopic(brokers: string[], topic: string): Promise<TopicMessage[]> {
  const highs = await highWatermarks(brokers, topic);
  const total = [...highs.values()].reduce((n, h) => n + Number(h), 0);
  const out: TopicMessage[] = [];
  if (total === 0) return out;
  const consumer = new Kafka({ clientId: 'adapters-test-reader', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random()}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[0] : v);
        out.push({
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value,
          headers,
        });
      },
    });
    await pollUntil(() => out.length >= total, { timeoutMs: 60_000, what: `${total} messages from ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

export async function ledgerRecords(db: TestDatabase): Promise<CanonicalRecord[]> {
  return (await db.query<{ record: string }>('SELECT record FROM records ORDER BY shard, leaf_index')).map(
    (r) => JSON.parse(r.record) as CanonicalRecord,
  );
}

export interface QuarantineRow {
  reason_code: string;
  reason: string;
  event_id: string | null;
  payload: Buffer;
  headers: Record<string, string>;
}

export async function quarantineRows(db: TestDatabase): Promise<QuarantineRow[]> {
  return db.query<QuarantineRow>('SELECT reason_code, reason, event_id, payload, headers FROM quarantine ORDER BY id');
}

/**
 * Every table of the public schema as text, one line per row: bytea as UTF-8 (what a secret in
 * a stored payload would look like), jsonb and arrays as JSON. Tables are enumerated, not listed,
 * so a table added later is searched too.
 */
export async function dumpDatabaseText(db: TestDatabase): Promise<string> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const lines: string[] = [];
  for (const { table_name } of tables) {
    const rows = await db.query(`SELECT * FROM "${table_name}"`);
    for (const row of rows) {
      lines.push(
        `${table_name}: ${JSON.stringify(row, (_k, v: unknown) => {
          if (
            v &&
            typeof v === 'object' &&
            (v as { type?: string }).type === 'Buffer' &&
            Array.isArray((v as { data?: unknown }).data)
          )
            return Buffer.from((v as { data: number[] }).data).toString('utf8');
          return v;
        })}`,
      );
    }
  }
  return lines.join('\n');
}

/** An admin bearer token signed by the service's development key (DATA_DIR), for @Roles('admin') routes. */
export async function adminToken(run: LedgerRun): Promise<string> {
  await mkdir(run.env.DATA_DIR, { recursive: true });
  const key = await loadOrCreateDevAuthKey(run.env.DATA_DIR);
  return mintToken(
    key,
    { subject: 'adapters-test', roles: ['admin'], tenants: ['*'] },
    { issuer: 'routing-ledger', audience: 'routing-ledger-api', ttlSeconds: 3600 },
  );
}

/** POSTs raw bytes; returns status and parsed JSON body (or text). */
export async function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}
