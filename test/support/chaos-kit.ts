import { appendFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import type { IHeaders, Message } from 'kafkajs';
import { pollUntil } from './poll-until.js';
import { readyStatus, startServiceProcess, type ServiceProcess, type StartServiceOptions } from './service-process.js';

/**
 * Shared pieces of the chaos suite (test/chaos): scale, seeded randomness, the summary file,
 * the service and CLIs as child processes, and Kafka helpers that respect the dev broker's
 * quirks (tools/dev-kafka/README.md).
 */

const { Kafka, logLevel, CompressionTypes } = kafkajs;

/** `CHAOS_SCALE=full` selects the full sizes; the default keeps CI within minutes. */
export const FULL = process.env.CHAOS_SCALE === 'full';
export function scaled<T>(ci: T, full: T): T {
  return FULL ? full : ci;
}

/** Built service tree: `dist/` (npm run build) unless CHAOS_DIST names another build of the same sources. */
export const DIST = process.env.CHAOS_DIST ?? join(process.cwd(), 'dist');

/** mulberry32: small, seeded, reproducible. The seed is printed in every summary line. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);

const SUMMARY_FILE = join(process.cwd(), 'test', 'chaos', 'summary.txt');

/** One line of counts per test, on stdout and appended to test/chaos/summary.txt. */
export function summary(test: string, counts: Record<string, unknown>): void {
  const body = Object.entries(counts)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  const line = `${new Date().toISOString()} [chaos:${test}] scale=${FULL ? 'full' : 'ci'} seed=${SEED} ${body}\n`;
  process.stdout.write(line);
  appendFileSync(SUMMARY_FILE, line);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The service as a child process

/** The service (service-process.ts) run from the chaos suite's build, DIST. */
export type ChaosService = ServiceProcess;

export function startService(
  env: Record<string, string>,
  opts: Omit<StartServiceOptions, 'entry'> = {},
): Promise<ChaosService> {
  return startServiceProcess(env, { ...opts, entry: join(DIST, 'main.js') });
}

export { readyStatus };

/** `npm run verify` against a database: exit code and stdout+stderr. */
export function verifyCli(databaseUrl: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(DIST, 'src', 'cli', 'verify.js')],
      { env: { ...process.env, DATABASE_URL: databaseUrl }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 99) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Kafka

export function kafkaFor(brokers: string[], clientId = 'chaos') {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, retries: 10 } });
}

export async function highWatermarks(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  const admin = kafkaFor(brokers, 'chaos-admin').admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

export async function lowWatermarks(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  const admin = kafkaFor(brokers, 'chaos-admin').admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.low)]));
  } finally {
    await admin.disconnect();
  }
}

export interface Queryable {
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** next_offset per partition as the ledger stored it (the truth about what was consumed). */
export async function consumedOffsets(db: Queryable, topic = 'routing.decisions'): Promise<Map<number, bigint>> {
  const rows = await db.query<{ partition: number; next_offset: string }>(
    'SELECT partition, next_offset FROM consumed_offsets WHERE topic = $1',
    [topic],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/**
 * Waits until the stored offsets of every partition reach the topic's high watermarks as they
 * stand now (at or past them: production may go on meanwhile); `stop` ends the wait early.
 */
export async function waitConsumed(
  db: Queryable,
  brokers: string[],
  opts: { topic?: string; timeoutMs?: number; describe?: () => string; stop?: () => boolean } = {},
): Promise<void> {
  const topic = opts.topic ?? 'routing.decisions';
  const highs = await highWatermarks(brokers, topic);
  let last = new Map<number, bigint>();
  await pollUntil(
    async () => {
      last = await consumedOffsets(db, topic).catch(() => last);
      return opts.stop?.() || [...highs].every(([p, high]) => high === 0n || (last.get(p) ?? 0n) >= high);
    },
    {
      timeoutMs: opts.timeoutMs ?? 180_000,
      intervalMs: 250,
      what: () => `consumed ${fmt(last)} to reach ${fmt(highs)}\n${opts.describe?.() ?? ''}`,
    },
  );
}

const fmt = (m: Map<number, bigint>) => JSON.stringify(Object.fromEntries([...m].map(([k, v]) => [k, String(v)])));

/**
 * A producer that keeps the unconsumed backlog of every partition under `maxBacklog`
 * messages, so the dev broker's 5 MiB retention never trims what the ledger has not read,
 * however long the service is down. Messages carry their key; kafkajs' default partitioner
 * spreads them over the partitions.
 */
export class PacedProducer {
  private readonly producer;
  sent = 0;
  constructor(
    private readonly brokers: string[],
    private readonly db: Queryable,
    private readonly opts: { topic?: string; maxBacklog: number; chunk?: number; gzip?: boolean; stallMs?: number },
  ) {
    this.producer = kafkaFor(brokers, 'chaos-producer').producer({ allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  /** Sends everything in order, `chunk` at a time, waiting whenever a partition's backlog is full. */
  async sendAll(messages: Message[], stop: () => boolean = () => false): Promise<void> {
    const topic = this.opts.topic ?? 'routing.decisions';
    const chunk = this.opts.chunk ?? 200;
    for (let i = 0; i < messages.length && !stop(); i += chunk) {
      await this.waitBacklog(topic, stop);
      await this.sendWithRetry(topic, messages.slice(i, i + chunk));
      this.sent = Math.min(messages.length, i + chunk);
    }
  }

  /** Retries whole sends: a send that failed after the broker appended it re-sends (a duplicate, which the ledger must absorb). */
  async sendWithRetry(topic: string, messages: Message[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.producer.send({
          topic,
          acks: -1,
          messages,
          ...(this.opts.gzip ? { compression: CompressionTypes.GZIP } : {}),
        });
        return;
      } catch (e) {
        if (attempt >= 20) throw e;
        await sleep(500);
      }
    }
  }

  /** Waits for room; throws when the ledger makes no progress for `stallMs` (the consumer is stuck). */
  private async waitBacklog(topic: string, stop: () => boolean): Promise<void> {
    let lastProgress = Date.now();
    let lastConsumed = '';
    for (;;) {
      if (stop()) return;
      const [highs, consumed] = await Promise.all([
        highWatermarks(this.brokers, topic).catch(() => undefined),
        consumedOffsets(this.db, topic).catch(() => undefined),
      ]);
      if (highs && consumed) {
        const worst = Math.max(0, ...[...highs].map(([p, h]) => Number(h - (consumed.get(p) ?? 0n))));
        if (worst < this.opts.maxBacklog) return;
        if (fmt(consumed) !== lastConsumed) {
          lastConsumed = fmt(consumed);
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > (this.opts.stallMs ?? 180_000)) {
          throw new Error(
            `the ledger consumed nothing for ${this.opts.stallMs ?? 180_000} ms: stored offsets ${lastConsumed}, high watermarks ${fmt(highs)}`,
          );
        }
      }
      await sleep(100);
    }
  }
}

export interface TappedMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning, continuously, into memory: the DLQ must be read while the
 * test runs, because the dev broker trims it at 5 MiB per partition.
 */
export async function tapTopic(
  brokers: string[],
  topic: string,
): Promise<{ messages: TappedMessage[]; stop(): Promise<void> }> {
  const consumer = kafkaFor(brokers, 'chaos-tap').consumer({
    groupId: `chaos-tap-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
  });
  const messages: TappedMessage[] = [];
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      messages.push({
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: message.value,
        headers: stringHeaders(message.headers),
      });
    },
  });
  await pollUntil(() => joined, { timeoutMs: 30_000, what: `tap of ${topic} to join` });
  return { messages, stop: () => consumer.disconnect() };
}

export function stringHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ledger checks shared by the crash, database and broker tests

export interface LedgerShape {
  records: number;
  distinctEventIds: number;
  shards: Array<{
    shard: number;
    n: number;
    min: number;
    max: number;
    head: number;
    checkpoint: number;
    checkpoints: number;
  }>;
  problems: string[];
}

/** Gap-free shards (leaf indexes 0..n-1), heads equal to record counts, a checkpoint at every head. */
export async function ledgerShape(db: Queryable): Promise<LedgerShape> {
  const [{ n, d }] = await db.query<{ n: string; d: string }>(
    'SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM records',
  );
  const rows = await db.query<{
    shard: number;
    n: string;
    min: string;
    max: string;
    head: string | null;
    cp: string | null;
    cps: string;
  }>(
    `SELECT r.shard, count(*) AS n, min(r.leaf_index) AS min, max(r.leaf_index) AS max,
            (SELECT tree_size FROM shard_heads h WHERE h.shard = r.shard) AS head,
            (SELECT max(tree_size) FROM checkpoints c WHERE c.shard = r.shard) AS cp,
            (SELECT count(*) FROM checkpoints c WHERE c.shard = r.shard) AS cps
     FROM records r GROUP BY r.shard ORDER BY r.shard`,
  );
  const shards = rows.map((r) => ({
    shard: r.shard,
    n: Number(r.n),
    min: Number(r.min),
    max: Number(r.max),
    head: Number(r.head),
    checkpoint: Number(r.cp),
    checkpoints: Number(r.cps),
  }));
  const problems: string[] = [];
  for (const s of shards) {
    if (s.min !== 0 || s.max !== s.n - 1)
      problems.push(`shard ${s.shard}: leaf indexes ${s.min}..${s.max} for ${s.n} records`);
    if (s.head !== s.n) problems.push(`shard ${s.shard}: head says ${s.head}, ${s.n} records`);
    if (s.checkpoint !== s.n) problems.push(`shard ${s.shard}: latest checkpoint at ${s.checkpoint}, ${s.n} records`);
  }
  if (Number(n) !== Number(d)) problems.push(`${n} records but ${d} distinct event ids`);
  return { records: Number(n), distinctEventIds: Number(d), shards, problems };
}

/** Lines of the service output that report lost offsets (the broker trimmed unread data). */
export function offsetGapLines(output: string): string[] {
  return output.split('\n').filter((l) => /no longer had the messages/.test(l));
}
