// Two service instances (`node dist/main.js` twice) in one consumer group on the dev broker: the
// second starts while the first ingests a steady flow, the group rebalances, both end up owning
// partitions, and every produced event is stored exactly once in gap-free shards. Needs the
// patched mock (tools/dev-kafka/patches): the stock one failed the second instance's SyncGroup.
import { jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { ledgerShape, waitConsumed } from '../support/chaos-kit.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { validEvent } from '../support/workload.js';

const { Kafka, logLevel, Partitioners } = kafkajs;
jest.setTimeout(240_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 8;
const PER_SEND = 50;

/** The partitions of the service's latest "joined group" log line; undefined before it joined. */
function ownedPartitions(svc: ServiceProcess): number[] | undefined {
  const joins = [...svc.output().matchAll(/joined group \S+: \S+ partitions \[([\d, ]*)\]/g)];
  const last = joins.at(-1);
  if (!last) return undefined;
  return last[1].trim() === '' ? [] : last[1].split(',').map((p) => Number(p.trim()));
}

describe('two service instances in one consumer group', () => {
  let kafka: DevKafka | undefined;
  let db: TestDatabase | undefined;
  const services: ServiceProcess[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.kill('SIGTERM');
    await kafka?.stop();
    await db?.drop();
  });

  it('shares the partitions once the second joins mid-flow and stores every event exactly once', async () => {
    kafka = await startDevKafka({
      topics: [
        { name: TOPIC, partitions: PARTITIONS },
        { name: `${TOPIC}.dlq`, partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    db = await createTestDatabase('rl_two_instances');
    // One data directory, so one signing key for both instances; a port each.
    const run = { db, brokers: kafka.brokers };
    const env = () => serviceEnv(run, { KAFKA_COMMIT_INTERVAL_MS: '1000' });
    const first = await startServiceProcess(await env());
    services.push(first);
    await pollUntil(() => ownedPartitions(first)?.length === PARTITIONS, {
      timeoutMs: 30_000,
      what: () => `the first instance to own all partitions\n${first.output().slice(-3000)}`,
    });

    const producer = new Kafka({
      clientId: 'two-instances',
      brokers: kafka.brokers,
      logLevel: logLevel.NOTHING,
    }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // Produces until told to stop: the flow runs before, during and after the rebalance.
    let sent = 0;
    let flowing = true;
    const producing = (async () => {
      for (; flowing; sent += PER_SEND) {
        const batch = Array.from({ length: PER_SEND }, (_, k) => validEvent(sent + k));
        await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: batch.map((e) => ({ key: e.event_id, value: JSON.stringify(e) })),
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await pollUntil(() => sent >= 500, { timeoutMs: 60_000, what: 'the flow to be under way' });
      const second = await startServiceProcess(await env());
      services.push(second);
      const shared = () => {
        const a = ownedPartitions(first) ?? [];
        const b = ownedPartitions(second) ?? [];
        return (
          a.length > 0 &&
          b.length > 0 &&
          new Set([...a, ...b]).size === PARTITIONS &&
          a.length + b.length === PARTITIONS
        );
      };
      await pollUntil(shared, {
        timeoutMs: 60_000,
        what: () =>
          `both instances to own partitions\nfirst:\n${first.output().slice(-2000)}\nsecond:\n${second.output().slice(-2000)}`,
      });
      const sentAtRebalance = sent;
      await pollUntil(() => sent >= sentAtRebalance + 500, {
        timeoutMs: 60_000,
        what: 'the flow to go on after the rebalance',
      });
    } finally {
      flowing = false;
      await producing;
      await producer.disconnect();
    }

    await waitConsumed(db, kafka.brokers, {
      describe: () => services.map((s) => s.output().slice(-1500)).join('\n---\n'),
    });
    const shape = await ledgerShape(db);
    expect(shape.problems).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(1_000);
    expect(shape.distinctEventIds).toBe(sent);
    expect(shape.records).toBe(sent);
    for (const s of services) {
      expect(s.child.exitCode).toBeNull();
      expect(s.output()).not.toMatch(/consumer crashed/);
    }
    expect((ownedPartitions(first) ?? []).length).toBeGreaterThan(0);
    expect((ownedPartitions(services[1]) ?? []).length).toBeGreaterThan(0);
  });
});
