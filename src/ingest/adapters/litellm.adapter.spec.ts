import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { contentSha256, endUserHash, sha256Hex } from '../../domain/privacy/redact.js';
import { DecodeError, UNKNOWN_REQUESTED_MODEL, deriveEventId } from './adapter.js';
import { invalidRecords, fixtureBytes, fixtureJson, plantedFound, rawEvent } from './fixtures/fixture-kit.js';
import { litellmAdapter } from './litellm.adapter.js';

const adaptFixture = (name: string, headers: Record<string, string> = {}) =>
  litellmAdapter.adapt(rawEvent(fixtureBytes('litellm', name), headers));

describe('litellmAdapter fixture table', () => {
  it.each<[string, string, Partial<CanonicalRecord>]>([
    [
      'fallback served: alias requested, fallback group resolved',
      'slp-fallback-served.json',
      {
        requested_model: 'gpt-smart',
        resolved_model: { value: 'claude-fallback', asserted_by: 'gateway' },
        reported_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'provider' },
        fallback_used: true,
        retries: 0,
        attempts: { completeness: 'count_only', count: 2 },
        provider: 'anthropic',
        tenant_id: 'team-checkout',
        occurred_at: '2025-11-25T16:45:59.412Z',
        cost: { amount: '0.004215', currency: 'USD', source: 'gateway' },
        latency: { total_ms: 3569, gateway_overhead_ms: 12 },
        usage: { input_tokens: 315, output_tokens: 218, cached_input_tokens: 0, reasoning_tokens: 0 },
        outcome: { status: 'success', finish_reason: 'stop' },
        endpoint: { host: 'api.anthropic.com', path: '/v1/messages' },
        request_id: '4b0f8c2e-7d1a-4f3e-9a6b-2c5d8e9f1a3b',
        task: { tags: ['checkout', 'summarize'] },
      },
    ],
    [
      'counts missing: fallback unknown, never false',
      'slp-counts-missing.json',
      {
        requested_model: 'gpt-smart',
        resolved_model: { value: 'gpt-smart', asserted_by: 'gateway' },
        fallback_used: 'unknown',
        attempts: { completeness: 'none' },
      },
    ],
    [
      'legacy payload without the alias: requested unknown, not model_group',
      'slp-legacy-no-alias.json',
      {
        requested_model: UNKNOWN_REQUESTED_MODEL,
        resolved_model: { value: 'gpt-smart', asserted_by: 'gateway' },
        fallback_used: 'unknown',
        latency: { total_ms: 1250 },
      },
    ],
    [
      'retry: two retries, no fallback',
      'slp-retry.json',
      {
        fallback_used: false,
        retries: 2,
        attempts: { completeness: 'count_only', count: 3 },
        model_version: {
          version: 'gpt-4o-2024-08-06',
          deployment_id: expect.any(String),
          system_fingerprint: 'fp_50cad350e4',
        } as never,
      },
    ],
    [
      'cache hit with a naive startTime string (UTC) and underscore header aliases',
      'slp-cache-hit.json',
      {
        cache: {
          status: 'hit',
          key_hash: sha256Hex('4c1f0e8a9b3d2c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e'),
        },
        occurred_at: '2025-11-25T16:46:10.250Z',
        cost: { amount: '0', currency: 'USD', source: 'gateway' },
        fallback_used: false,
        latency: { total_ms: 12, gateway_overhead_ms: 2 },
      },
    ],
    [
      'error: rate limited, no fallback',
      'slp-error.json',
      {
        outcome: { status: 'error', http_status: 429, error_class: 'RateLimitError' },
        fallback_used: false,
        provider: 'openai',
      },
    ],
    [
      'streaming: TTFT from completionStartTime',
      'slp-streaming.json',
      {
        latency: { total_ms: 2800, ttft_ms: 412, gateway_overhead_ms: 12 },
        cost: { amount: '0.000015', currency: 'USD', source: 'gateway' },
      },
    ],
    [
      'spend-log row: JSON-string metadata, "None" cache_hit, counts in metadata',
      'spendlogs-row.json',
      {
        requested_model: 'gpt-mini-eu',
        fallback_used: false,
        retries: 1,
        tenant_id: 'team-billing',
        session_id: 'sess-20251125-billing-77',
        cache: { status: 'unknown' },
        provider: 'azure',
        occurred_at: '2025-11-25T16:47:02.118Z',
        cost: { amount: '0.000862', currency: 'USD', source: 'gateway' },
        usage: { input_tokens: 380, output_tokens: 32, cached_input_tokens: 256 },
        policy_checks: [{ name: 'pii-mask', result: 'pass' }],
        task: { tags: ['billing', 'invoice-summary'] },
        endpoint: { host: 'westeurope-prod.openai.azure.com' },
      },
    ],
  ])('%s', (_name, file, expected) => {
    const out = adaptFixture(file);
    expect(out).toHaveLength(1);
    expect(invalidRecords(out)).toEqual([]);
    expect(out[0].record).toMatchObject(expected);
    expect(out[0].record.source).toEqual({
      format: 'litellm',
      adapter_version: 'litellm/1',
      raw_sha256: sha256Hex(fixtureBytes('litellm', file)),
    });
  });

  it('explains every unknown in a note', () => {
    const [counts] = adaptFixture('slp-counts-missing.json');
    expect(counts.notes).toContain('fallback_used unknown: LiteLLM reported no attempted_fallbacks count');
    const [legacy] = adaptFixture('slp-legacy-no-alias.json');
    expect(legacy.notes.join('\n')).toContain('requested_model unknown');
  });

  it('reads a naive startTime as UTC and says so', () => {
    const [hit] = adaptFixture('slp-cache-hit.json');
    expect(hit.notes).toContain('startTime had no time zone; read as UTC');
  });

  it('counts a fallback when model_group differs even if attempted_fallbacks reads 0 (cooled-down primary)', () => {
    const ev = fixtureJson<Record<string, any>>('litellm', 'slp-fallback-served.json');
    ev.hidden_params.additional_headers['x-litellm-attempted-fallbacks'] = 0;
    const [r] = litellmAdapter.adapt(rawEvent(ev));
    expect(r.record.fallback_used).toBe(true);
    expect(r.notes.join('\n')).toContain('cooled-down primary');
  });

  it('hashes prompts and responses (JCS of the logged value), never stores them', () => {
    const ev = fixtureJson<Record<string, unknown>>('litellm', 'slp-fallback-served.json');
    const [r] = adaptFixture('slp-fallback-served.json');
    expect(r.record.content).toEqual({
      prompt_sha256: contentSha256(ev.messages),
      response_sha256: contentSha256(ev.response),
    });
    expect(JSON.stringify(r)).not.toContain('refund policy');
  });

  it('derives a deterministic event id from gateway, call id and status', () => {
    const [a] = adaptFixture('slp-fallback-served.json', { 'x-routing-gateway-id': 'litellm-eu-1' });
    const [b] = adaptFixture('slp-fallback-served.json', { 'X-Routing-Gateway-Id': 'litellm-eu-1' });
    expect(a.record.event_id).toBe(b.record.event_id);
    expect(a.record.event_id).toBe(
      deriveEventId('litellm-eu-1', 'chatcmpl-6e1c5f7e-2b2d-4a55-9f43-0e8d2b1a9c11', 'status:success'),
    );
    expect(a.record.gateway).toEqual({ id: 'litellm-eu-1', kind: 'litellm' });
  });
});

describe('litellmAdapter batches (generic_api log_format)', () => {
  const batch = fixtureBytes('litellm', 'generic-api-batch.json');
  const events = JSON.parse(batch.toString('utf8')) as unknown[];

  it.each<[string, Buffer]>([
    ['json_array', batch],
    ['ndjson', Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n')],
  ])('%s gives one record per event, in order', (_fmt, payload) => {
    const out = litellmAdapter.adapt(rawEvent(payload));
    expect(invalidRecords(out)).toEqual([]);
    expect(out.map((o) => [o.record.outcome.status, o.record.resolved_model?.value])).toEqual([
      ['error', 'gpt-smart'],
      ['success', 'claude-fallback'],
    ]);
    // Both belong to the same client request (LiteLLM trace_id) but are distinct events.
    expect(out[0].record.request_id).toBe(out[1].record.request_id);
    expect(out[0].record.event_id).not.toBe(out[1].record.event_id);
  });

  it('accepts the callback wrapper { standard_logging_object }', () => {
    const out = litellmAdapter.adapt(rawEvent({ standard_logging_object: events[1] }));
    expect(out[0].record.requested_model).toBe('gpt-smart');
  });
});

describe('litellmAdapter secret planting', () => {
  it('keeps no planted key, bearer token, e-mail, query token, prompt or completion', () => {
    const out = adaptFixture('slp-secrets.json');
    expect(invalidRecords(out)).toEqual([]);
    expect(plantedFound(out)).toEqual([]);
    const r = out[0].record;
    expect(r.end_user_hash).toBe(endUserHash('jane.doe@example.com'));
    expect(r.endpoint).toEqual({ host: 'my-azure.openai.azure.com', path: '/openai/deployments/gpt4o' });
    expect(r.task?.tags).toEqual(['checkout', 'owner=[EMAIL]', 'Authorization: [REDACTED] [REDACTED]']);
  });

  it('holds for every LiteLLM fixture (prompts present in all of them)', () => {
    for (const f of ['slp-fallback-served.json', 'slp-error.json', 'spendlogs-row.json', 'generic-api-batch.json']) {
      const out = adaptFixture(f);
      expect(JSON.stringify(out)).not.toMatch(/refund policy|Rate limit reached/);
    }
  });
});

describe('litellmAdapter decode errors', () => {
  it.each<[string, unknown, Record<string, string>, string, string]>([
    [
      'startTime unreadable',
      { ...fixtureJson<object>('litellm', 'slp-fallback-served.json'), startTime: 'yesterday' },
      {},
      'BAD_TIME',
      'litellm: startTime is neither epoch seconds nor a timestamp',
    ],
    [
      'no tenant anywhere',
      { ...fixtureJson<Record<string, unknown>>('litellm', 'slp-fallback-served.json'), metadata: {} },
      {},
      'NO_TENANT',
      'x-routing-tenant',
    ],
    ['not LiteLLM', { hello: 'world' }, {}, 'NOT_LITELLM', 'StandardLoggingPayload'],
  ])('%s', (_n, payload, headers, code, message) => {
    try {
      litellmAdapter.adapt(rawEvent(payload as object, headers));
      throw new Error('expected a DecodeError');
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe(code);
      expect((e as DecodeError).message).toContain(message);
    }
  });

  it('falls back to the x-routing-tenant header', () => {
    const ev = {
      ...fixtureJson<Record<string, unknown>>('litellm', 'slp-fallback-served.json'),
      metadata: { original_model_group: 'gpt-smart' },
    };
    const [r] = litellmAdapter.adapt(rawEvent(ev, { 'x-routing-tenant': 'acme' }));
    expect(r.record.tenant_id).toBe('acme');
    expect(r.notes).toContain('tenant_id from the x-routing-tenant header');
  });

  it('never quotes the payload in a JSON error (V8 messages include a snippet)', () => {
    expect(() => litellmAdapter.adapt(rawEvent('{"api_key":"sk-live-PLANTEDx9f8e7d6c5b4a3"'))).toThrow(
      /^litellm: payload is not valid JSON$/,
    );
  });
});
