// Measures the dev broker's quirks with kafkajs, the numbers behind README.md's table.
//   npx tsx tools/dev-kafka/quirks.ts            (about 1 minute)
//   npx tsx tools/dev-kafka/quirks.ts --slow     (adds the 100,000-message-set cap and the
//                                                 rejoin with kafkajs' default 30 s session)
// Each section starts its own broker, prints one JSON line, and stops the broker.
import { randomUUID } from 'node:crypto';
import kafkajs, { type Consumer, type Kafka as KafkaClient } from 'kafkajs';
import { startDevKafka, type DevKafka } from './dev-kafka.js';

const { Kafka, logLevel, CompressionTypes } = kafkajs;
const slow = process.argv.includes('--slow');

function client(dk: DevKafka): KafkaClient {
  return new Kafka({ clientId: 'quirks', brokers: dk.brokers, logLevel: logLevel.NOTHING });
}

async function withBroker<T>(
  topics: Array<{ name: string; partitions: number }>,
  fn: (dk: DevKafka) => Promise<T>,
  brokers = 1,
): Promise<T> {
  const dk = await startDevKafka({ brokers, topics });
  try {
    return await fn(dk);
  } finally {
    await dk.stop();
  }
}

function report(section: string, result: unknown): void {
  console.log(JSON.stringify({ section, ...(result as object) }));
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Runs a consumer; resolves with the time from run() to GROUP_JOIN. */
async function runConsumer(
  consumer: Consumer,
  topic: string,
  onBatch: (b: { partition: number; offsets: string[]; values: string[] }) => void,
): Promise<number> {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
  const t0 = Date.now();
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      onBatch({
        partition: batch.partition,
        offsets: batch.messages.map((m) => m.offset),
        values: batch.messages.map((m) => m.value?.toString() ?? ''),
      });
      for (const m of batch.messages) resolveOffset(m.offset);
      await heartbeat();
    },
  });
  await joined;
  return Date.now() - t0;
}

async function groupJoin(): Promise<void> {
  const topic = 'join';
  await withBroker([{ name: topic, partitions: 3 }], async (dk) => {
    const kafka = client(dk);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = kafka.consumer({ groupId: `g-${randomUUID()}` });
      times.push(await runConsumer(c, topic, () => {}));
      await c.disconnect();
    }
    // The same group again, right after its only member left.
    const groupId = `g-${randomUUID()}`;
    const rejoin: Record<string, number> = {};
    const sessions = slow ? [6_000, 10_000, 30_000] : [6_000, 10_000];
    for (const sessionTimeout of sessions) {
      const gid = `${groupId}-${sessionTimeout}`;
      const a = kafka.consumer({ groupId: gid, sessionTimeout });
      await runConsumer(a, topic, () => {});
      await a.disconnect();
      const b = kafka.consumer({ groupId: gid, sessionTimeout });
      rejoin[`sessionTimeout=${sessionTimeout}`] = await runConsumer(b, topic, () => {});
      await b.disconnect();
    }
    // A second, then a third member joining a group that is up (the stock 2.0.2 mock failed the
    // late follower's SyncGroup with INVALID_REQUEST, a kafkajs crash: patches/).
    const gid = `g-${randomUUID()}`;
    const crashes: string[] = [];
    const member = () => {
      const c = kafka.consumer({ groupId: gid, sessionTimeout: 10_000 });
      c.on(c.events.CRASH, (e) => crashes.push(e.payload.error.message));
      return c;
    };
    const first = member();
    await runConsumer(first, topic, () => {});
    const second = member();
    const secondJoin = await runConsumer(second, topic, () => {});
    const third = member();
    const thirdJoin = await runConsumer(third, topic, () => {});
    await Promise.all([first.disconnect(), second.disconnect(), third.disconnect()]);
    report('group-join', {
      freshGroupMs: times,
      rejoinAfterLeaveMs: rejoin,
      secondMemberJoinMs_sessionTimeout10000: secondJoin,
      thirdMemberJoinMs_sessionTimeout10000: thirdJoin,
      crashes,
    });
  });
}

async function oneSetPerFetch(): Promise<void> {
  const topic = 'sets';
  await withBroker([{ name: topic, partitions: 1 }], async (dk) => {
    const kafka = client(dk);
    const producer = kafka.producer();
    await producer.connect();
    for (let s = 0; s < 10; s++) {
      await producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ value: `s${s}-${i}` })) });
    }
    await producer.send({ topic, messages: Array.from({ length: 5000 }, (_, i) => ({ value: `big-${i}` })) });
    const sizes: number[] = [];
    let total = 0;
    const c = kafka.consumer({ groupId: `g-${randomUUID()}` });
    await runConsumer(c, topic, (b) => {
      sizes.push(b.values.length);
      total += b.values.length;
    });
    await until('all', () => total >= 6000);
    await c.disconnect();
    await producer.disconnect();
    report('one-message-set-per-fetch', { producedSets: '10 x 100, then 1 x 5000', batchSizesSeen: sizes });
  });
}

async function retention(): Promise<void> {
  const topic = 'ret';
  await withBroker([{ name: topic, partitions: 1 }], async (dk) => {
    const kafka = client(dk);
    const producer = kafka.producer();
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    const value = 'x'.repeat(1000);
    const perSet = 100; // ~100 KB message sets
    let produced = 0;
    const points: Array<{ producedMB: number; low: string; high: string; keptMessages: number }> = [];
    for (let s = 0; s < 100; s++) {
      await producer.send({ topic, messages: Array.from({ length: perSet }, () => ({ value })) });
      produced += perSet;
      if ((s + 1) % 20 === 0) {
        const [o] = await admin.fetchTopicOffsets(topic);
        points.push({
          producedMB: +((produced * 1000) / 1e6).toFixed(1),
          low: o.low,
          high: o.high,
          keptMessages: Number(o.high) - Number(o.low),
        });
      }
    }
    // A consumer group starting from the beginning sees the trimmed start.
    let first: string | undefined;
    const c = kafka.consumer({ groupId: `g-${randomUUID()}` });
    await runConsumer(c, topic, (b) => (first ??= b.offsets[0]));
    await until('first batch', () => first !== undefined);
    await c.disconnect();

    // A group whose committed offset has since been trimmed away.
    const gid = `g-${randomUUID()}`;
    const c1 = kafka.consumer({ groupId: gid, sessionTimeout: 6000 });
    let got1 = 0;
    await runConsumer(c1, topic, (b) => (got1 += b.values.length));
    await until('c1 caught up', () => got1 >= 5100);
    await c1.commitOffsets([{ topic, partition: 0, offset: '10000' }]);
    await c1.disconnect();
    for (let s = 0; s < 60; s++) {
      await producer.send({ topic, messages: Array.from({ length: perSet }, () => ({ value })) });
    }
    const [after] = await admin.fetchTopicOffsets(topic);
    const [committed] = (await admin.fetchOffsets({ groupId: gid, topics: [topic] }))[0].partitions;
    let resumed: string | undefined;
    const c2 = kafka.consumer({ groupId: gid, sessionTimeout: 6000 });
    await runConsumer(c2, topic, (b) => (resumed ??= b.offsets[0]));
    await until('resumed batch', () => resumed !== undefined);
    await c2.disconnect();
    const trimmedCommit = {
      committed: committed.offset,
      lowNow: after.low,
      highNow: after.high,
      fromBeginningGroupResumedAt: resumed,
    };
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    report('retention-bytes', {
      messageBytes: 1000,
      setsOf: perSet,
      points,
      fromBeginningFirstOffset: first,
      trimmedCommit,
    });
  });
  if (!slow) return;
  await withBroker([{ name: topic, partitions: 1 }], async (dk) => {
    const kafka = client(dk);
    const producer = kafka.producer();
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    const sets = 100_500;
    const t0 = Date.now();
    for (let s = 0; s < sets; s += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => producer.send({ topic, messages: [{ value: `${s + i}` }] })),
      );
    }
    const [o] = await admin.fetchTopicOffsets(topic);
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    report('retention-count', {
      singleMessageSets: sets,
      low: o.low,
      high: o.high,
      kept: Number(o.high) - Number(o.low),
      produceMs: Date.now() - t0,
    });
  });
}

async function adminApis(): Promise<void> {
  const topic = 'adm';
  await withBroker([{ name: topic, partitions: 2 }], async (dk) => {
    const kafka = client(dk);
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 1 },
        { value: 'c', partition: 1 },
      ],
    });
    const groupId = `g-${randomUUID()}`;
    let seen = 0;
    const c = kafka.consumer({ groupId });
    await runConsumer(c, topic, (b) => (seen += b.values.length));
    await until('3 messages', () => seen === 3);
    await c.commitOffsets([{ topic, partition: 1, offset: '2' }]);
    const results: Record<string, unknown> = {};
    const attempt = async (name: string, fn: () => Promise<unknown>) => {
      try {
        results[name] = { ok: await fn() };
      } catch (e) {
        const err = e as Error & { type?: string };
        results[name] = { error: `${err.name}: ${err.type ?? ''} ${err.message}`.trim() };
      }
    };
    await attempt('fetchTopicOffsets', () => admin.fetchTopicOffsets(topic));
    await attempt('fetchTopicOffsetsByTimestamp(now-1h)', () =>
      admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 3_600_000),
    );
    await attempt('fetchTopicOffsetsByTimestamp(now+1h)', () =>
      admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 3_600_000),
    );
    await attempt('fetchOffsets(group)', () => admin.fetchOffsets({ groupId, topics: [topic] }));
    await attempt('describeGroups', () => admin.describeGroups([groupId]));
    await attempt('listGroups', () => admin.listGroups());
    await attempt('listTopics', () => admin.listTopics());
    await attempt(
      'fetchTopicMetadata',
      async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length,
    );
    await attempt('describeCluster', () => admin.describeCluster());
    await attempt('createTopics', () => admin.createTopics({ topics: [{ topic: 'new-one', numPartitions: 2 }] }));
    await attempt('deleteTopics', () => admin.deleteTopics({ topics: [topic], timeout: 2000 }));
    await c.disconnect();
    await attempt('setOffsets(empty group)', () =>
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] }),
    );
    await attempt('fetchOffsets(after setOffsets)', () => admin.fetchOffsets({ groupId, topics: [topic] }));
    // Auto-creation by the producer's metadata request.
    await attempt('produce to unknown topic (auto-create)', async () => {
      await producer.send({ topic: 'auto-created', messages: [{ value: 'x' }] });
      return (await admin.fetchTopicMetadata({ topics: ['auto-created'] })).topics[0].partitions.length;
    });
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    report('admin-apis', results);
  });
}

async function compressionAndProducers(): Promise<void> {
  const topic = 'codec';
  await withBroker([{ name: topic, partitions: 1 }], async (dk) => {
    const kafka = client(dk);
    const results: Record<string, unknown> = {};
    const gzip = kafka.producer();
    await gzip.connect();
    const payload = JSON.stringify({ provider: 'openai', model: 'gpt-4o', region: 'eu-west-1', pad: 'y'.repeat(800) });
    await gzip.send({
      topic,
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: 1000 }, (_, i) => ({ key: `${i}`, value: payload })),
    });
    const idem = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await idem.connect();
      await idem.send({ topic, messages: [{ value: 'idempotent' }] });
      results.idempotentProducer = 'ok';
    } catch (e) {
      results.idempotentProducer = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const txp = kafka.producer({ transactionalId: `tx-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    try {
      await txp.connect();
      const tx = await txp.transaction();
      await tx.send({ topic, messages: [{ value: 'transactional' }] });
      await tx.commit();
      results.transactionalProducer = 'ok';
    } catch (e) {
      results.transactionalProducer = `${(e as Error).name}: ${(e as Error).message}`;
    }
    let got = 0;
    let gzipOk = 0;
    const c = kafka.consumer({ groupId: `g-${randomUUID()}` });
    await runConsumer(c, topic, (b) => {
      got += b.values.length;
      gzipOk += b.values.filter((v) => v === payload).length;
    });
    await until('all', () => got >= 1000);
    await sleep(500);
    await c.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const [o] = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    await Promise.all([gzip.disconnect(), idem.disconnect().catch(() => {}), txp.disconnect().catch(() => {})]);
    results.gzip = { produced: 1000, consumedIntact: gzipOk, bytesPerMessageUncompressed: payload.length };
    results.consumedTotal = got;
    results.highWatermark = o.high;
    report('codecs-and-producers', results);
  });
}

async function idleAndLatency(): Promise<void> {
  for (const maxWaitTimeInMs of [5000, 500, 100]) {
    const topic = 'idle';
    await withBroker([{ name: topic, partitions: 1 }], async (dk) => {
      const kafka = client(dk);
      const producer = kafka.producer();
      await producer.connect();
      const arrivals = new Map<string, number>();
      const c = kafka.consumer({ groupId: `g-${randomUUID()}`, maxWaitTimeInMs });
      let fetches = 0;
      c.on(c.events.FETCH, () => fetches++);
      await runConsumer(c, topic, (b) => b.values.forEach((v) => arrivals.set(v, Date.now())));
      const cpu0 = process.cpuUsage();
      const f0 = fetches;
      const brokerCpu0 = await procCpuMs(dk.pid);
      await sleep(5000);
      const used = process.cpuUsage(cpu0);
      const idle = {
        fetchesPerSecond: (fetches - f0) / 5,
        nodeCpuPercent: +(((used.user + used.system) / 1000 / 5000) * 100).toFixed(1),
        brokerCpuPercent: +((((await procCpuMs(dk.pid)) - brokerCpu0) / 5000) * 100).toFixed(1),
      };
      const lat: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = Date.now();
        await producer.send({ topic, messages: [{ value: `l${i}` }] });
        await until('arrival', () => arrivals.has(`l${i}`));
        lat.push(arrivals.get(`l${i}`)! - t);
        await sleep(37);
      }
      await c.disconnect();
      await producer.disconnect();
      lat.sort((a, b) => a - b);
      report('idle-consumer', { maxWaitTimeInMs, ...idle, produceToConsumeMs: { p50: lat[10], max: lat[19] } });
    });
  }
}

async function procCpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return ((Number(stat[11]) + Number(stat[12])) * 1000) / 100; // utime + stime, USER_HZ=100
}

async function brokerDown(): Promise<void> {
  const topic = 'down';
  await withBroker(
    [{ name: topic, partitions: 3 }],
    async (dk) => {
      await dk.command(`leader ${topic} 0 1`);
      await dk.command(`leader ${topic} 1 2`);
      await dk.command(`leader ${topic} 2 3`);
      const kafka = client(dk);
      const producer = kafka.producer();
      await producer.connect();
      await dk.command('down 2');
      const t0 = Date.now();
      let outcome: string;
      try {
        await producer.send({ topic, messages: [{ value: 'to-2', partition: 1 }] });
        outcome = `delivered after ${Date.now() - t0} ms while down`;
      } catch (e) {
        outcome = `${(e as Error).name} after ${Date.now() - t0} ms: ${(e as Error).message}`;
      }
      const t1 = Date.now();
      const pending = producer.send({ topic, messages: [{ value: 'to-2-b', partition: 1 }] });
      await sleep(1000);
      await dk.command('up 2');
      let recovered: string;
      try {
        await pending;
        recovered = `delivered ${Date.now() - t1} ms after send (broker up after 1000 ms)`;
      } catch (e) {
        recovered = `${(e as Error).message}`;
      }
      await producer.disconnect();
      report('broker-down', { produceToDownLeaderWithDefaultRetries: outcome, produceWhileDown1sThenUp: recovered });
    },
    3,
  );
}

async function injectedErrors(): Promise<void> {
  const topic = 'errs';
  await withBroker([{ name: topic, partitions: 1 }], async (dk) => {
    const kafka = client(dk);
    const producer = kafka.producer({ retry: { retries: 5 } });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    const results: Record<string, unknown> = {};
    const timed = async (name: string, fn: () => Promise<unknown>) => {
      const t0 = Date.now();
      try {
        await fn();
        results[name] = `ok after ${Date.now() - t0} ms`;
      } catch (e) {
        results[name] = `${(e as Error).name} after ${Date.now() - t0} ms: ${(e as Error).message}`;
      }
    };
    await dk.command('errors Produce NOT_LEADER_FOR_PARTITION 2');
    await timed('produce after 2 x NOT_LEADER_FOR_PARTITION', () =>
      producer.send({ topic, messages: [{ value: 'a' }] }),
    );
    await dk.command('errors Produce REQUEST_TIMED_OUT 10');
    await timed('produce after 10 x REQUEST_TIMED_OUT (retries: 5)', () =>
      producer.send({ topic, messages: [{ value: 'b' }] }),
    );
    await dk.command('clear-errors Produce');
    await dk.command('errors Produce _TRANSPORT 1');
    await timed('produce after 1 x _TRANSPORT (disconnect)', () =>
      producer.send({ topic, messages: [{ value: 'c' }] }),
    );
    await dk.command('broker-errors 1 Produce 0 1 2000');
    await timed('produce with broker-errors rtt 2000', () => producer.send({ topic, messages: [{ value: 'd' }] }));
    await dk.command('rtt 1 200');
    await timed('produce with rtt 200', () => producer.send({ topic, messages: [{ value: 'e' }] }));
    await dk.command('rtt 1 0');
    const [o] = await admin.fetchTopicOffsets(topic);
    results.highWatermark = o.high;
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    report('injected-errors', results);
  });
}

const sections: Record<string, () => Promise<void>> = {
  'group-join': groupJoin,
  'one-set-per-fetch': oneSetPerFetch,
  retention,
  'admin-apis': adminApis,
  codecs: compressionAndProducers,
  idle: idleAndLatency,
  'broker-down': brokerDown,
  errors: injectedErrors,
};
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const [name, fn] of Object.entries(sections)) {
  if (only.length && !only.includes(name)) continue;
  try {
    await fn();
  } catch (e) {
    report(name, { failed: (e as Error).stack });
  }
}
