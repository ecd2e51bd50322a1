// Tests of the dev broker against the real launcher and kafkajs: no mocks. Each test starts its
// own broker and uses a fresh topic and group; consumers wait for GROUP_JOIN before anything is
// produced, and every wait polls with a deadline. A fresh group's join takes ~3 s against the
// mock and a rejoin of a group its last member just left takes sessionTimeout - 1 s (README.md).
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import kafkajs, { type Consumer, type Kafka as KafkaClient } from 'kafkajs';
import { ensureDevKafkaBuilt, startDevKafka, type DevKafka } from './dev-kafka.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

const TEST_TIMEOUT_MS = 90_000;
const WAIT_MS = 30_000;
/** The mock holds an empty fetch for the whole maxWaitTime, even when data arrives meanwhile. */
const MAX_WAIT_MS = 100;
/** Short, so that the rejoin of a group takes ~5 s rather than ~29 s. */
const SESSION_TIMEOUT_MS = 6_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

async function broker(opts: Parameters<typeof startDevKafka>[0]): Promise<DevKafka> {
  const dk = await startDevKafka(opts);
  cleanups.push(() => dk.stop());
  return dk;
}

function client(dk: DevKafka): KafkaClient {
  return new Kafka({ clientId: 'dev-kafka-spec', brokers: dk.brokers, logLevel: logLevel.NOTHING });
}

async function producerFor(kafka: KafkaClient) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  return producer;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

interface Received {
  value: string;
  partition: number;
  offset: string;
}

/**
 * Starts a consumer of `topic` in `groupId` (eachBatch, autoCommit off; with `commit`, the next
 * offset of each batch is committed after the batch) and resolves once it has joined the group.
 */
async function consume(
  kafka: KafkaClient,
  groupId: string,
  topic: string,
  into: Received[],
  commit = false,
): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: MAX_WAIT_MS,
  });
  cleanups.push(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let joined = false;
  const off = consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    off();
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const m of batch.messages) {
        into.push({ value: m.value?.toString() ?? '', partition: batch.partition, offset: m.offset });
        resolveOffset(m.offset);
      }
      if (commit && batch.messages.length > 0) {
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
      }
      await heartbeat();
    },
  });
  await until(`group ${groupId} to join`, () => joined);
  return consumer;
}

function messages(prefix: string, from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `${prefix}-${from + i}` }));
}

function values(prefix: string, from: number, count: number): string[] {
  return messages(prefix, from, count).map((m) => m.value);
}

function fresh(kind: string): string {
  return `${kind}-${randomUUID().slice(0, 8)}`;
}

describe('dev-kafka launcher', () => {
  it('builds to tools/dev-kafka/build/dev-kafka', () => {
    const binary = ensureDevKafkaBuilt();
    expect(binary).toMatch(/tools\/dev-kafka\/build\/dev-kafka$/);
    expect(() => accessSync(binary, constants.X_OK)).not.toThrow();
  });

  it('reports one bootstrap address per broker', async () => {
    const dk = await broker({ brokers: 3, topics: [] });
    expect(dk.brokers).toHaveLength(3);
    for (const b of dk.brokers) expect(b).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it(
    'delivers every message exactly once to a consumer group reading 3 partitions with eachBatch',
    async () => {
      const topic = fresh('t');
      const dk = await broker({ topics: [{ name: topic, partitions: 3 }] });
      const kafka = client(dk);
      const received: Received[] = [];
      await consume(kafka, fresh('g'), topic, received);

      const producer = await producerFor(kafka);
      const total = 3_000;
      for (let i = 0; i < total; i += 100) await producer.send({ topic, messages: messages('m', i, 100) });

      await until(`${total} messages`, () => received.length >= total);
      await sleep(500); // a duplicate would arrive in this time
      expect(received).toHaveLength(total);
      expect(new Set(received.map((r) => r.value))).toEqual(new Set(values('m', 0, total)));
      expect(new Set(received.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stores committed offsets, and a second consumer of the group resumes from them',
    async () => {
      const topic = fresh('t');
      const groupId = fresh('g');
      const dk = await broker({ topics: [{ name: topic, partitions: 3 }] });
      const kafka = client(dk);
      const admin = kafka.admin();
      await admin.connect();
      cleanups.push(() => admin.disconnect());
      const producer = await producerFor(kafka);

      const first: Received[] = [];
      const consumerA = await consume(kafka, groupId, topic, first, true);
      await producer.send({ topic, messages: messages('old', 0, 300) });
      await until('the first 300 messages', () => first.length >= 300);

      const ends = await admin.fetchTopicOffsets(topic);
      await until('the committed offsets to reach the end of each partition', async () => {
        const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return ends.every((e) => partitions.find((p) => p.partition === e.partition)?.offset === e.high);
      });
      await consumerA.disconnect();

      await producer.send({ topic, messages: messages('new', 0, 200) });
      const second: Received[] = [];
      await consume(kafka, groupId, topic, second, true);
      await until('the 200 new messages', () => second.length >= 200);
      await sleep(500);
      expect(first).toHaveLength(300);
      expect(second.map((r) => r.value).sort()).toEqual(values('new', 0, 200).sort());
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'delivers every message when a partition leader goes down and comes back during consumption',
    async () => {
      const topic = fresh('t');
      const groupId = fresh('g');
      const dk = await broker({ brokers: 3, topics: [{ name: topic, partitions: 3 }] });
      // Partition p is led by broker p+1; the group's coordinator stays up on broker 1.
      for (let p = 0; p < 3; p++) await dk.command(`leader ${topic} ${p} ${p + 1}`);
      await dk.command(`coordinator group ${groupId} 1`);
      const kafka = client(dk);
      const received: Received[] = [];
      await consume(kafka, groupId, topic, received);
      const producer = await producerFor(kafka);

      const batches = 30;
      const perBatch = 50;
      const producing = (async () => {
        for (let b = 0; b < batches; b++) {
          await producer.send({ topic, messages: messages('f', b * perBatch, perBatch) });
          await sleep(50);
        }
      })();
      await until('consumption to be under way', () => received.length >= 5 * perBatch);
      const onPartition1 = () => new Set(received.filter((r) => r.partition === 1).map((r) => r.offset)).size;
      await dk.command('down 2');
      await sleep(300); // a fetch already answered may still be delivered
      const outageStart = onPartition1();
      await sleep(1_500);
      const duringOutage = onPartition1();
      await dk.command('up 2');
      await producing;

      const total = batches * perBatch;
      await until(`all ${total} messages`, () => new Set(received.map((r) => r.value)).size >= total);
      expect(new Set(received.map((r) => r.value))).toEqual(new Set(values('f', 0, total)));
      expect(duringOutage).toBe(outageStart); // broker 2 really was unreachable
      expect(onPartition1()).toBeGreaterThan(duringOutage);
    },
    TEST_TIMEOUT_MS,
  );

  describe('a consumer group of several members (patches/mock-cgrp-multi-member.patch)', () => {
    const PARTITIONS = 8;

    interface Member {
      name: string;
      consumer: Consumer;
      received: Received[];
      /** Partitions of the last GROUP_JOIN; undefined before the first. */
      owned?: number[];
      crashes: string[];
    }

    /** Starts a member of `groupId` (committing after each batch) and waits for its GROUP_JOIN. */
    async function join(kafka: KafkaClient, groupId: string, topic: string, name: string): Promise<Member> {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: SESSION_TIMEOUT_MS,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: MAX_WAIT_MS,
      });
      const member: Member = { name, consumer, received: [], crashes: [] };
      consumer.on(
        consumer.events.GROUP_JOIN,
        (e) => (member.owned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)),
      );
      consumer.on(consumer.events.CRASH, (e) => member.crashes.push(e.payload.error.message));
      cleanups.push(() => consumer.disconnect());
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          for (const m of batch.messages) {
            member.received.push({ value: m.value?.toString() ?? '', partition: batch.partition, offset: m.offset });
            resolveOffset(m.offset);
          }
          if (batch.messages.length > 0) {
            await consumer.commitOffsets([
              { topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
            ]);
          }
          await heartbeat();
        },
      });
      await until(`${name} to join ${groupId}`, () => member.owned !== undefined);
      return member;
    }

    /** Every member owns at least one partition and every partition is owned by exactly one member. */
    function ownedByExactlyOne(members: Member[]): boolean {
      const owners = members.flatMap((m) => m.owned ?? []);
      return (
        members.every((m) => (m.owned?.length ?? 0) > 0) &&
        owners.length === PARTITIONS &&
        new Set(owners).size === PARTITIONS
      );
    }

    /** Produces `prefix-<n>` messages, 40 every 50 ms, until stopped; resolves to the count sent. */
    function keepProducing(producer: Awaited<ReturnType<typeof producerFor>>, topic: string, prefix: string) {
      let running = true;
      let sent = 0;
      const done = (async () => {
        while (running) {
          await producer.send({ topic, messages: messages(prefix, sent, 40) });
          sent += 40;
          await sleep(50);
        }
        return sent;
      })();
      cleanups.push(async () => {
        running = false;
        await done.catch(() => undefined);
      });
      return {
        sent: () => sent,
        stop: async () => {
          running = false;
          return done;
        },
      };
    }

    const distinctValues = (members: Member[]) => new Set(members.flatMap((m) => m.received.map((r) => r.value)));
    /** What the member received of the messages sent after the first `sent`. */
    const receivedAfter = (m: Member, sent: number) => m.received.filter((r) => Number(r.value.slice(2)) >= sent);

    /** A broker with a fresh topic of PARTITIONS partitions, a producer and a fresh group id. */
    async function groupSetUp() {
      const topic = fresh('t');
      const dk = await broker({ topics: [{ name: topic, partitions: PARTITIONS }] });
      const kafka = client(dk);
      return { topic, groupId: fresh('g'), kafka, producer: await producerFor(kafka) };
    }

    /** Stops the flow; every message it sent reaches some member, and no member crashed. */
    async function expectEveryMessage(flow: ReturnType<typeof keepProducing>, members: Member[]): Promise<void> {
      const total = await flow.stop();
      await until(`all ${total} messages`, () => distinctValues(members).size >= total);
      expect(distinctValues(members)).toEqual(new Set(values('m', 0, total)));
      expect(members.flatMap((m) => m.crashes)).toEqual([]);
    }

    it(
      'gives 2, then 3 members joining one after the other while messages flow each a share of the partitions, and delivers every message',
      async () => {
        const { topic, groupId, kafka, producer } = await groupSetUp();

        const a = await join(kafka, groupId, topic, 'a');
        expect(a.owned).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        const flow = keepProducing(producer, topic, 'm');
        await until('messages to flow to a', () => a.received.length >= 200);

        const b = await join(kafka, groupId, topic, 'b');
        await until('a and b to share the partitions', () => ownedByExactlyOne([a, b]));
        const sentWithTwo = flow.sent();
        await until('b to consume', () => receivedAfter(b, sentWithTwo).length > 0);

        const c = await join(kafka, groupId, topic, 'c');
        await until('a, b and c to share the partitions', () => ownedByExactlyOne([a, b, c]));
        const sentWithThree = flow.sent();
        await until('c to consume', () => receivedAfter(c, sentWithThree).length > 0);

        await expectEveryMessage(flow, [a, b, c]);
        expect(ownedByExactlyOne([a, b, c])).toBe(true);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'hands the partitions of a member that leaves to the others',
      async () => {
        const { topic, groupId, kafka, producer } = await groupSetUp();

        const a = await join(kafka, groupId, topic, 'a');
        const b = await join(kafka, groupId, topic, 'b');
        const c = await join(kafka, groupId, topic, 'c');
        await until('a, b and c to share the partitions', () => ownedByExactlyOne([a, b, c]));
        const flow = keepProducing(producer, topic, 'm');
        await until('messages to flow', () => distinctValues([a, b, c]).size >= 200);

        const leaving = b.owned ?? [];
        await b.consumer.disconnect();
        await until('a and c to take over b’s partitions', () => ownedByExactlyOne([a, c]));
        expect([...(a.owned ?? []), ...(c.owned ?? [])]).toEqual(expect.arrayContaining(leaving));

        const sentAfterLeave = flow.sent();
        await until('consumption past the rebalance', () =>
          [a, c].some((m) => receivedAfter(m, sentAfterLeave).length > 0),
        );
        await sleep(1_000); // ~20 more sends, so that every partition gets some
        await expectEveryMessage(flow, [a, b, c]);
        // b's partitions are read by the others after it left.
        const readAfter = new Set([a, c].flatMap((m) => receivedAfter(m, sentAfterLeave).map((r) => r.partition)));
        expect([...readAfter]).toEqual(expect.arrayContaining(leaving));
      },
      TEST_TIMEOUT_MS,
    );
  });

  it('creates topics on command', async () => {
    const dk = await broker({ topics: [] });
    const topic = fresh('t');
    await dk.command(`topic ${topic} 5`);
    const admin = client(dk).admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0].partitions).toHaveLength(5);
  });

  it('answers a bad command with ERR and keeps serving', async () => {
    const topic = fresh('t');
    const dk = await broker({ topics: [{ name: topic, partitions: 1 }] });
    await expect(dk.command('bogus 1')).rejects.toThrow(/^ERR unknown command 'bogus'/);
    await expect(dk.command('down 9')).rejects.toThrow(/^ERR BROKER_NOT_AVAILABLE/);
    await expect(dk.command(`topic ${topic} 2`)).rejects.toThrow(/^ERR TOPIC_ALREADY_EXISTS/);
    await expect(dk.command('topic other 0')).rejects.toThrow(/^ERR partitions must be/);
    await expect(dk.command('errors Fetch')).rejects.toThrow(/^ERR usage: errors/);
    await expect(dk.command('ping\nping')).rejects.toThrow(/one line/);
    await expect(
      Promise.all([
        dk.command('ping'),
        dk.command('errors Fetch NOT_LEADER_FOR_PARTITION 2'),
        dk.command('clear-errors 1'),
      ]),
    ).resolves.toBeDefined();
  });

  it('rejects with the launcher stderr when it cannot start', async () => {
    await expect(startDevKafka({ brokers: 0, topics: [] })).rejects.toThrow(
      /exited with code 1 before listening: dev-kafka: --brokers must be 1\.\.64/,
    );
    await expect(startDevKafka({ topics: [{ name: 'bad/name', partitions: 1 }] })).rejects.toThrow(
      /invalid topic name 'bad\/name'/,
    );
  });

  it('stop() leaves no process behind and is idempotent', async () => {
    const dk = await startDevKafka({ brokers: 2, topics: [{ name: fresh('t'), partitions: 2 }] });
    expect(() => process.kill(dk.pid, 0)).not.toThrow();
    await dk.stop();
    expect(() => process.kill(dk.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(`/proc/${dk.pid}`)).toBe(false);
    await expect(dk.stop()).resolves.toBeUndefined();
    await expect(dk.command('ping')).rejects.toThrow(/stopped/);
  });
});
