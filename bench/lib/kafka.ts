/**
 * Producing and watching the dev broker (tools/dev-kafka): preloading a topic in message sets
 * of a chosen size (one set per partition per send: the consumer's batch size on this broker),
 * GZIP so that a large backlog fits the broker's 5 MiB per partition, and trimming detection.
 */
import kafkajs from 'kafkajs';
import type { Kafka as KafkaT, Message, Producer } from 'kafkajs';
import { sleep } from './env.js';

const { Kafka, logLevel, CompressionTypes } = kafkajs;

export function kafkaClient(brokers: string[], clientId: string): KafkaT {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, retries: 8 } });
}

export interface TopicOffsets {
  partition: number;
  low: number;
  high: number;
}

export async function topicOffsets(kafka: KafkaT, topic: string): Promise<TopicOffsets[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic))
      .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** Compressed bytes the broker stores per event (gzip of one set), to size partitions. */
export const GZIP_BYTES_PER_EVENT_BUDGET = 260;
/** Stay well under the broker's 5 MiB per partition. */
export const PARTITION_BUDGET_BYTES = 4 * 1024 * 1024;

export interface PreloadResult {
  messages: number;
  sets: number;
  seconds: number;
  /** Partitions whose low watermark moved: the broker trimmed messages before anyone consumed them. */
  trimmed: TopicOffsets[];
}

/**
 * Sends `count` messages, `setSize` per partition per send, round-robin over partitions, so
 * every partition receives sets of exactly `setSize` (the last ones may be shorter).
 */
export async function preload(
  kafka: KafkaT,
  topic: string,
  partitions: number,
  count: number,
  setSize: number,
  message: (i: number) => Message,
  opts: { gzip: boolean },
): Promise<PreloadResult> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  let sets = 0;
  try {
    const perSend = setSize * partitions;
    for (let base = 0; base < count; base += perSend) {
      const messages: Message[] = [];
      for (let j = 0; j < perSend && base + j < count; j++)
        messages.push({ ...message(base + j), partition: j % partitions });
      await producer.send({
        topic,
        acks: -1,
        compression: opts.gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
      sets += Math.min(partitions, messages.length);
    }
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - started) / 1000;
  const offsets = await topicOffsets(kafka, topic);
  return { messages: count, sets, seconds, trimmed: offsets.filter((o) => o.low > 0) };
}

/**
 * Produces at a fixed rate for `durationMs`: every `tickMs` the messages due so far, spread
 * over the partitions, in one send. `message(i, now)` builds message i at send time.
 * Returns what was sent and the rate achieved (a slow send makes the next one bigger).
 */
export async function produceAtRate(
  producer: Producer,
  topic: string,
  partitions: number,
  ratePerS: number,
  durationMs: number,
  tickMs: number,
  message: (i: number, now: Date) => Message,
): Promise<{ sent: number; seconds: number; firstAt: Date; lastAt: Date }> {
  const started = performance.now();
  const firstAt = new Date();
  let lastAt = firstAt;
  let sent = 0;
  for (let tick = 0; ; tick++) {
    const target = started + tick * tickMs;
    const wait = target - performance.now();
    if (wait > 0) await sleep(wait);
    const elapsed = performance.now() - started;
    if (elapsed >= durationMs) break;
    const due = Math.floor((ratePerS * elapsed) / 1000) - sent;
    if (due <= 0) continue;
    const now = new Date();
    lastAt = now;
    const messages: Message[] = [];
    for (let j = 0; j < due; j++) messages.push({ ...message(sent + j, now), partition: (sent + j) % partitions });
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
    sent += due;
  }
  return { sent, seconds: (performance.now() - started) / 1000, firstAt, lastAt };
}

export { CompressionTypes };
