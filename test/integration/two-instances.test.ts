// Two service instances (`node dist/main.js` twice) in one consumer group on the dev broker: the
// second starts while the first ingests a steady flow, the group rebalances, both end up owning
// partitions, and every produced event is stored exactly once in gap-free shards. Needs the
// patched mock (tools/dev-kafka/patches): the stock one failed the second instance's SyncGroup.
import { jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import { ledgerShape, waitConsumed } from '../support/chaos-kit.js';
import { ownedPartitions, startGroupRun, type GroupRun } from '../support/group-kit.js';
import { pollUntil } from '../support/poll-until.js';
import { validEvent } from '../support/workload.js';

const { Kafka, logLevel, Partitioners } = kafkajs;
jest.setTimeout(240_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 8;
const PER_SEND = 50;

describe('two service instances in one consumer group', () => {
  let group: GroupRun | undefined;
  afterEach(async () => {
    await group?.stop();
  });

  it('shares the partitions once the second joins mid-flow and stores every event exactly once', async () => {
    // One data directory, so one signing key for both instances; a port each.
    group = await startGroupRun('rl_two_instances', PARTITIONS, TOPIC);
    const { kafka, db, services } = group;
    const first = await group.start();
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
      const second = await group.start();
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
      describe: group.describe,
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
