/**
 * In-process kafkajs consumers for the ceiling and the baseline, configured like the
 * service's (tools/dev-kafka/README.md: short fetch wait, 4 MiB per partition). Rates start
 * at GROUP_JOIN, so the broker's 3 s initial rebalance delay is excluded.
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, EachMessagePayload, Kafka } from 'kafkajs';
import { cpuDelta, cpuSnapshot, type CpuDelta, type CpuSnapshot } from './proc.js';

export const CONSUMER_DEFAULTS: Omit<ConsumerConfig, 'groupId'> = {
  allowAutoTopicCreation: false,
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxWaitTimeInMs: 100,
  sessionTimeout: 10_000,
  heartbeatInterval: 3000,
};

export interface ConsumeRun {
  events: number;
  /** From GROUP_JOIN to the last expected message handled. */
  seconds: number;
  eventsPerS: number;
  cpu: CpuDelta;
  batches: number;
}

/**
 * Consumes `topic` from the beginning with a fresh group until `expected` messages were
 * handled, then disconnects. `handler` receives each batch (eachBatch) or message (eachMessage).
 */
export async function consumeAll(
  kafka: Kafka,
  topic: string,
  expected: number,
  opts: {
    groupId: string;
    watch?: Record<string, number | undefined>;
    concurrency?: number;
    timeoutMs?: number;
  } & (
    { eachBatch: (p: EachBatchPayload) => Promise<void> } | { eachMessage: (p: EachMessagePayload) => Promise<void> }
  ),
): Promise<ConsumeRun> {
  const consumer: Consumer = kafka.consumer({ ...CONSUMER_DEFAULTS, groupId: opts.groupId });
  let joinedAt: CpuSnapshot | undefined;
  let done: CpuSnapshot | undefined;
  let handled = 0;
  let batches = 0;
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => {
    finish = res;
    fail = rej;
  });
  const count = (n: number) => {
    handled += n;
    if (!done && handled >= expected) {
      done = cpuSnapshot(opts.watch);
      finish();
    }
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt ??= cpuSnapshot(opts.watch);
  });
  consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const timer = setTimeout(
    () =>
      fail(
        new Error(`consumer ${opts.groupId}: ${handled} of ${expected} messages after ${opts.timeoutMs ?? 600_000} ms`),
      ),
    opts.timeoutMs ?? 600_000,
  );
  try {
    if ('eachBatch' in opts) {
      const each = opts.eachBatch;
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: opts.concurrency ?? 2,
        eachBatch: async (p) => {
          if (done) return;
          batches++;
          await each(p);
          count(p.batch.messages.length);
        },
      });
    } else {
      const each = opts.eachMessage;
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: opts.concurrency ?? 1,
        eachMessage: async (p) => {
          if (done) return;
          await each(p);
          count(1);
        },
      });
    }
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  const cpu = cpuDelta(joinedAt!, done!);
  return { events: handled, seconds: cpu.wallS, eventsPerS: handled / cpu.wallS, cpu, batches };
}
