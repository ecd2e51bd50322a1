// Graceful handover: two service instances share a consumer group under a steady flow, and one
// after the other gets SIGTERM mid-flow (a replacement starts each time). Each terminated
// instance finishes its batch in flight, leaves the group and exits 0; the partitions' next owner
// continues from the stored offsets, so every produced event is stored exactly once in gap-free,
// verifiable shards. The ingest pause each rebalance costs is measured and printed, not asserted.
import { jest } from '@jest/globals';
import { ledgerShape, verifyCli, waitConsumed } from '../support/chaos-kit.js';
import {
  OffsetWatch,
  SteadyFlow,
  ownedPartitions,
  sharedByAll,
  startGroupRun,
  type GroupRun,
} from '../support/group-kit.js';
import { pollUntil } from '../support/poll-until.js';

jest.setTimeout(180_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 8;
const HANDOVERS = 2;
/** Generous bound on a clean stop: finish one batch, leave the group, close HTTP and the pool. */
const EXIT_WITHIN_MS = 20_000;

describe('graceful handover on SIGTERM', () => {
  let group: GroupRun | undefined;
  let watch: OffsetWatch | undefined;
  afterEach(async () => {
    watch?.stop();
    await group?.stop();
  });

  it('exits 0 after leaving the group, and the next owner continues with no gap and no duplicate', async () => {
    group = await startGroupRun('rl_graceful_handover', PARTITIONS, TOPIC);
    const { kafka, db, start, describe: describeAll } = group;
    const live = [await start()];
    await pollUntil(() => ownedPartitions(live[0])?.length === PARTITIONS, {
      timeoutMs: 30_000,
      what: () => `the first instance to own all partitions\n${describeAll()}`,
    });

    const flow = new SteadyFlow(kafka.brokers, TOPIC);
    watch = new OffsetWatch(db);
    watch.start();
    await flow.start();
    const pauses: string[] = [];
    try {
      await pollUntil(() => flow.sent >= 300, { timeoutMs: 30_000, what: 'the flow to be under way' });
      live.push(await start());
      await pollUntil(() => sharedByAll(live, PARTITIONS), {
        timeoutMs: 60_000,
        what: () => `both instances to own partitions\n${describeAll()}`,
      });

      for (let round = 1; round <= HANDOVERS; round++) {
        const leaving = live.shift()!;
        const survivor = live[0];
        const moved = ownedPartitions(leaving) ?? [];
        const sigterm = Date.now();
        leaving.signal('SIGTERM');
        const exit = await Promise.race([
          leaving.exited,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_WITHIN_MS)),
        ]);
        const exitedAt = Date.now();
        expect({ round, exit }).toEqual({ round, exit: { code: 0, signal: null } });
        expect(leaving.output()).toMatch(/"msg":"left group /);
        expect(leaving.output()).not.toMatch(/Error during shutdown|consumer crashed/);

        // The survivor takes the leaver's partitions and stores its first batch on one of them.
        await pollUntil(() => ownedPartitions(survivor)?.length === PARTITIONS, {
          timeoutMs: 30_000,
          what: () => `the survivor to own all partitions\n${describeAll()}`,
        });
        await pollUntil(() => watch!.firstAdvanceAfter(moved, exitedAt) !== undefined, {
          timeoutMs: 30_000,
          what: () => `a batch on a moved partition [${moved.join(', ')}]\n${describeAll()}`,
        });
        const taken = watch.firstAdvanceAfter(moved, exitedAt)!;
        pauses.push(
          `round ${round} leave: SIGTERM -> exit ${exitedAt - sigterm} ms, SIGTERM -> first batch of the new owner ` +
            `(partition ${taken.partition}) ${taken.at - sigterm} ms, longest stall ${watch.longestStall(sigterm, taken.at)} ms`,
        );

        // A replacement joins; the group rebalances again.
        const spawned = Date.now();
        const replacement = await start();
        live.push(replacement);
        await pollUntil(() => sharedByAll(live, PARTITIONS), {
          timeoutMs: 60_000,
          what: () => `the replacement to share the partitions\n${describeAll()}`,
        });
        const joined = Date.now();
        const gained = ownedPartitions(replacement)!;
        await pollUntil(() => watch!.firstAdvanceAfter(gained, joined) !== undefined, {
          timeoutMs: 30_000,
          what: () => `the replacement's first batch\n${describeAll()}`,
        });
        const first = watch.firstAdvanceAfter(gained, joined)!;
        pauses.push(
          `round ${round} join: replacement start -> joined ${joined - spawned} ms, joined -> its first batch ` +
            `(partition ${first.partition}) ${first.at - joined} ms, longest stall ${watch.longestStall(spawned, first.at)} ms`,
        );
        const sentNow = flow.sent;
        await pollUntil(() => flow.sent >= sentNow + 200, { timeoutMs: 30_000, what: 'the flow to go on' });
      }
    } finally {
      await flow.stop();
    }

    await waitConsumed(db, kafka.brokers, { timeoutMs: 60_000, describe: describeAll });
    watch.stop();
    console.log(`rebalance ingest pauses (${PARTITIONS} partitions, 6 s session):\n${pauses.join('\n')}`);
    const shape = await ledgerShape(db);
    expect(shape.problems).toEqual([]);
    expect(shape.records).toBe(flow.sent);
    expect(shape.distinctEventIds).toBe(flow.sent);
    const verify = await verifyCli(db.url);
    expect({ code: verify.code, out: verify.code === 0 ? '' : verify.out }).toEqual({ code: 0, out: '' });
    for (const s of live) expect(s.alive()).toBe(true);
  });
});
