// Zombie refusal: instance A is paused (SIGSTOP) past its session timeout while events flow, so
// the group rebalances around it and B takes every partition; then A is resumed (SIGCONT) and for
// a moment still believes it owns its old partitions. Whatever A had in flight must not land as
// a duplicate or fork a shard: in the end every produced event is stored exactly once in
// gap-free, verifiable shards, and what A did with its stale batches is in its log.
import { jest } from '@jest/globals';
import { ledgerShape, sleep, verifyCli, waitConsumed } from '../support/chaos-kit.js';
import type { ServiceProcess } from '../support/service-process.js';
import {
  SteadyFlow,
  logLines,
  ownedPartitions,
  sharedByAll,
  startGroupRun,
  type GroupRun,
} from '../support/group-kit.js';
import { pollUntil } from '../support/poll-until.js';

jest.setTimeout(180_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 8;

describe('a consumer paused past its session timeout (a zombie)', () => {
  let group: GroupRun | undefined;
  afterEach(async () => {
    await group?.stop();
  });

  it('never appends a duplicate or forks a shard once the group has moved on', async () => {
    group = await startGroupRun('rl_zombie_refusal', PARTITIONS, TOPIC);
    // Debug lines ("batch appended") show what A stored after it was resumed.
    const { kafka, db, services, start, describe: describeAll } = group;
    const a = await start({ LOG_LEVEL: 'debug' });
    await pollUntil(() => ownedPartitions(a)?.length === PARTITIONS, {
      timeoutMs: 30_000,
      what: () => `A to own all partitions\n${describeAll()}`,
    });
    const flow = new SteadyFlow(kafka.brokers, TOPIC);
    await flow.start();
    let stoppedAt: number | undefined;
    let resumedAt = 0;
    let joinsBeforeResume = 0;
    let b: ServiceProcess | undefined;
    try {
      await pollUntil(() => flow.sent >= 300, { timeoutMs: 30_000, what: 'the flow to be under way' });
      b = await start({ LOG_LEVEL: 'debug' });
      await pollUntil(() => sharedByAll([a, b!], PARTITIONS), {
        timeoutMs: 60_000,
        what: () => `A and B to share the partitions\n${describeAll()}`,
      });
      await sleep(1_000);

      stoppedAt = Date.now();
      a.signal('SIGSTOP');
      // 6 s session: the group evicts A and gives B every partition.
      await pollUntil(() => ownedPartitions(b!)?.length === PARTITIONS, {
        timeoutMs: 40_000,
        what: () => `B to take every partition from the paused A\n${describeAll()}`,
      });
      await sleep(1_000);
      joinsBeforeResume = logLines(a).filter((l) => l.msg.startsWith('joined group')).length;
      resumedAt = Date.now();
      a.signal('SIGCONT');
      // A finds out it was evicted, rejoins, and the two share the partitions again.
      await pollUntil(
        () =>
          logLines(a).filter((l) => l.msg.startsWith('joined group')).length > joinsBeforeResume &&
          sharedByAll([a, b!], PARTITIONS),
        { timeoutMs: 60_000, what: () => `A to rejoin after SIGCONT\n${describeAll()}` },
      );
      const sentNow = flow.sent;
      await pollUntil(() => flow.sent >= sentNow + 300, { timeoutMs: 30_000, what: 'the flow to go on' });
    } finally {
      await flow.stop();
    }

    await waitConsumed(db, kafka.brokers, { timeoutMs: 60_000, describe: describeAll });
    const shape = await ledgerShape(db);
    expect(shape.problems).toEqual([]);
    expect(shape.records).toBe(flow.sent);
    expect(shape.distinctEventIds).toBe(flow.sent);
    const verify = await verifyCli(db.url);
    expect({ code: verify.code, out: verify.code === 0 ? '' : verify.out }).toEqual({ code: 0, out: '' });
    for (const s of services) expect(s.alive()).toBe(true);

    // What A did between SIGCONT and its rejoin, from its own log: a batch it handled after SIGCONT must
    // have been refused (it no longer owned the partition). A batch A reports as appended then must have
    // committed before the pause (the COMMIT was under way, its answer read only after SIGCONT): B, the
    // new owner, had already stored offsets beyond it before A was resumed.
    const lines = logLines(a);
    const rejoin = lines.filter((l) => l.msg.startsWith('joined group'))[joinsBeforeResume];
    const stale = lines.filter((l) => l.time >= resumedAt - 50 && l.time <= rejoin.time);
    const refused = stale.filter((l) => l.msg.startsWith('batch not appended'));
    const completed = stale.filter((l) => l.msg === 'batch appended' && Number(l.appended) > 0);
    console.log(
      `zombie: paused ${resumedAt - stoppedAt!} ms; between SIGCONT and its rejoin A refused ${refused.length} ` +
        `batch(es), and reported ${completed.length} appended:\n` +
        [...refused, ...completed].map((l) => JSON.stringify(l)).join('\n'),
    );
    for (const l of refused) {
      expect(l).toMatchObject({
        level: 'warn',
        topic: TOPIC,
        partition: expect.any(Number),
        shard: expect.any(Number),
      });
      expect(l).toHaveProperty('firstOffset');
      expect(l).toHaveProperty('lastOffset');
    }
    const storedByB = logLines(b!).filter((l) => l.msg === 'batch appended' && l.time < resumedAt);
    for (const l of completed) {
      const overtaken = storedByB.some(
        (m) => m.partition === l.partition && BigInt(String(m.lastOffset)) > BigInt(String(l.lastOffset)),
      );
      expect({ batch: l, committedBeforeThePause: overtaken }).toEqual({ batch: l, committedBeforeThePause: true });
    }
  });
});
