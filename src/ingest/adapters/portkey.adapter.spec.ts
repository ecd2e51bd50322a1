import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { endUserHash, sha256Hex } from '../../domain/privacy/redact.js';
import { DecodeError, UNKNOWN_REQUESTED_MODEL } from './adapter.js';
import { invalidRecords, fixtureBytes, fixtureJson, plantedFound, rawEvent } from './fixtures/fixture-kit.js';
import { parseOptionIndex, portkeyAdapter } from './portkey.adapter.js';

const adaptFixture = (name: string, headers: Record<string, string> = {}) =>
  portkeyAdapter.adapt(rawEvent(fixtureBytes('portkey', name), headers));

describe('portkeyAdapter fixture table', () => {
  it.each<[string, string, Record<string, string>, Partial<CanonicalRecord>]>([
    [
      'capture, fallback served by config.targets[1]',
      'capture-fallback.json',
      {},
      {
        requested_model: 'gpt-smart',
        resolved_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'gateway' },
        reported_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'provider' },
        provider: 'anthropic',
        fallback_used: true,
        retries: 0,
        attempts: {
          completeness: 'targets_only',
          items: [
            { index: 0, provider: 'openai', model: 'gpt-4o', status: 'error' },
            { index: 1, provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', status: 'success' },
          ],
        },
        routing: {
          strategy: 'fallback',
          router: 'portkey',
          config_hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
        },
        cache: { status: 'miss' },
        tenant_id: 'ws-support',
        end_user_hash: endUserHash('user-4821'),
        request_id: 'b8f6e0c2-1a3d-4e5f-9b7c-2d4e6f8a0b1c',
        occurred_at: '2025-11-25T16:48:09.331Z',
        latency: { total_ms: 2874 },
        usage: { input_tokens: 212, output_tokens: 141 },
        outcome: { status: 'success', http_status: 200, finish_reason: 'stop' },
        endpoint: { host: 'api.anthropic.com', path: '/v1/messages' },
      },
    ],
    [
      'capture, retries exhausted (-1) and rate limited',
      'capture-retry-exhausted.json',
      {},
      {
        fallback_used: false,
        retries: 3,
        cache: { status: 'bypass' },
        routing: { strategy: 'static', router: 'portkey', config_hash: expect.any(String) as unknown as string },
        resolved_model: { value: 'gpt-4o-mini', asserted_by: 'gateway' },
        outcome: { status: 'error', http_status: 429, error_class: 'requests' },
      },
    ],
    [
      'capture, semantic cache hit on a streamed request (timed by the Date header)',
      'capture-cache-hit.json',
      {},
      {
        cache: { status: 'semantic_hit' },
        fallback_used: false,
        occurred_at: '2025-11-25T16:48:12.000Z',
        latency: { total_ms: 38 },
      },
    ],
    [
      'capture with a saved config id: non-primary target, strategy unknown → fallback unknown',
      'capture-saved-config.json',
      {},
      {
        fallback_used: 'unknown',
        routing: { rule_id: 'pc-support-3f2a1b', router: 'portkey' },
        attempts: { completeness: 'none' },
        provider: 'anthropic',
      },
    ],
    [
      'export row: cost in cents converted exactly, stream mode',
      'export-row.json',
      {},
      {
        cost: { amount: '0.000216', currency: 'USD', source: 'gateway' },
        requested_model: 'gpt-smart',
        resolved_model: { value: 'gpt-4o-mini', asserted_by: 'gateway' },
        provider: 'openai',
        tenant_id: 'ws-support',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        fallback_used: 'unknown',
        retries: 0,
        usage: { input_tokens: 96, output_tokens: 12 },
        latency: { total_ms: 812 },
        routing: { strategy: 'fallback', rule_id: 'pc-support-3f2a1b', router: 'portkey' },
        outcome: { status: 'success', http_status: 200 },
      },
    ],
    [
      'log stream: two targets tried, full target list with per-target timing',
      'logstream-fallback.json',
      { 'x-routing-tenant': 'acme' },
      {
        requested_model: 'gpt-smart',
        resolved_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'gateway' },
        reported_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'provider' },
        fallback_used: true,
        provider: 'anthropic',
        tenant_id: 'acme',
        occurred_at: '2025-11-25T16:50:58.870Z',
        attempts: {
          completeness: 'targets_only',
          items: [
            {
              index: 0,
              provider: 'openai',
              model: 'gpt-4o',
              status: 'error',
              error_class: 'requests',
              latency_ms: 611,
              started_at: '2025-11-25T16:50:58.870Z',
            },
            {
              index: 1,
              provider: 'anthropic',
              model: 'claude-sonnet-4-5-20250929',
              status: 'success',
              latency_ms: 2781,
              started_at: '2025-11-25T16:50:59.488Z',
            },
          ],
        },
        cache: { status: 'bypass' },
        latency: { total_ms: 3402 },
        usage: { input_tokens: 40, output_tokens: 120 },
      },
    ],
  ])('%s', (_name, file, headers, expected) => {
    const out = adaptFixture(file, headers);
    expect(out).toHaveLength(1);
    expect(invalidRecords(out)).toEqual([]);
    expect(out[0].record).toMatchObject(expected);
    expect(out[0].record.source).toEqual({
      format: 'portkey',
      adapter_version: 'portkey/1',
      raw_sha256: sha256Hex(fixtureBytes('portkey', file)),
    });
  });

  it('says why retries came from the config when the header reads -1', () => {
    const [r] = adaptFixture('capture-retry-exhausted.json');
    expect(r.notes).toContain(
      'x-portkey-retry-attempt-count -1 (retries exhausted): retries = the 3 configured attempts',
    );
  });

  it('leaves retries out when -1 and the config is not known', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-retry-exhausted.json');
    ev.request.headers['x-portkey-config'] = 'pc-abc';
    const [r] = portkeyAdapter.adapt(rawEvent(ev));
    expect(r.record.retries).toBeUndefined();
    expect(r.notes.join('\n')).toContain('configured attempts are unknown');
  });

  it('converts cents with string arithmetic, never a float', () => {
    const row = fixtureJson<Record<string, unknown>>('portkey', 'export-row.json');
    const cases: Array<[unknown, string]> = [
      [0.0216, '0.000216'],
      ['1234.5', '12.345'],
      [1e-7, '0.000000001'],
      [12, '0.12'],
    ];
    for (const [cents, dollars] of cases) {
      const [r] = portkeyAdapter.adapt(rawEvent({ ...row, cost: cents }));
      expect(r.record.cost?.amount).toBe(dollars);
    }
  });

  it('leaves a cost out, with a note, when dollars need more than 18 fractional digits (no rounding)', () => {
    const row = fixtureJson<Record<string, unknown>>('portkey', 'export-row.json');
    const [r] = portkeyAdapter.adapt(rawEvent({ ...row, cost: 0.1 + 0.2 })); // 0.0030000000000000004 USD: 19 digits
    expect(r.record.cost).toBeUndefined();
    expect(r.notes.join('\n')).toContain('left out rather than rounded');
  });

  it('reads a numeric option index from older gateways and nested targets', () => {
    expect(parseOptionIndex('config')).toEqual([]);
    expect(parseOptionIndex('config.targets[1].targets[0]')).toEqual([1, 0]);
    expect(parseOptionIndex('2')).toEqual([2]);
    expect(parseOptionIndex('targets[x]')).toBeUndefined();
  });

  it('nested: fallback at the top, loadbalance below', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-fallback.json');
    ev.request.headers['x-portkey-config'] = JSON.stringify({
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'openai', override_params: { model: 'gpt-4o' } },
        {
          strategy: { mode: 'loadbalance' },
          targets: [
            { provider: 'anthropic', override_params: { model: 'claude-sonnet-4-5-20250929' } },
            { provider: 'bedrock' },
          ],
        },
      ],
    });
    ev.response.headers['x-portkey-last-used-option-index'] = 'config.targets[1].targets[0]';
    const [r] = portkeyAdapter.adapt(rawEvent(ev));
    expect(r.record.fallback_used).toBe(true);
    expect(r.record.resolved_model?.value).toBe('claude-sonnet-4-5-20250929');
  });

  it('loadbalance picking targets[1] is not a fallback', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-fallback.json');
    ev.request.headers['x-portkey-config'] = JSON.stringify({
      strategy: { mode: 'loadbalance' },
      targets: [
        { provider: 'openai', weight: 0.5 },
        { provider: 'anthropic', weight: 0.5 },
      ],
    });
    const [r] = portkeyAdapter.adapt(rawEvent(ev));
    expect(r.record.fallback_used).toBe(false);
    expect(r.record.routing?.strategy).toBe('loadbalance');
    expect(r.record.resolved_model?.value).toBe('gpt-smart');
    expect(r.notes.join('\n')).toContain('passed the requested model through');
  });

  it('config_hash names the routing policy: unchanged when a key in the config is rotated', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-fallback.json');
    const [before] = portkeyAdapter.adapt(rawEvent(ev));
    const config = JSON.parse(ev.request.headers['x-portkey-config']);
    config.targets[0].api_key = 'rotated-key-material';
    ev.request.headers['x-portkey-config'] = JSON.stringify(config);
    const [after] = portkeyAdapter.adapt(rawEvent(ev));
    expect(after.record.routing?.config_hash).toBe(before.record.routing?.config_hash);
    config.strategy.mode = 'loadbalance';
    ev.request.headers['x-portkey-config'] = JSON.stringify(config);
    expect(portkeyAdapter.adapt(rawEvent(ev))[0].record.routing?.config_hash).not.toBe(
      before.record.routing?.config_hash,
    );
  });

  it('a request without a model gives requested_model "unknown", not the served one', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-fallback.json');
    delete ev.request.body.model;
    const [r] = portkeyAdapter.adapt(rawEvent(ev));
    expect(r.record.requested_model).toBe(UNKNOWN_REQUESTED_MODEL);
  });
});

describe('portkeyAdapter log-stream entries from the open-source gateway', () => {
  const entry = () => fixtureJson<Record<string, any>>('portkey', 'logstream-fallback.json');
  const adapt = (e: Record<string, any>) =>
    portkeyAdapter.adapt(rawEvent(e, { 'x-routing-tenant': 'acme' }))[0].record as CanonicalRecord;

  it('gives each attempt the host it was sent to', () => {
    expect(adapt(entry()).attempts?.items?.map((a) => a.host)).toEqual(['api.openai.com', 'api.anthropic.com']);
  });

  it('a target chosen by weight is loadbalance, not a fallback', () => {
    const e = entry();
    e.requestOptions = [e.requestOptions[1]];
    e.requestOptions[0].providerOptions.weight = '[REDACTED]';
    e.requestOptions[0].response = e.requestOptions[0].originalResponse.body;
    const r = adapt(e);
    expect(r.routing?.strategy).toBe('loadbalance');
    expect(r.fallback_used).toBe(false);
  });

  it('every target failed: an error whose last attempt carries the error class, no fallback answer', () => {
    const e = entry();
    e.status = 429;
    const rateLimited = { error: { message: 'Rate limit reached', type: 'rate_limit_error', code: '429' } };
    e.requestOptions[0].response = rateLimited;
    e.requestOptions[1].originalResponse = { body: rateLimited };
    const r = adapt(e);
    expect(r.outcome).toMatchObject({ status: 'error', http_status: 429, error_class: 'rate_limit_error' });
    expect(r.attempts?.items?.at(-1)).toMatchObject({
      status: 'error',
      error_class: 'rate_limit_error',
      http_status: 429,
    });
    expect(r.reported_model).toBeUndefined();
    expect(r.normalization_notes).toContain(
      'every target tried failed: the client got the last error, no target answered',
    );
  });

  it("keeps the client's x-portkey-trace-id as request_id (and trace_id when it is a W3C id)", () => {
    const e = entry();
    e.requestOptions[1].responseHeaders = { 'x-portkey-trace-id': '4bf92f3577b34da6a3ce929d0e0e4736' };
    const r = adapt(e);
    expect(r.request_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(r.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const masked = entry();
    masked.requestOptions[1].responseHeaders = { 'x-portkey-trace-id': '[REDACTED]' };
    expect(adapt(masked).request_id).toBe(entry().requestOptions[0].hookSpanId);
  });

  it('a streamed request takes model and usage from the served target when the stream gave them', () => {
    const e = entry();
    e.requestOptions[0].requestParams.stream = true;
    e.requestOptions[0].response = { message: 'The response was a stream.' };
    e.requestOptions[1].originalResponse.body = {
      model: 'claude-sonnet-4-5-20250929',
      usage: { prompt_tokens: 11, completion_tokens: 5 },
    };
    const r = adapt(e);
    expect(r.reported_model?.value).toBe('claude-sonnet-4-5-20250929');
    expect(r.usage).toMatchObject({ input_tokens: 11, output_tokens: 5 });
  });
});

describe('portkeyAdapter secret planting', () => {
  it('keeps no planted key, bearer token, virtual key, e-mail, query token, prompt or completion', () => {
    const out = adaptFixture('capture-secrets.json');
    expect(invalidRecords(out)).toEqual([]);
    expect(plantedFound(out)).toEqual([]);
    expect(out[0].record.end_user_hash).toBe(endUserHash('jane.doe@example.com'));
    expect(out[0].record.endpoint).toEqual({
      host: 'my-azure.openai.azure.com',
      path: '/openai/deployments/gpt4o/chat/completions',
    });
    expect(out[0].record.tenant_id).toBe('ws-support');
  });

  it('never takes an e-mail as the tenant', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-secrets.json');
    ev.request.headers['x-portkey-metadata'] = JSON.stringify({ _user: 'jane.doe@example.com' });
    expect(() => portkeyAdapter.adapt(rawEvent(ev))).toThrow(DecodeError);
    const [r] = portkeyAdapter.adapt(rawEvent(ev, { 'x-routing-tenant': 'acme' }));
    expect(r.record.tenant_id).toBe('acme');
    expect(plantedFound(r)).toEqual([]);
  });
});

describe('portkeyAdapter decode errors', () => {
  it('a log-stream entry with no tenant header is NO_TENANT', () => {
    expect(() => adaptFixture('logstream-fallback.json')).toThrow(expect.objectContaining({ code: 'NO_TENANT' }));
  });

  it('a capture with neither created_at nor Date header is BAD_TIME', () => {
    const ev = fixtureJson<Record<string, any>>('portkey', 'capture-fallback.json');
    delete ev.created_at;
    delete ev.response.headers.date;
    expect(() => portkeyAdapter.adapt(rawEvent(ev))).toThrow(expect.objectContaining({ code: 'BAD_TIME' }));
  });

  it('something else is NOT_PORTKEY', () => {
    expect(() => portkeyAdapter.adapt(rawEvent({ request: {}, response: { status: 200 } }))).toThrow(
      expect.objectContaining({ code: 'NOT_PORTKEY' }),
    );
  });
});
