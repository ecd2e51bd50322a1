import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { redactForDeadLetter } from '../../src/domain/privacy/redact.js';
import { PLANTED } from '../../src/ingest/adapters/fixtures/fixture-kit.js';
import { fixture, fixtures } from '../support/adapter-fixtures.js';
import {
  DLQ,
  dumpDatabaseText,
  ledgerRecords,
  post,
  produce,
  quarantineRows,
  readTopic,
  startLedgerRun,
  waitConsumed,
  type LedgerRun,
  type ProducedMessage,
} from '../support/ledger-harness.js';

jest.setTimeout(300_000);

/**
 * Principle 4 end to end: the *-secrets fixtures plant API keys, bearer tokens, a virtual key,
 * e-mail addresses, a query-string token, prompt and completion text (fixture-kit PLANTED). Every
 * adapter's secrets fixture goes through Kafka and through its bridge, as valid events and as
 * poison (truncated, wrapped in an unknown format, read by the wrong adapter, conflicting), with
 * secrets in HTTP headers and query strings too. Afterwards no planted value may appear in any
 * table of the database, in the service's stdout/stderr, in the dead-letter topic (keys, values,
 * headers), in an HTTP answer, or in the Portkey bridge's log.
 */

const SECRETS = fixtures((f) => f.file.includes('secrets'));
const WRONG_FORMAT: Record<string, string> = {
  litellm: 'openrouter',
  portkey: 'otel',
  openrouter: 'litellm',
  otel: 'native',
  native: 'portkey',
};
const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'bridge-portkey.js');
const truncated = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length * 0.6));

/**
 * KNOWN LEAK, not fixed here (src/domain/privacy/redact.ts is outside the bridges' files): when a
 * payload no longer parses (truncated), redactForDeadLetter falls back to regexes that miss
 * secret-named pairs and content inside a JSON document carried as a string — Portkey's
 * x-portkey-config (`\"virtual_key\": \"...\"`), OTLP's gen_ai.input.messages stringValue — and
 * OTLP content under "stringValue" keys. The quarantine row and the DLQ message would keep them.
 */
const TRUNCATION_LEAKS = ['portkey/capture-secrets.json', 'otel/otlp-secrets.json'];
/** A cut a little past the planted value, as a producer dying mid-write would leave it. */
const cutAfter = (bytes: Buffer, marker: string) => bytes.subarray(0, bytes.indexOf(marker) + marker.length + 12);
const LEAKING_CUTS: Array<[string, string]> = [
  ['portkey/capture-secrets.json', 'PLANTEDvirtualKEY'],
  ['otel/otlp-secrets.json', 'PLANTED-PROMPT-TEXT'],
];

function planted(text: string): string[] {
  return PLANTED.filter((p) => text.includes(p));
}

/** Where each planted value was found, e.g. ["dlq value 3: jane.doe@example.com"]. */
const leaks: string[] = [];
const check = (where: string, text: string) => leaks.push(...planted(text).map((p) => `${where}: ${p}`));

let run: LedgerRun;

beforeAll(async () => {
  run = await startLedgerRun();
});

afterAll(async () => {
  await run?.stop();
});

describe('secret planting: no planted secret or content survives anywhere, for every adapter', () => {
  it('the fixtures really plant secrets (else this test proves nothing)', () => {
    expect(SECRETS.map((f) => f.gateway).sort()).toEqual(['litellm', 'native', 'openrouter', 'otel', 'portkey']);
    for (const f of SECRETS)
      expect({ f: f.name, n: planted(f.bytes.toString()).length >= 3 }).toEqual({ f: f.name, n: true });
  });

  it('through Kafka: valid, truncated, unknown-format, wrong-adapter and conflicting events', async () => {
    const messages: ProducedMessage[] = [];
    for (const f of SECRETS) {
      const headers = { 'x-routing-tenant': 'acme', 'x-routing-gateway-id': 'kafka-secrets' };
      messages.push(
        { value: f.bytes, headers: { ...headers, 'x-routing-format': f.gateway } },
        { value: Buffer.from(JSON.stringify({ wrapped: JSON.parse(f.bytes.toString()) })), headers },
        { value: f.bytes, headers: { ...headers, 'x-routing-format': WRONG_FORMAT[f.gateway] } },
      );
      // Truncated (no longer JSON): see the known leaks below for the two fixtures this still fails on.
      if (!TRUNCATION_LEAKS.includes(f.name))
        messages.push({ value: truncated(f.bytes), headers: { ...headers, 'x-routing-format': f.gateway } });
    }
    // capture-secrets and capture-fallback describe the same Portkey call with different content.
    messages.push({
      value: fixture('portkey/capture-fallback.json').bytes,
      headers: { 'x-routing-tenant': 'acme', 'x-routing-gateway-id': 'kafka-secrets', 'x-routing-format': 'portkey' },
    });
    await produce(run.kafka.brokers, messages);
  });

  it('through the bridges, with secrets in headers and query strings as well', async () => {
    const secretHeaders = {
      'x-api-key': 'sk-live-PLANTEDx9f8e7d6c5b4a3',
      cookie: 'session=PLANTEDbearerTOKEN1234567890',
    };
    const answers: Array<{ status: number; body: unknown }> = [];
    const slp = fixture('litellm/slp-secrets.json');
    answers.push(
      await post(`${run.baseUrl}/v1/ingest/litellm?token=PLANTEDQUERYSECRET42`, slp.bytes, {
        ...secretHeaders,
        'x-routing-gateway-id': 'bridge-secrets',
      }),
    );
    const broken = { ...JSON.parse(slp.bytes.toString()), id: 'secrets-broken', startTime: 'never' };
    answers.push(
      await post(`${run.baseUrl}/v1/ingest/litellm`, JSON.stringify([broken]), {
        'x-routing-gateway-id': 'bridge-secrets',
      }),
    );
    // A bearer token the service does not accept: refused, and the token is not repeated or logged.
    answers.push(
      await post(`${run.baseUrl}/v1/ingest/litellm`, slp.bytes, {
        authorization: 'Bearer PLANTEDbearerTOKEN1234567890',
        'x-routing-gateway-id': 'bridge-secrets-auth',
      }),
    );

    const otlp = fixture('otel/otlp-secrets.json');
    answers.push(
      await post(`${run.baseUrl}/v1/traces?api_key=PLANTEDQUERYSECRET42`, otlp.bytes, {
        ...secretHeaders,
        'x-routing-gateway-id': 'bridge-secrets-otel',
      }),
    );
    const noTenant = JSON.parse(
      otlp.bytes.toString().replace(/"(routing\.tenant_id|tenant\.id|tenant_id)"/g, '"not.a.tenant"'),
    );
    const rejected = await post(`${run.baseUrl}/v1/traces`, JSON.stringify(noTenant), {
      'x-routing-gateway-id': 'bridge-secrets-otel-rejected',
    });
    expect(rejected.body).toMatchObject({ partialSuccess: { rejectedSpans: 1 } });
    answers.push(rejected);

    // Another generation (its own gen- id): the same one would conflict with the Kafka copy.
    const gen = fixture('openrouter/generation-secrets.json')
      .bytes.toString()
      .replace(/gen-\d+-\w+/g, 'gen-1764090000-BridgeSecrets0001');
    answers.push(
      await post(`${run.baseUrl}/v1/events`, gen, {
        ...secretHeaders,
        'x-routing-tenant': 'acme',
        'x-routing-format': 'openrouter',
      }),
    );
    const native = {
      ...JSON.parse(fixture('native/record-secrets.json').bytes.toString()),
      event_id: 'native-bridge-secrets-1',
    };
    answers.push(await post(`${run.baseUrl}/v1/events`, JSON.stringify(native), secretHeaders));
    answers.push(
      await post(`${run.baseUrl}/v1/events`, fixture('portkey/capture-secrets.json').bytes, {
        'x-routing-gateway-id': 'bridge-secrets-portkey',
        'x-routing-format': 'portkey',
      }),
    );
    // An invalid /v1/events request: the 400 lists what is wrong without repeating the secrets.
    answers.push(
      await post(`${run.baseUrl}/v1/events`, JSON.stringify({ ...native, occurred_at: 'soon' }), {
        'x-routing-format': 'native',
      }),
    );

    expect(answers.map((a) => a.status)).toEqual([202, 202, 401, 200, 200, 202, 202, 202, 400]);
    answers.forEach((a, i) => check(`HTTP answer ${i}`, JSON.stringify(a.body)));
  });

  it('through bridge portkey (NDJSON on stdin)', async () => {
    const capture = JSON.stringify(JSON.parse(fixture('portkey/capture-secrets.json').bytes.toString()));
    const child = spawn(process.execPath, [CLI, '--ndjson', '-', '--gateway-id', 'cli-secrets'], {
      env: { ...process.env, KAFKA_BROKERS: run.kafka.brokers.join(',') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    // The entry, a broken copy of it (not JSON: skipped), and one the ledger will quarantine (no tenant anywhere).
    const noTenant = capture.replace('ws-support', '');
    child.stdin.end(`${capture}\n${capture.slice(0, 900)}\n${noTenant}\n`);
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    check('bridge-portkey log', log);
  });

  it('nothing planted in the database, the service logs or the dead-letter topic', async () => {
    await waitConsumed(run);
    const records = await ledgerRecords(run.db);
    const quarantine = await quarantineRows(run.db);
    // The valid events were recorded: 5 through Kafka, then LiteLLM, OTLP, OpenRouter, native, Portkey (HTTP) and Portkey (CLI).
    expect(records.length).toBe(11);
    const codes = new Set(quarantine.map((q) => q.reason_code));
    for (const code of ['INVALID_JSON', 'UNKNOWN_FORMAT', 'CONFLICT', 'BAD_TIME']) expect(codes).toContain(code);
    expect(quarantine.length).toBeGreaterThanOrEqual(5 * 2 + 3 + 1 + 1);

    check('database', await dumpDatabaseText(run.db));
    check('service output', run.svc.output());
    const dlq = await readTopic(run.kafka.brokers, DLQ);
    expect(dlq.length).toBe(quarantine.length);
    dlq.forEach((m, i) =>
      check(`dlq message ${i}`, JSON.stringify({ key: m.key, value: m.value?.toString('utf8'), headers: m.headers })),
    );
    expect(leaks).toEqual([]);
  });
});

describe('truncated payloads dead-lettered with secrets inside JSON-in-a-string (redact.ts)', () => {
  it.each(LEAKING_CUTS)(
    '%s cut after %s: what quarantine and the DLQ would store keeps no planted value',
    (name, marker) => {
      const stored = redactForDeadLetter(cutAfter(fixture(name).bytes, marker)).toString('utf8');
      expect(planted(stored)).toEqual([]);
    },
  );
});
