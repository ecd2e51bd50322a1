import kafkajs from 'kafkajs';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import type { Queryable } from './chaos-kit.js';
import { serviceEnv } from './service-env.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { validEvent } from './workload.js';

/**
 * Pieces of the tests that run several service instances in one consumer group: who owns
 * which partitions (from the services' "joined group" lines), a steady producer, and a watch on
 * the stored offsets that records when each partition's next batch was stored.
 */

const { Kafka, logLevel, Partitioners } = kafkajs;

/** A dev broker, a database and the service instances started against them. */
export interface GroupRun {
  kafka: DevKafka;
  db: TestDatabase;
  /** Every instance started, in order (stopped ones included). */
  services: ServiceProcess[];
  /** Starts one more instance: same database and data directory (so one signing key), its own port. */
  start(extra?: Record<string, string>): Promise<ServiceProcess>;
  /** The tail of every instance's output, for failure messages. */
  describe(): string;
  /** Resumes paused instances, stops every instance, the broker and the database. */
  stop(): Promise<void>;
}

export async function startGroupRun(
  dbPrefix: string,
  partitions: number,
  topic = 'routing.decisions',
): Promise<GroupRun> {
  const kafka = await startDevKafka({
    topics: [
      { name: topic, partitions },
      { name: `${topic}.dlq`, partitions: 1 },
      { name: 'routing.checkpoints', partitions: 1 },
    ],
  });
  const db = await createTestDatabase(dbPrefix);
  const services: ServiceProcess[] = [];
  const run = { db, brokers: kafka.brokers };
  return {
    kafka,
    db,
    services,
    async start(extra = {}) {
      const s = await startServiceProcess(await serviceEnv(run, { KAFKA_COMMIT_INTERVAL_MS: '1000', ...extra }));
      services.push(s);
      return s;
    },
    describe: () => services.map((s) => s.output().slice(-1500)).join('\n---\n'),
    async stop() {
      for (const s of services.splice(0)) {
        s.signal('SIGCONT');
        await s.stop();
      }
      await kafka.stop();
      await db.drop();
    },
  };
}

/** What the readers below need: a service, or a fuller record of its output than the service's own tail. */
export type Logged = Pick<ServiceProcess, 'output'>;

/** The partitions of the service's latest "joined group" log line; undefined before it joined. */
export function ownedPartitions(svc: Logged): number[] | undefined {
  const joins = [...svc.output().matchAll(/joined group \S+: \S+ partitions \[([\d, ]*)\]/g)];
  const last = joins.at(-1);
  if (!last) return undefined;
  return last[1].trim() === '' ? [] : last[1].split(',').map((p) => Number(p.trim()));
}

/** Whether `services` own every one of `partitions` partitions, each partition exactly once, every service some. */
export function sharedByAll(services: Logged[], partitions: number): boolean {
  const owned = services.map((s) => ownedPartitions(s) ?? []);
  const all = owned.flat();
  return owned.every((o) => o.length > 0) && all.length === partitions && new Set(all).size === partitions;
}

/** A JSON log line of the service, its `time` as epoch ms. */
export type LogLine = Record<string, unknown> & { time: number; msg: string; level: string };

/** The service's JSON log lines (other lines skipped). */
export function logLines(svc: Logged): LogLine[] {
  const out: LogLine[] = [];
  for (const line of svc.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as LogLine & { time: string | number };
      out.push({ ...l, time: typeof l.time === 'number' ? l.time : Date.parse(l.time) });
    } catch {
      // a line cut by the output buffer
    }
  }
  return out;
}

/** Produces `perSend` valid events every `everyMs` until stopped; `sent` counts what the broker acknowledged. */
export class SteadyFlow {
  sent = 0;
  private flowing = true;
  private done?: Promise<void>;
  private readonly producer;
  constructor(
    brokers: string[],
    private readonly topic: string,
    private readonly perSend = 50,
    private readonly everyMs = 100,
  ) {
    this.producer = new Kafka({ clientId: 'steady-flow', brokers, logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.done = (async () => {
      while (this.flowing) {
        const batch = Array.from({ length: this.perSend }, (_, k) => validEvent(this.sent + k));
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map((e) => ({ key: e.event_id, value: JSON.stringify(e) })),
        });
        this.sent += this.perSend;
        await new Promise((r) => setTimeout(r, this.everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.flowing = false;
    await this.done;
    await this.producer.disconnect();
  }
}

/** One stored-offset advance of a partition, seen by OffsetWatch at `at` (epoch ms). */
export interface OffsetAdvance {
  at: number;
  partition: number;
  nextOffset: bigint;
}

/** Polls consumed_offsets every `intervalMs` and keeps every advance it sees. */
export class OffsetWatch {
  readonly advances: OffsetAdvance[] = [];
  private readonly last = new Map<number, bigint>();
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly db: Queryable,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    const tick = async () => {
      const rows = await this.db
        .query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM consumed_offsets')
        .catch(() => []);
      const at = Date.now();
      for (const r of rows) {
        const next = BigInt(r.next_offset);
        if (next !== this.last.get(r.partition)) this.advances.push({ at, partition: r.partition, nextOffset: next });
        this.last.set(r.partition, next);
      }
      this.timer = setTimeout(() => void tick(), this.intervalMs);
    };
    void tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The first advance of one of `partitions` seen after `after` (epoch ms). */
  firstAdvanceAfter(partitions: number[], after: number): OffsetAdvance | undefined {
    return this.advances.find((a) => a.at > after && partitions.includes(a.partition));
  }

  /** The longest time in [from, to] with no partition advancing. */
  longestStall(from: number, to: number): number {
    let prev = from;
    let longest = 0;
    for (const a of this.advances) {
      if (a.at <= from) continue;
      if (a.at > to) break;
      longest = Math.max(longest, a.at - prev);
      prev = a.at;
    }
    return Math.max(longest, to - prev);
  }
}
