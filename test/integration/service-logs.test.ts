import { jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { ALL_TENANTS } from '../../src/auth/principal.js';
import { mintToken } from '../../src/auth/token-mint.js';
import { startLedgerRun, TOPIC, type LedgerRun } from '../support/ledger-harness.js';
import type { ServiceProcess } from '../support/service-process.js';
import { pollUntil } from '../support/poll-until.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(180_000);
const EVENTS = 30;

type LogLine = Record<string, unknown> & { level: string; msg: string };

/** Every line the service wrote; a line that is not a JSON object fails the test. */
function logLines(svc: ServiceProcess): LogLine[] {
  return svc
    .output()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(l);
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
      expect(parsed).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String) }));
      return parsed as LogLine;
    });
}

describe('service logs: JSON lines with request ids and batch positions', () => {
  let run: LedgerRun;
  let svc: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    run = await startLedgerRun({ partitions: 2, env: { LOG_LEVEL: 'debug' } });
    ({ svc, baseUrl: base } = run);
  });

  afterAll(async () => {
    await run?.stop();
  });

  it('writes only JSON lines', () => {
    const lines = logLines(svc);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.find((l) => /routing-ledger listening on/.test(l.msg))).toEqual(
      expect.objectContaining({ level: 'info', port: svc.port, topic: TOPIC }),
    );
  });

  it("tags a request's lines with its x-request-id and answers with it", async () => {
    const res = await fetch(`${base}/v1/records/no-such-event/receipt?sig=not-for-logs`, {
      headers: { 'x-request-id': 'test-req-0001', authorization: 'Bearer not-for-logs' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('test-req-0001');
    await pollUntil(() => logLines(svc).some((l) => l.requestId === 'test-req-0001' && l.msg === 'request completed'), {
      timeoutMs: 10_000,
      what: 'a log line with requestId test-req-0001',
    });
    const mine = logLines(svc).filter((l) => l.requestId === 'test-req-0001');
    expect(mine.find((l) => l.msg === 'request completed')).toEqual(
      expect.objectContaining({
        level: 'warn',
        req: { id: 'test-req-0001', method: 'GET', path: '/v1/records/no-such-event/receipt' },
        res: { statusCode: 401 },
      }),
    );
    // Neither the token nor the query string is logged.
    expect(svc.output()).not.toContain('not-for-logs');
  });

  it("tags the lines the service's own code writes during a request", async () => {
    const key = await loadOrCreateDevAuthKey(run.env.DATA_DIR);
    const token = await mintToken(
      key,
      { subject: 'test', roles: ['admin'], tenants: [ALL_TENANTS] },
      { issuer: 'routing-ledger', audience: 'routing-ledger-api', ttlSeconds: 600 },
    );
    const res = await fetch(`${base}/v1/gateways`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-request-id': 'test-req-0002',
      },
      body: JSON.stringify({ id: 'gw-logs-1', kind: 'native' }),
    });
    expect(res.status).toBe(201);
    await pollUntil(() => logLines(svc).some((l) => l.requestId === 'test-req-0002' && l.msg === 'request completed'), {
      timeoutMs: 10_000,
      what: 'the request completed line of test-req-0002',
    });
    // GatewayRegistry logs the registration: a line of the service, not of the HTTP logger.
    expect(logLines(svc).find((l) => /gateway "gw-logs-1" registered/.test(l.msg))).toEqual(
      expect.objectContaining({ level: 'info', context: 'GatewayRegistry', requestId: 'test-req-0002' }),
    );
  });

  it('gives a request without an id a new one, in the header and the log', async () => {
    const res = await fetch(`${base}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await pollUntil(async () => logLines(svc).some((l) => l.requestId === id && l.msg === 'request completed'), {
      timeoutMs: 10_000,
      what: `a log line with requestId ${id}`,
    });
  });

  it('logs each appended batch with its topic, partition, shard and offsets as fields', async () => {
    const producer = new kafkajs.Kafka({
      clientId: 't',
      brokers: run.kafka.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).producer();
    await producer.connect();
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: EVENTS }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: JSON.stringify(validEvent(i)),
      })),
    });
    await producer.disconnect();
    await pollUntil(
      async () => Number((await run.db.query<{ n: string }>('SELECT count(*) AS n FROM records'))[0].n) === EVENTS,
      { timeoutMs: 60_000, what: `${EVENTS} records` },
    );
    const batchLines = () => logLines(svc).filter((l) => l.msg === 'batch appended');
    await pollUntil(() => batchLines().reduce((n, b) => n + Number(b.appended), 0) === EVENTS, {
      timeoutMs: 10_000,
      what: `batch lines covering ${EVENTS} appended events`,
    });
    const batches = batchLines();
    for (const b of batches) {
      expect(b).toEqual(
        expect.objectContaining({
          level: 'debug',
          topic: TOPIC,
          partition: expect.any(Number),
          firstOffset: expect.any(String),
          lastOffset: expect.any(String),
        }),
      );
      expect(b.shard).toBe(b.partition);
      expect(BigInt(b.lastOffset as string) - BigInt(b.firstOffset as string) + 1n).toBe(BigInt(b.messages as number));
    }
    // Both partitions, each from offset 0 to its last message.
    for (const p of [0, 1]) {
      const mine = batches.filter((b) => b.partition === p);
      expect(mine.map((b) => b.firstOffset)).toContain('0');
      expect(mine.map((b) => b.lastOffset)).toContain(String(EVENTS / 2 - 1));
    }
  });
});
