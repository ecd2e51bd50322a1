import { jest } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { decodeExportResponse, decodeRpcStatus } from '../../src/ingest/bridges/otlp-protobuf.js';
import {
  DLQ,
  TOPIC,
  ledgerRecords,
  quarantineRows,
  readTopic,
  startLedgerRun,
  waitConsumed,
  waitTopicCount,
  type LedgerRun,
} from '../support/ledger-harness.js';

jest.setTimeout(300_000);

/**
 * The OpenTelemetry JS SDK's own OTLP/HTTP exporters — protobuf (gzip-compressed) and JSON — export
 * the same GenAI spans to POST /v1/traces. Both give the same records; spans without a tenant are
 * quarantined with their reason and reported in partial_success; no API key or prompt/response text
 * reaches the decisions topic, the dead-letter topic or the tables.
 */

const API_KEY = 'sk-proj-PLANTEDotlpKEY0123456789';
const PROMPT = 'PLANTED-OTLP-PROMPT: summarise the incident';
const ANSWER = 'PLANTED-OTLP-ANSWER: the primary failed over';

/** A chat span served by a dated model, an error span whose status message quotes a key, an HTTP span. */
function genAiSpans(tenant: string | undefined): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('first-contact-app', '0.1.0');
  const tenantAttr = tenant ? { 'routing.tenant_id': tenant } : {};
  const chat = tracer.startSpan('chat gpt-4o', {
    kind: SpanKind.CLIENT,
    attributes: {
      ...tenantAttr,
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 9,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: PROMPT }] }]),
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }]),
    },
  });
  chat.end();
  const failed = tracer.startSpan('chat gpt-4o-mini', {
    kind: SpanKind.CLIENT,
    attributes: {
      ...tenantAttr,
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'error.type': '401',
    },
  });
  failed.setStatus({ code: SpanStatusCode.ERROR, message: `Incorrect API key provided: ${API_KEY}` });
  failed.end();
  tracer.startSpan('GET /healthz', { kind: SpanKind.SERVER }).end();
  return memory.getFinishedSpans();
}

/** One export through a real exporter; resolves with the exporter's result code (0 = success). */
function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<number> {
  return new Promise((resolve) => exporter.export(spans, (r) => resolve(r.code)));
}

describe('OTLP/HTTP protobuf and JSON from the OpenTelemetry SDK exporters', () => {
  let run: LedgerRun;

  beforeAll(async () => {
    run = await startLedgerRun({ env: { DEFAULT_TENANT: '' } });
  });

  afterAll(async () => {
    await run?.stop();
  });

  it('both encodings give the same records; nothing secret on the topics; tenant-less spans quarantined', async () => {
    const url = `${run.baseUrl}/v1/traces`;
    const proto = new OtlpProtoExporter({
      url,
      headers: { 'x-routing-gateway-id': 'otel-proto' },
      compression: 'gzip' as never,
    });
    const json = new OtlpHttpJsonExporter({ url, headers: { 'x-routing-gateway-id': 'otel-json' } });
    const spans = genAiSpans('acme');
    expect(await exportWith(proto, spans)).toBe(0);
    expect(await exportWith(json, spans)).toBe(0);
    await proto.shutdown();
    await json.shutdown();

    // Spans naming no tenant, DEFAULT_TENANT empty: 200 with partial_success in protobuf, and quarantined.
    const orphan = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'x-routing-gateway-id': 'otel-orphan' },
      body: Buffer.from(ProtobufTraceSerializer.serializeRequest(genAiSpans(undefined))!),
    });
    expect(orphan.status).toBe(200);
    expect(orphan.headers.get('content-type')).toContain('application/x-protobuf');
    const partial = decodeExportResponse(new Uint8Array(await orphan.arrayBuffer()));
    expect(partial.rejectedSpans).toBe('2');
    expect(partial.errorMessage).toContain('quarantined');
    expect(partial.errorMessage).toContain('no tenant');

    // Errors answer in the request's encoding too.
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0x05, 0x0a, 0x03]),
    });
    expect(bad.status).toBe(400);
    expect(decodeRpcStatus(new Uint8Array(await bad.arrayBuffer())).code).toBe(3);
    const unsupported = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(unsupported.status).toBe(415);
    expect(await unsupported.json()).toMatchObject({ code: 3 });

    // 2 inference spans × 2 exporters + 2 quarantined; the HTTP spans never reach the topic.
    await waitTopicCount(run, 6);
    await waitConsumed(run);
    const records = (await ledgerRecords(run.db)) as CanonicalRecord[];
    const of = (gateway: string) =>
      records
        .filter((r) => r.gateway.id === gateway)
        .map(({ event_id: _e, received_at: _r, gateway: _g, source, ...rest }) => ({
          ...rest,
          source: { format: source.format, adapter_version: source.adapter_version },
        }))
        .sort((a, b) => a.request_id.localeCompare(b.request_id));
    expect(of('otel-proto')).toHaveLength(2);
    expect(of('otel-proto')).toEqual(of('otel-json'));
    const served = records.find((r) => r.gateway.id === 'otel-proto' && r.requested_model === 'gpt-4o')!;
    expect(served).toMatchObject({
      tenant_id: 'acme',
      reported_model: { value: 'gpt-4o-2024-08-06' },
      usage: { input_tokens: 21, output_tokens: 9 },
      trace_id: spans[0].spanContext().traceId,
    });
    expect(served.content?.prompt_sha256).toMatch(/^[0-9a-f]{64}$/);

    const quarantine = await quarantineRows(run.db);
    expect(quarantine.map((q) => q.reason_code)).toEqual(['NO_TENANT', 'NO_TENANT']);

    const planted = [API_KEY, 'PLANTEDotlpKEY', PROMPT, ANSWER, 'PLANTED-OTLP'];
    for (const topic of [TOPIC, DLQ]) {
      const text = (await readTopic(run.kafka.brokers, topic)).map((m) => m.value?.toString() ?? '').join('\n');
      expect({ topic, found: planted.filter((p) => text.includes(p)) }).toEqual({ topic, found: [] });
    }
    const stored = JSON.stringify(records) + JSON.stringify(quarantine);
    expect(planted.filter((p) => stored.includes(p))).toEqual([]);
  });
});
