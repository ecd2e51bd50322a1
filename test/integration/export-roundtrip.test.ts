/**
 * The export round trip, end to end through real processes: events produced to Kafka (dev
 * broker), ingested by the service (`node dist/main.js`), exported over HTTP by an auditor,
 * downloaded, and verified by the offline CLI (`routing-ledger verify-bundle`) as a separate
 * process holding nothing but the bundle and the JWKS. Needs `npm run build` first.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { mintToken } from '../../src/auth/token-mint.js';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { pollUntil } from '../support/poll-until.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { serviceEnv } from '../support/service-env.js';
import { validEvent } from '../support/workload.js';

const { Kafka, logLevel } = kafkajs;
jest.setTimeout(300_000);
const run = promisify(execFile);

const TOPIC = 'routing.decisions';
const PARTITIONS = 3;
const EVENTS = 3000;
// validEvent(i) occurs at 2026-11-25T10:00:00Z + 37 ms × i; tenants rotate over five names.
const FROM = new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + 37 * 500).toISOString();
const TO = new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + 37 * 2500).toISOString();

let kafka: DevKafka;
let db: TestDatabase;
let svc: ServiceProcess;
let dataDir: string;

beforeAll(async () => {
  kafka = await startDevKafka({
    topics: [
      { name: TOPIC, partitions: PARTITIONS },
      { name: 'routing.decisions.dlq', partitions: 1 },
      { name: 'routing.checkpoints', partitions: 1 },
    ],
  });
  db = await createTestDatabase('rl_export_rt');
  dataDir = `/tmp/${db.name}`;
  await mkdir(dataDir, { recursive: true });
  svc = await startServiceProcess(
    await serviceEnv(
      { db, brokers: kafka.brokers, dataDir },
      { KAFKA_COMMIT_INTERVAL_MS: '1000', LEDGER_ORIGIN: 'routing-ledger.test/roundtrip' },
    ),
  );
});

afterAll(async () => {
  await svc?.kill('SIGTERM');
  await kafka?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

async function produce(): Promise<void> {
  const producer = new Kafka({ clientId: 'export-rt', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let i = 0; i < EVENTS; i += 200) {
    const events = Array.from({ length: Math.min(200, EVENTS - i) }, (_, k) => validEvent(i + k));
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: events.map((e) => ({ key: e.request_id, value: JSON.stringify(e) })),
    });
  }
  await producer.disconnect();
}

/** Exports `query` as an auditor over HTTP and verifies the bundle with the offline CLI. */
async function exportAndVerify(query: object) {
  const base = `http://127.0.0.1:${svc.port}`;
  const authKey = await loadOrCreateDevAuthKey(dataDir);
  const bearer = await mintToken(
    authKey,
    { subject: 'auditor-rt', roles: ['auditor'], tenants: ['acme'] },
    { issuer: 'routing-ledger', audience: 'routing-ledger-api', ttlSeconds: 600 },
  );
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' };

  const created = await fetch(`${base}/v1/exports`, { method: 'POST', headers, body: JSON.stringify(query) });
  expect(created.status).toBe(202);
  const { id } = (await created.json()) as { id: string };
  let view: {
    status: string;
    error: string | null;
    bundle: { counts: { records_in_range: number; matching: number } } | null;
  } = { status: '', error: null, bundle: null };
  await pollUntil(
    async () => {
      view = (await (await fetch(`${base}/v1/exports/${id}`, { headers })).json()) as typeof view;
      if (view.status === 'failed') throw new Error(`export failed: ${view.error}`);
      return view.status === 'done';
    },
    { timeoutMs: 60_000, what: () => `export ${id}: ${JSON.stringify(view)}` },
  );

  const bundle = join(dataDir, `${id}.tar.gz`);
  const res = await fetch(`${base}/v1/exports/${id}/bundle`, { headers });
  expect(res.status).toBe(200);
  await writeFile(bundle, Buffer.from(await res.arrayBuffer()));
  const jwksFile = join(dataDir, 'jwks.json');
  await writeFile(jwksFile, Buffer.from(await (await fetch(`${base}/.well-known/jwks.json`)).arrayBuffer()));

  const { stdout } = await run(
    process.execPath,
    [
      'dist/src/cli/routing-ledger.js',
      'verify-bundle',
      bundle,
      '--jwks',
      jwksFile,
      '--origin',
      'routing-ledger.test/roundtrip',
      '--json',
    ],
    { maxBuffer: 16 << 20 },
  );
  const verdict = JSON.parse(stdout) as {
    ok: boolean;
    counts: { records_in_range: number; matching: number; shards: number };
    shards: Array<{ records: number }>;
  };
  return { view, verdict };
}

describe('Kafka → ledger → export → offline verification', () => {
  it('round-trips: every ingested record of the tenant in range is in a bundle that verifies', async () => {
    await produce();
    await pollUntil(
      async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n) === EVENTS,
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        what: () => `${EVENTS} records ingested\n${svc.output().slice(-2000)}`,
      },
    );
    const { view, verdict } = await exportAndVerify({ tenant: 'acme', from: FROM, to: TO });
    const expected = Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM records WHERE tenant_id = 'acme' AND occurred_at >= $1 AND occurred_at < $2`,
          [FROM, TO],
        )
      )[0].n,
    );
    expect(expected).toBeGreaterThan(300);
    expect(verdict.ok).toBe(true);
    expect(verdict.counts.records_in_range).toBe(expected);
    expect(view.bundle!.counts.records_in_range).toBe(expected);
    expect(verdict.counts.shards).toBe(PARTITIONS);
  });

  it('counts the records matching filters as the records themselves say (the exporter reads the columns)', async () => {
    // After the round trip above: the ledger holds every event.
    const [{ provider, gateway_id }] = await db.query<{ provider: string; gateway_id: string }>(
      `SELECT record::jsonb->>'provider' AS provider, record::jsonb->'gateway'->>'id' AS gateway_id FROM records
       WHERE tenant_id = 'acme' AND occurred_at >= $1 AND occurred_at < $2 ORDER BY occurred_at LIMIT 1`,
      [FROM, TO],
    );
    const matching = async (filters: Record<string, string>) => {
      const { view, verdict } = await exportAndVerify({ tenant: 'acme', from: FROM, to: TO, filters });
      expect(verdict.ok).toBe(true);
      expect(view.bundle!.counts.matching).toBe(verdict.counts.matching);
      return verdict.counts.matching;
    };
    const expected = Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM records WHERE tenant_id = 'acme' AND occurred_at >= $1 AND occurred_at < $2
             AND record::jsonb->>'provider' = $3 AND record::jsonb->'gateway'->>'id' = $4`,
          [FROM, TO, provider, gateway_id],
        )
      )[0].n,
    );
    expect(expected).toBeGreaterThan(0);
    expect(await matching({ provider, gateway_id })).toBe(expected);
    expect(await matching({ provider: `not-${provider}` })).toBe(0);
  });
});
