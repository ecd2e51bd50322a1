// The service survives a consumer crash kafkajs does not restart itself: the dev broker answers
// one Fetch with TOPIC_AUTHORIZATION_FAILED, which kafkajs treats as non-retriable (CRASH with
// restart: false). The service starts a new consumer, counts it in
// routing_ledger_consumer_restarts_total, and ingestion goes on with no loss and no duplicate.
// Real service process, real broker and PostgreSQL: nothing of kafkajs is mocked.
import { jest } from '@jest/globals';
import { startLedgerRun, produce, waitConsumed, type LedgerRun } from '../support/ledger-harness.js';
import { ledgerShape } from '../support/chaos-kit.js';
import { pollUntil } from '../support/poll-until.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(180_000);

const events = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => {
    const e = validEvent(from + k);
    return { key: e.event_id, value: Buffer.from(JSON.stringify(e)) };
  });

async function restartsCounter(run: LedgerRun): Promise<number> {
  const text = await (await fetch(`${run.baseUrl}/metrics`)).text();
  const m = /^routing_ledger_consumer_restarts_total (\d+)/m.exec(text);
  if (!m) throw new Error('routing_ledger_consumer_restarts_total is not exported');
  return Number(m[1]);
}

describe('consumer crash', () => {
  let run: LedgerRun | undefined;
  afterEach(async () => {
    await run?.stop();
    run = undefined;
  });

  it('restarts the consumer after a non-retriable crash, counts it, and keeps ingesting', async () => {
    run = await startLedgerRun({ partitions: 2 });
    await produce(run.kafka.brokers, events(0, 200));
    await waitConsumed(run);
    expect(await restartsCounter(run)).toBe(0);

    await run.kafka.command('errors Fetch TOPIC_AUTHORIZATION_FAILED 1');
    await pollUntil(
      () => /kafkajs will not restart it \(KafkaJSNonRetriableError: Not authorized/.test(run!.svc.output()),
      {
        timeoutMs: 30_000,
        what: () => `the consumer crash to be logged\n${run!.svc.output().slice(-3000)}`,
      },
    );
    await pollUntil(async () => (await restartsCounter(run!)) === 1, {
      timeoutMs: 30_000,
      what: 'the restart to be counted',
    });

    await produce(run.kafka.brokers, events(200, 300));
    await waitConsumed(run);
    expect(run.svc.child.exitCode).toBeNull();
    const shape = await ledgerShape(run.db);
    expect(shape.problems).toEqual([]);
    expect(shape.distinctEventIds).toBe(500);
    expect(shape.records).toBe(500);
    expect(await restartsCounter(run)).toBe(1);
    const ready = await fetch(`${run.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
  });
});
