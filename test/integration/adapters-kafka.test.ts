import { isDeepStrictEqual } from 'node:util';
import { jest } from '@jest/globals';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import {
  expectedRecords,
  fixtures,
  KEY_FIELDS,
  mismatches,
  withoutIngestFields,
  type Fixture,
} from '../support/adapter-fixtures.js';
import {
  DLQ,
  TOPIC,
  ledgerRecords,
  produce,
  quarantineRows,
  readTopic,
  startLedgerRun,
  waitConsumed,
  type LedgerRun,
} from '../support/ledger-harness.js';

jest.setTimeout(300_000);

/**
 * Every gateway's fixtures produced to the decisions topic and read back from PostgreSQL: once
 * naming the format in the x-routing-format header, once without it (format sniffing), each in a
 * ledger of its own. Secrets fixtures are left to adapters-secrets.test.ts. Each fixture gets its
 * own x-routing-gateway-id, because two fixtures describe the same gateway call (a LiteLLM batch
 * holds the single-event fixture): under one gateway id they would rightly conflict.
 */

const FIDELITY = fixtures((f) => !f.file.includes('secrets'));
const TENANT = 'acme';

function headersFor(f: Fixture, withFormat: boolean): Record<string, string> {
  return {
    'x-routing-tenant': TENANT,
    'x-routing-gateway-id': `fx-${f.file.replace(/\.json$/, '')}`,
    ...(withFormat ? { 'x-routing-format': f.gateway } : {}),
  };
}

async function pushAndCheck(run: LedgerRun, withFormat: boolean): Promise<void> {
  await produce(
    run.kafka.brokers,
    FIDELITY.map((f) => ({ key: f.name, value: f.bytes, headers: headersFor(f, withFormat) })),
  );
  // And one that matches no format: the DLQ gets it with the reason.
  if (!withFormat)
    await produce(run.kafka.brokers, [
      { key: 'unknown', value: Buffer.from('{"event":"something else","at":1764089500}') },
    ]);
  await waitConsumed(run);

  const stored = new Map((await ledgerRecords(run.db)).map((r) => [r.event_id, r]));
  const expected = FIDELITY.flatMap((f) =>
    expectedRecords(f.bytes, headersFor(f, withFormat)).map((r, i) => ({ f, i, r })),
  );
  expect(stored.size).toBe(expected.length);
  const problems: string[] = [];
  for (const { f, i, r } of expected) {
    const got = stored.get(r.event_id) as CanonicalRecord | undefined;
    if (!got) {
      problems.push(`${f.name}[${i}]: no record ${r.event_id}`);
      continue;
    }
    if (!isDeepStrictEqual(withoutIngestFields(got), withoutIngestFields(r))) {
      expect({ fixture: f.name, record: withoutIngestFields(got) }).toEqual({
        fixture: f.name,
        record: withoutIngestFields(r),
      });
    }
    expect(got.source).toMatchObject({ format: f.gateway, topic: TOPIC });
    expect(got.received_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    problems.push(...mismatches(got, KEY_FIELDS[f.name]?.[i] ?? {}).map((m) => `${f.name}[${i}]: ${m}`));
  }
  expect(problems).toEqual([]);
  // Each gateway's records are there, and every fixture with a hand-written row was checked against it.
  expect(new Set([...stored.values()].map((r) => r.source.format))).toEqual(
    new Set(['litellm', 'portkey', 'openrouter', 'otel', 'native']),
  );
  expect(Object.keys(KEY_FIELDS).every((name) => FIDELITY.some((f) => f.name === name))).toBe(true);

  const quarantine = await quarantineRows(run.db);
  expect(quarantine.map((q) => q.reason_code)).toEqual(withFormat ? [] : ['UNKNOWN_FORMAT']);
  if (!withFormat) {
    expect(quarantine[0].reason).toContain('matches no known format');
    const dlq = await readTopic(run.kafka.brokers, DLQ);
    expect(dlq.map((m) => m.headers['x-dlq-reason-code'])).toEqual(['UNKNOWN_FORMAT']);
    expect(dlq[0].headers['x-dlq-reason']).toContain('matches no known format');
  }
}

describe('adapters through Kafka: every fixture becomes the expected canonical record', () => {
  it('with the x-routing-format header', async () => {
    const run = await startLedgerRun();
    try {
      await pushAndCheck(run, true);
    } finally {
      await run.stop();
    }
  });

  it('without it: the format is sniffed, and an unknown one is dead-lettered with its reason', async () => {
    const run = await startLedgerRun();
    try {
      await pushAndCheck(run, false);
    } finally {
      await run.stop();
    }
  });
});
