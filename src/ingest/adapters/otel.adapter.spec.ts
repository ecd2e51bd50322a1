import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { contentSha256, endUserHash, sha256Hex } from '../../domain/privacy/redact.js';
import { UNKNOWN_REQUESTED_MODEL, deriveEventId } from './adapter.js';
import { invalidRecords, fixtureBytes, fixtureJson, plantedFound, rawEvent } from './fixtures/fixture-kit.js';
import { otelAdapter } from './otel.adapter.js';

const adaptFixture = (name: string, headers: Record<string, string> = {}) =>
  otelAdapter.adapt(rawEvent(fixtureBytes('otel', name), headers));

describe('otelAdapter fixture table', () => {
  it.each<[string, string, Record<string, string>, number, Partial<CanonicalRecord>]>([
    [
      'current attribute names, streamed chat span (TTFT seconds → ms); HTTP and tool spans skipped',
      'otlp-current.json',
      {},
      1,
      {
        requested_model: 'gpt-4o',
        reported_model: { value: 'gpt-4o-2024-08-06', asserted_by: 'provider' },
        provider: 'openai',
        tenant_id: 'acme-support',
        gateway: { id: 'support-gw-7c9f', kind: 'otel', version: '2.14.0' },
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        request_id: 'chatcmpl-AXm4f2',
        session_id: 'conv_5j66UpCpwteGg4YSxUnt7lPY',
        occurred_at: '2025-11-25T16:50:59.120Z',
        latency: { total_ms: 2729, ttft_ms: 413 },
        usage: { input_tokens: 1210, output_tokens: 264, cached_input_tokens: 1024 },
        fallback_used: 'unknown',
        attempts: { completeness: 'none' },
        model_version: { system_fingerprint: 'fp_50cad350e4' },
        endpoint: { host: 'api.openai.com' },
        outcome: { status: 'success', finish_reason: 'stop' },
      },
    ],
    [
      'deprecated names (gen_ai.system, prompt_tokens) from LiteLLM-style spans',
      'otlp-deprecated.json',
      {},
      1,
      {
        requested_model: 'claude-fallback',
        reported_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'provider' },
        provider: 'anthropic',
        tenant_id: 'acme-translate',
        gateway: { id: 'litellm-proxy', kind: 'otel' },
        usage: { input_tokens: 88, output_tokens: 19 },
        latency: { total_ms: 1230 },
        content: {
          prompt_sha256: contentSha256([{ role: 'user', content: "Translate 'merci' to English" }]),
          response_sha256: contentSha256([{ role: 'assistant', content: 'thank you' }]),
        },
      },
    ],
    [
      'error span: status 2, error.type, HTTP 429',
      'otlp-error.json',
      {},
      1,
      { outcome: { status: 'error', http_status: 429, error_class: 'RateLimitError' }, fallback_used: 'unknown' },
    ],
    [
      'missing fields: no model, provider or usage; tenant from the header',
      'otlp-missing.json',
      { 'x-routing-tenant': 'acme' },
      1,
      {
        requested_model: UNKNOWN_REQUESTED_MODEL,
        tenant_id: 'acme',
        gateway: { id: 'batch-worker', kind: 'otel' },
        latency: { total_ms: 750 },
        fallback_used: 'unknown',
      },
    ],
  ])('%s', (_name, file, headers, n, expected) => {
    const out = adaptFixture(file, headers);
    expect(out).toHaveLength(n);
    expect(invalidRecords(out)).toEqual([]);
    expect(out[0].record).toMatchObject(expected);
    expect(out[0].record.source).toEqual({
      format: 'otel',
      adapter_version: 'otel/1',
      raw_sha256: sha256Hex(fixtureBytes('otel', file)),
    });
  });

  it('notes each deprecated attribute it read', () => {
    const [r] = adaptFixture('otlp-deprecated.json');
    expect(r.notes).toEqual(
      expect.arrayContaining([
        'read deprecated attribute gen_ai.system',
        'read deprecated attribute gen_ai.usage.prompt_tokens',
        'read deprecated attribute gen_ai.usage.completion_tokens',
      ]),
    );
  });

  it('hashes messages the same whether sent as a JSON string or structured', () => {
    const doc = fixtureJson<any>('otel', 'otlp-current.json');
    const span = doc.resourceSpans[0].scopeSpans[0].spans[1];
    const attr = span.attributes.find((a: any) => a.key === 'gen_ai.input.messages');
    const messages = JSON.parse(attr.value.stringValue);
    const [asString] = otelAdapter.adapt(rawEvent(doc));
    attr.value = {
      arrayValue: {
        values: [
          {
            kvlistValue: {
              values: [
                { key: 'role', value: { stringValue: 'user' } },
                {
                  key: 'parts',
                  value: {
                    arrayValue: {
                      values: [
                        {
                          kvlistValue: {
                            values: [
                              { key: 'type', value: { stringValue: 'text' } },
                              { key: 'content', value: { stringValue: 'Where is my parcel?' } },
                            ],
                          },
                        },
                      ],
                    },
                  },
                },
              ],
            },
          },
        ],
      },
    };
    const [structured] = otelAdapter.adapt(rawEvent(doc));
    expect(asString.record.content?.prompt_sha256).toBe(contentSha256(messages));
    expect(structured.record.content?.prompt_sha256).toBe(asString.record.content?.prompt_sha256);
  });

  it('derives event ids from trace, span and status', () => {
    const [r] = adaptFixture('otlp-current.json');
    expect(r.record.event_id).toBe(
      deriveEventId('support-gw-7c9f', '4bf92f3577b34da6a3ce929d0e0e4736:53995c3f42cd8ad8', 'status:ok'),
    );
  });

  it('accepts base64 ids (protobuf-JSON mapping) and the older instrumentationLibrarySpans key', () => {
    const doc = fixtureJson<any>('otel', 'otlp-missing.json');
    const rs = doc.resourceSpans[0];
    rs.instrumentationLibrarySpans = rs.scopeSpans;
    delete rs.scopeSpans;
    const span = rs.instrumentationLibrarySpans[0].spans[0];
    span.traceId = Buffer.from(span.traceId, 'hex').toString('base64');
    span.spanId = Buffer.from(span.spanId, 'hex').toString('base64');
    const [r] = otelAdapter.adapt(rawEvent(doc, { 'x-routing-tenant': 'acme' }));
    expect(r.record.trace_id).toBe('5b8efff798038103d269b633813fc60c');
  });

  it('an OTLP batch without inference spans adapts to no records', () => {
    const doc = fixtureJson<any>('otel', 'otlp-current.json');
    doc.resourceSpans[0].scopeSpans[0].spans.splice(1, 1);
    expect(otelAdapter.adapt(rawEvent(doc))).toEqual([]);
  });

  it('rejects what is not OTLP', () => {
    expect(() => otelAdapter.adapt(rawEvent({ spans: [] }))).toThrow(expect.objectContaining({ code: 'NOT_OTLP' }));
  });
});

describe('otelAdapter secret planting', () => {
  it('keeps no planted key, bearer token, e-mail, query token, prompt or completion', () => {
    const out = adaptFixture('otlp-secrets.json');
    expect(invalidRecords(out)).toEqual([]);
    expect(plantedFound(out)).toEqual([]);
    expect(out[0].record.end_user_hash).toBe(endUserHash('jane.doe@example.com'));
    expect(out[0].record.content?.prompt_sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
