import { isDeepStrictEqual } from 'node:util';
import { jest } from '@jest/globals';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { jsonArrayElements } from '../../src/ingest/bridges/json-split.js';
import { parseOtlpTraces, splitOtlpTraces } from '../../src/ingest/bridges/otlp-split.js';
import { redactForProduce } from '../../src/domain/privacy/redact.js';
import {
  expectedRecords,
  fixture,
  fixtures,
  KEY_FIELDS,
  mismatches,
  withoutIngestFields,
} from '../support/adapter-fixtures.js';
import {
  DLQ,
  TOPIC,
  ledgerRecords,
  post,
  quarantineRows,
  readTopic,
  startLedgerRun,
  waitConsumed,
  waitTopicCount,
  type LedgerRun,
} from '../support/ledger-harness.js';

jest.setTimeout(300_000);

/**
 * The HTTP bridges end to end, into one ledger: LiteLLM's generic_api logger target
 * (/v1/ingest/litellm: single, JSON array, NDJSON), the OTLP/HTTP JSON receiver (/v1/traces), and
 * /v1/events for the gateways whose bridge is the generic endpoint (OpenRouter generations,
 * native records). Portkey's bridge is a command: adapters-portkey-bridge.test.ts. Every request
 * names its own gateway id, so that no two fixtures describing the same call conflict.
 */

const TENANT = 'acme';
const gw = (tag: string) => ({ 'x-routing-tenant': TENANT, 'x-routing-gateway-id': `bridge-${tag}` });

/** What each accepted request must have become: [name, payload bytes as produced, headers the consumer sees]. */
const expectations: Array<{
  name: string;
  payload: Buffer;
  headers: Record<string, string>;
  keyFields?: Record<string, unknown>[];
}> = [];

let run: LedgerRun;
/** Event ids the NDJSON request was answered with: [fallback served, counts missing]. */
let ndjsonIds: string[] = [];

beforeAll(async () => {
  run = await startLedgerRun();
});

afterAll(async () => {
  await run?.stop();
});

describe('bridges: each gateway through its HTTP endpoint into the expected canonical records', () => {
  it('POST /v1/ingest/litellm: single payloads, the default JSON array, NDJSON', async () => {
    const url = `${run.baseUrl}/v1/ingest/litellm`;
    for (const f of fixtures(
      (x) => x.gateway === 'litellm' && !x.file.includes('secrets') && x.file !== 'generic-api-batch.json',
    )) {
      const headers = gw(`single-${f.file}`);
      const res = await post(url, f.bytes, headers);
      const want = expectedRecords(f.bytes, { ...headers, 'x-routing-format': 'litellm' });
      expect({ f: f.name, status: res.status, body: res.body }).toEqual({
        f: f.name,
        status: 202,
        body: { accepted: 1, event_ids: want.map((r) => r.event_id) },
      });
      expectations.push({
        name: `${f.name} (single)`,
        payload: f.bytes,
        headers: { ...headers, 'x-routing-format': 'litellm' },
        keyFields: KEY_FIELDS[f.name],
      });
    }

    // json_array, as LiteLLM sends by default: each element's own bytes become one message.
    const batch = fixture('litellm/generic-api-batch.json');
    const arrayHeaders = gw('array');
    const res = await post(url, batch.bytes, arrayHeaders);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    for (const el of jsonArrayElements(batch.bytes.toString()))
      expectations.push({
        name: 'generic-api-batch element',
        payload: Buffer.from(el),
        headers: { ...arrayHeaders, 'x-routing-format': 'litellm' },
      });

    // ndjson: the fallback and the counts-missing events (the two acceptance cases) in one body.
    const lines = ['slp-fallback-served.json', 'slp-counts-missing.json'].map((n) =>
      JSON.stringify(JSON.parse(fixture(`litellm/${n}`).bytes.toString())),
    );
    const ndHeaders = gw('ndjson');
    const nd = await post(url, lines.join('\n') + '\n', ndHeaders);
    expect(nd.status).toBe(202);
    expect(nd.body.accepted).toBe(2);
    ndjsonIds = nd.body.event_ids;
    expectations.push(
      {
        name: 'ndjson fallback',
        payload: Buffer.from(lines[0]),
        headers: { ...ndHeaders, 'x-routing-format': 'litellm' },
        keyFields: KEY_FIELDS['litellm/slp-fallback-served.json'],
      },
      {
        name: 'ndjson counts missing',
        payload: Buffer.from(lines[1]),
        headers: { ...ndHeaders, 'x-routing-format': 'litellm' },
        keyFields: KEY_FIELDS['litellm/slp-counts-missing.json'],
      },
    );
  });

  it('POST /v1/ingest/litellm: an undecodable event does not sink its batch; a request naming another format is refused', async () => {
    const url = `${run.baseUrl}/v1/ingest/litellm`;
    const good = JSON.parse(fixture('litellm/slp-retry.json').bytes.toString());
    const bad = { ...good, id: 'call-with-a-bad-time', startTime: 'tuesday' };
    const headers = gw('partly-bad');
    const res = await post(url, JSON.stringify([good, bad]), headers);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    expect(res.body.quarantined).toEqual([{ index: 1, errors: [expect.stringContaining('startTime')] }]);
    expectations.push({
      name: 'partly-bad good element',
      payload: Buffer.from(JSON.stringify(good)),
      headers: { ...headers, 'x-routing-format': 'litellm' },
    });

    const wrong = await post(url, fixture('litellm/slp-retry.json').bytes, {
      ...gw('wrong'),
      'x-routing-format': 'portkey',
    });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('this route takes litellm events');
    expect((await post(url, '{"truncated": ', gw('broken'))).status).toBe(202); // single payload: quarantined, with its reason
  });

  it('POST /v1/traces: OTLP/HTTP JSON, GenAI spans recorded, others ignored, bad spans rejected as OTLP partial success', async () => {
    const url = `${run.baseUrl}/v1/traces`;
    for (const f of fixtures((x) => x.gateway === 'otel' && !x.file.includes('secrets'))) {
      const headers = gw(`otlp-${f.file}`);
      const res = await post(url, f.bytes, headers);
      expect({ f: f.name, status: res.status, body: res.body }).toEqual({
        f: f.name,
        status: 200,
        body: { partialSuccess: {} },
      });
      for (const span of splitOtlpTraces(parseOtlpTraces(f.bytes))) {
        if (expectedRecords(span.payload, { ...headers, 'x-routing-format': 'otel' }).length === 0) continue; // HTTP and tool spans
        expectations.push({
          name: `${f.name} span`,
          payload: span.payload,
          headers: { ...headers, 'x-routing-format': 'otel' },
          keyFields: KEY_FIELDS[f.name],
        });
      }
    }

    // One export, two resources: a good GenAI span, and one with no tenant anywhere (no header either).
    const current = JSON.parse(fixture('otel/otlp-current.json').bytes.toString());
    const missing = JSON.parse(fixture('otel/otlp-missing.json').bytes.toString());
    const mixed = { resourceSpans: [...current.resourceSpans, ...missing.resourceSpans] };
    const headers = { 'x-routing-gateway-id': 'bridge-otlp-mixed' };
    const res = await post(url, JSON.stringify(mixed), headers);
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess.rejectedSpans).toBe(1);
    expect(res.body.partialSuccess.errorMessage).toContain('no tenant');
    for (const span of splitOtlpTraces(mixed)) {
      const h = { ...headers, 'x-routing-format': 'otel' };
      try {
        if (expectedRecords(span.payload, h).length)
          expectations.push({ name: 'mixed export good span', payload: span.payload, headers: h });
      } catch {
        /* the rejected span */
      }
    }

    const proto = await post(url, Buffer.from([0x0a, 0x05, 0x0a, 0x03]), { 'content-type': 'application/x-protobuf' });
    expect(proto.status).toBe(400); // not an ExportTraceServiceRequest (the answer is a protobuf Status)
    expect((await post(url, 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    const junk = await post(url, 'not json', {});
    expect(junk).toEqual({ status: 400, body: { code: 3, message: expect.stringContaining('not JSON') } });
    const empty = await post(url, '{"resourceSpans":[]}', {});
    expect(empty).toEqual({ status: 200, body: { partialSuccess: {} } });
  });

  it('POST /v1/events for OpenRouter generations (format header) and native records (sniffed: the service pins the format)', async () => {
    for (const f of fixtures(
      (x) => (x.gateway === 'openrouter' || x.gateway === 'native') && !x.file.includes('secrets'),
    )) {
      const headers: Record<string, string> = {
        ...gw(`events-${f.file}`),
        ...(f.gateway === 'openrouter' ? { 'x-routing-format': f.gateway } : {}),
      };
      const res = await post(`${run.baseUrl}/v1/events`, f.bytes, headers);
      expect({ f: f.name, status: res.status }).toEqual({ f: f.name, status: 202 });
      // /v1/events produces a single JSON value as its trimmed text (its behaviour before the bridges).
      expectations.push({
        name: `${f.name} (/v1/events)`,
        payload: Buffer.from(f.bytes.toString().trim()),
        headers,
        keyFields: KEY_FIELDS[f.name],
      });
    }
  });

  it('the consumer recorded exactly those events, matching the adapters field for field, and quarantined the undecodable ones', async () => {
    const produced = await readTopic(run.kafka.brokers, TOPIC);
    expect(
      produced.every((m) => ['litellm', 'otel', 'openrouter', 'native'].includes(m.headers['x-routing-format'])),
    ).toBe(true);
    await waitTopicCount(run, produced.length);
    await waitConsumed(run);
    const stored = new Map((await ledgerRecords(run.db)).map((r) => [r.event_id, r]));
    const want = expectations.flatMap((e) =>
      // What the routes produce is the payload with credentials and content masked.
      expectedRecords(redactForProduce(e.payload), e.headers).map((r, i) => ({ e, r, keyFields: e.keyFields?.[i] })),
    );
    expect(stored.size).toBe(want.length);
    const problems: string[] = [];
    for (const { e, r, keyFields } of want) {
      const got = stored.get(r.event_id) as CanonicalRecord | undefined;
      if (!got) {
        problems.push(`${e.name}: no record ${r.event_id}`);
        continue;
      }
      if (!isDeepStrictEqual(withoutIngestFields(got), withoutIngestFields(r)))
        problems.push(
          `${e.name}: stored record differs from the adapter's: ${JSON.stringify(withoutIngestFields(got))}`,
        );
      problems.push(...mismatches(got, keyFields ?? {}).map((m) => `${e.name}: ${m}`));
    }
    expect(problems).toEqual([]);

    // The acceptance cases once more, as stored: alias requested, fallback resolved, fallback_used true; counts missing → "unknown".
    const [fallback, counts] = ndjsonIds.map((id) => stored.get(id));
    expect(fallback).toMatchObject({
      requested_model: 'gpt-smart',
      resolved_model: { value: 'claude-fallback', asserted_by: 'gateway' },
      fallback_used: true,
    });
    expect(counts).toMatchObject({ fallback_used: 'unknown', attempts: { completeness: 'none' } });

    const quarantine = await quarantineRows(run.db);
    // The OTLP span without a tenant is quarantined too, not dropped.
    expect(quarantine.map((q) => q.reason_code).sort()).toEqual(['BAD_TIME', 'INVALID_JSON', 'NO_TENANT']);
    const dlq = await readTopic(run.kafka.brokers, DLQ);
    expect(dlq.map((m) => m.headers['x-dlq-reason-code']).sort()).toEqual(['BAD_TIME', 'INVALID_JSON', 'NO_TENANT']);
  });
});
