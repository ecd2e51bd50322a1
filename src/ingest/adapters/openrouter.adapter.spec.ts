import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { endUserHash, sha256Hex } from '../../domain/privacy/redact.js';
import { UNKNOWN_REQUESTED_MODEL } from './adapter.js';
import { invalidRecords, fixtureBytes, fixtureJson, plantedFound, rawEvent } from './fixtures/fixture-kit.js';
import { openrouterAdapter } from './openrouter.adapter.js';

const TENANT = { 'x-routing-tenant': 'acme' };
const adaptFixture = (name: string, headers: Record<string, string> = TENANT) =>
  openrouterAdapter.adapt(rawEvent(fixtureBytes('openrouter', name), headers));

describe('openrouterAdapter fixture table', () => {
  it.each<[string, string, Record<string, string>, Partial<CanonicalRecord>]>([
    [
      'provider fallback: Anthropic 529, Bedrock served',
      'generation-provider-fallback.json',
      { ...TENANT, 'x-routing-requested-model': 'anthropic/claude-sonnet-4.5' },
      {
        event_id: 'gen-1764089500-Qm4sT8vXz2LkPb7RnWc3',
        request_id: 'req-1764089500-aBcDeFgHiJkLmNoPqRsT',
        occurred_at: '2025-11-25T16:51:40.118Z',
        requested_model: 'anthropic/claude-sonnet-4.5',
        resolved_model: { value: 'anthropic/claude-sonnet-4.5', asserted_by: 'gateway' },
        provider: 'bedrock',
        model_version: {
          version: 'anthropic/claude-4.5-sonnet-20250929',
          deployment_id: 'ep_bedrock_claude-sonnet-4.5',
        },
        region: { served: 'europe' },
        fallback_used: true,
        retries: 0,
        attempts: {
          completeness: 'full',
          count: 2,
          items: [
            {
              index: 0,
              provider: 'anthropic',
              model: 'anthropic/claude-4.5-sonnet-20250929',
              status: 'error',
              http_status: 529,
              latency_ms: 1204,
            },
            {
              index: 1,
              provider: 'bedrock',
              model: 'anthropic/claude-4.5-sonnet-20250929',
              status: 'success',
              http_status: 200,
              latency_ms: 2893,
            },
          ],
        },
        cost: { amount: '0.0061305', currency: 'USD', source: 'gateway' },
        usage: { input_tokens: 417, output_tokens: 275, cached_input_tokens: 0, reasoning_tokens: 0 },
        latency: { total_ms: 2893 },
        end_user_hash: endUserHash('user-4821'),
        outcome: { status: 'success', http_status: 200, finish_reason: 'stop' },
        tenant_id: 'acme',
      },
    ],
    [
      'model fallback (models: [...]): requested model from the capture envelope',
      'generation-model-fallback.json',
      TENANT,
      {
        requested_model: 'openai/gpt-4o',
        resolved_model: { value: 'openai/gpt-4o-mini', asserted_by: 'gateway' },
        model_version: { version: 'openai/gpt-4o-mini-2024-07-18', deployment_id: 'ep_openai_gpt-4o-mini' },
        fallback_used: true,
        attempts: { completeness: 'full', count: 3 },
        region: { served: 'global' },
      },
    ],
    [
      'retry on the same provider is not a fallback',
      'generation-retry.json',
      TENANT,
      { fallback_used: false, retries: 1, provider: 'anthropic' },
    ],
    [
      'streamed auto-router generation, cancelled, prompt-cache tokens',
      'generation-streamed-auto.json',
      TENANT,
      {
        requested_model: 'openrouter/auto',
        routing: { router: 'openrouter/auto' },
        resolved_model: { value: 'google/gemini-2.5-flash', asserted_by: 'gateway' },
        provider: 'gemini',
        fallback_used: false,
        usage: { input_tokens: 417, output_tokens: 275, cached_input_tokens: 1024, reasoning_tokens: 0 },
        cost: { amount: '0.000012', currency: 'USD', source: 'gateway' },
        outcome: { status: 'cancelled', http_status: 200 },
      },
    ],
    [
      'legacy object without provider_responses: unknowns, not false',
      'generation-legacy.json',
      TENANT,
      {
        requested_model: UNKNOWN_REQUESTED_MODEL,
        fallback_used: 'unknown',
        attempts: { completeness: 'none' },
        cost: { amount: '0', currency: 'USD', source: 'gateway' },
        usage: { input_tokens: 4, output_tokens: 521 },
      },
    ],
    [
      'error: every provider failed',
      'generation-error.json',
      TENANT,
      {
        outcome: { status: 'error', http_status: 503, error_class: 'overloaded_error', finish_reason: 'error' },
        fallback_used: true,
        attempts: { completeness: 'full', count: 2 },
      },
    ],
  ])('%s', (_name, file, headers, expected) => {
    const out = adaptFixture(file, headers);
    expect(out).toHaveLength(1);
    expect(invalidRecords(out)).toEqual([]);
    expect(out[0].record).toMatchObject(expected);
    expect(out[0].record.source).toEqual({
      format: 'openrouter',
      adapter_version: 'openrouter/1',
      raw_sha256: sha256Hex(fixtureBytes('openrouter', file)),
    });
  });

  it('records the provider display-name mapping in a note', () => {
    const [r] = adaptFixture('generation-provider-fallback.json');
    expect(r.notes).toContain('provider "Amazon Bedrock" recorded as "bedrock"');
  });

  it('accepts the bare generation object and batches of them', () => {
    const a = fixtureJson<{ data: object }>('openrouter', 'generation-provider-fallback.json').data;
    const b = fixtureJson<{ data: object }>('openrouter', 'generation-retry.json').data;
    const out = openrouterAdapter.adapt(rawEvent(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`, TENANT));
    expect(invalidRecords(out)).toEqual([]);
    expect(out.map((o) => o.record.event_id)).toEqual([
      'gen-1764089500-Qm4sT8vXz2LkPb7RnWc3',
      'gen-1764089700-Rt5Gh8Jk2Lm4Np6Qs9Tv',
    ]);
  });

  it('needs a tenant: OpenRouter events carry none', () => {
    expect(() => adaptFixture('generation-retry.json', {})).toThrow(expect.objectContaining({ code: 'NO_TENANT' }));
  });
});

describe('openrouterAdapter secret planting', () => {
  it('keeps no planted key, bearer token, e-mail, query token or prompt', () => {
    const out = adaptFixture('generation-secrets.json');
    expect(invalidRecords(out)).toEqual([]);
    expect(plantedFound(out)).toEqual([]);
    expect(out[0].record.end_user_hash).toBe(endUserHash('jane.doe@example.com'));
    expect(out[0].record.requested_model).toBe('anthropic/claude-sonnet-4.5');
  });
});
