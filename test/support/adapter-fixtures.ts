import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { decodeEvent } from '../../src/ingest/adapters/format-detection.js';

/**
 * The adapter fixtures (src/ingest/adapters/fixtures, see SOURCES.md) for the integration tests:
 * listing, the records the adapters make of them in-process (what the ledger must end up
 * holding), and a table of canonical fields written out by hand per fixture, so the end-to-end
 * tests check the gateways' semantics and not only that the pipeline agrees with itself.
 */

export const FIXTURE_ROOT = join(process.cwd(), 'src', 'ingest', 'adapters', 'fixtures');
export const GATEWAYS = ['litellm', 'portkey', 'openrouter', 'otel', 'native'] as const;
export type Gateway = (typeof GATEWAYS)[number];

export interface Fixture {
  gateway: Gateway;
  file: string;
  name: string;
  bytes: Buffer;
}

export function fixtures(filter: (f: Fixture) => boolean = () => true): Fixture[] {
  return GATEWAYS.flatMap((gateway) =>
    readdirSync(join(FIXTURE_ROOT, gateway))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((file) => ({
        gateway,
        file,
        name: `${gateway}/${file}`,
        bytes: readFileSync(join(FIXTURE_ROOT, gateway, file)),
      })),
  ).filter(filter);
}

export const fixture = (name: string): Fixture => fixtures((f) => f.name === name)[0];

/** What the ledger must hold for `bytes` sent with `headers`: the adapters' output, before ingest stamps it. */
export function expectedRecords(bytes: Buffer, headers: Record<string, string>): CanonicalRecord[] {
  return decodeEvent({ payload: bytes, headers, receivedAt: new Date() }).map((a) => a.record);
}

/** A stored record without what the ledger assigns at ingest (received_at, source.topic/partition/offset). */
export function withoutIngestFields(r: CanonicalRecord): object {
  const { received_at: _r, source, ...rest } = r;
  const { topic: _t, partition: _p, offset: _o, ...src } = source;
  return { ...rest, source: src };
}

/**
 * Hand-written canonical fields per fixture (independent of the gateway id and tenant headers
 * the tests choose). The LiteLLM rows carry the acceptance cases: the alias in
 * requested_model with the fallback in resolved_model and fallback_used true; counts missing
 * → "unknown", never false.
 */
export const KEY_FIELDS: Record<string, Array<Record<string, unknown>>> = {
  'litellm/slp-fallback-served.json': [
    {
      requested_model: 'gpt-smart',
      resolved_model: { value: 'claude-fallback', asserted_by: 'gateway' },
      reported_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'provider' },
      fallback_used: true,
      attempts: { completeness: 'count_only', count: 2 },
      cost: { amount: '0.004215', currency: 'USD', source: 'gateway' },
      tenant_id: 'team-checkout',
      occurred_at: '2025-11-25T16:45:59.412Z',
    },
  ],
  'litellm/slp-counts-missing.json': [
    { requested_model: 'gpt-smart', fallback_used: 'unknown', attempts: { completeness: 'none' } },
  ],
  'litellm/slp-legacy-no-alias.json': [
    {
      requested_model: 'unknown',
      resolved_model: { value: 'gpt-smart', asserted_by: 'gateway' },
      fallback_used: 'unknown',
    },
  ],
  'litellm/slp-retry.json': [{ fallback_used: false, retries: 2 }],
  'litellm/slp-cache-hit.json': [
    { cache: { status: 'hit' }, occurred_at: '2025-11-25T16:46:10.250Z', cost: { amount: '0', currency: 'USD' } },
  ],
  'litellm/slp-error.json': [
    { outcome: { status: 'error', http_status: 429, error_class: 'RateLimitError' }, fallback_used: false },
  ],
  'litellm/slp-streaming.json': [{ latency: { total_ms: 2800, ttft_ms: 412 } }],
  'litellm/spendlogs-row.json': [
    {
      requested_model: 'gpt-mini-eu',
      cost: { amount: '0.000862', currency: 'USD' },
      cache: { status: 'unknown' },
      tenant_id: 'team-billing',
    },
  ],
  'portkey/capture-fallback.json': [
    {
      requested_model: 'gpt-smart',
      resolved_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'gateway' },
      provider: 'anthropic',
      fallback_used: true,
      attempts: { completeness: 'targets_only' },
      tenant_id: 'ws-support',
    },
  ],
  'portkey/capture-retry-exhausted.json': [
    { retries: 3, fallback_used: false, outcome: { status: 'error', http_status: 429 } },
  ],
  'portkey/capture-cache-hit.json': [{ cache: { status: 'semantic_hit' } }],
  'portkey/capture-saved-config.json': [{ fallback_used: 'unknown', routing: { rule_id: 'pc-support-3f2a1b' } }],
  'portkey/export-row.json': [
    {
      cost: { amount: '0.000216', currency: 'USD', source: 'gateway' },
      requested_model: 'gpt-smart',
      fallback_used: 'unknown',
    },
  ],
  'portkey/logstream-fallback.json': [
    {
      requested_model: 'gpt-smart',
      resolved_model: { value: 'claude-sonnet-4-5-20250929', asserted_by: 'gateway' },
      fallback_used: true,
      attempts: {
        completeness: 'targets_only',
        items: [
          { index: 0, provider: 'openai', status: 'error' },
          { index: 1, provider: 'anthropic', status: 'success' },
        ],
      },
    },
  ],
  'openrouter/generation-provider-fallback.json': [
    {
      event_id: 'gen-1764089500-Qm4sT8vXz2LkPb7RnWc3',
      provider: 'bedrock',
      fallback_used: true,
      attempts: { completeness: 'full', count: 2 },
      model_version: { version: 'anthropic/claude-4.5-sonnet-20250929' },
      region: { served: 'europe' },
      cost: { amount: '0.0061305', currency: 'USD' },
    },
  ],
  'openrouter/generation-model-fallback.json': [
    {
      requested_model: 'openai/gpt-4o',
      resolved_model: { value: 'openai/gpt-4o-mini', asserted_by: 'gateway' },
      fallback_used: true,
    },
  ],
  'openrouter/generation-retry.json': [{ fallback_used: false, retries: 1 }],
  'otel/otlp-current.json': [
    {
      requested_model: 'gpt-4o',
      reported_model: { value: 'gpt-4o-2024-08-06', asserted_by: 'provider' },
      provider: 'openai',
      fallback_used: 'unknown',
      latency: { total_ms: 2729, ttft_ms: 413 },
      request_id: 'chatcmpl-AXm4f2',
    },
  ],
  'otel/otlp-deprecated.json': [
    { requested_model: 'claude-fallback', provider: 'anthropic', usage: { input_tokens: 88, output_tokens: 19 } },
  ],
  'otel/otlp-error.json': [{ outcome: { status: 'error', http_status: 429, error_class: 'RateLimitError' } }],
  'native/record-full.json': [
    {
      event_id: '0b6c0f5e-5b1f-4d0e-9a52-3c0f8e7d2a11',
      requested_model: 'smart',
      routing: { strategy: 'learned', router: 'routellm-mf' },
    },
  ],
};

/** Deep "actual contains expected" (objects: every expected key; arrays: element-wise), as paths that differ. */
export function mismatches(actual: unknown, expected: unknown, path = ''): string[] {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object')
      return [`${path || '.'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual) || actual.length < expected.length)
        return [`${path}: expected an array of at least ${expected.length}, got ${JSON.stringify(actual)}`];
      return expected.flatMap((e, i) => mismatches(actual[i], e, `${path}[${i}]`));
    }
    return Object.entries(expected).flatMap(([k, v]) =>
      mismatches((actual as Record<string, unknown>)[k], v, path ? `${path}.${k}` : k),
    );
  }
  return actual === expected ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}
