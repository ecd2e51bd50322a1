import { createHash } from 'node:crypto';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';

/**
 * Realistic demo traffic as canonical v1 records: several gateways and tenants, and a
 * scripted story an incident responder can then find in the ledger:
 *  - minutes 2–4 of the run: OpenAI is down; `gpt-smart` silently falls back to Anthropic,
 *    and for the EU bank the fallback is served from us-east-1 (a residency breach) with the
 *    PII guardrail skipped on the fallback path;
 *  - from minute 3: the `gpt-smart` alias is repointed to a newer model snapshot;
 *  - a share of answers comes from the semantic cache.
 * Deterministic for a given sequence number, so the demo is reproducible.
 */

interface Tenant {
  id: string;
  requiredRegion?: string[];
  homeRegion: string;
  objective: 'quality' | 'cost';
}

const TENANTS: Tenant[] = [
  { id: 'eu-bank', requiredRegion: ['eu'], homeRegion: 'eu-west-1', objective: 'quality' },
  { id: 'acme-retail', homeRegion: 'us-east-1', objective: 'cost' },
  { id: 'globex-health', requiredRegion: ['us'], homeRegion: 'us-west-2', objective: 'quality' },
  { id: 'initech', homeRegion: 'us-east-1', objective: 'cost' },
];

const GATEWAYS = [
  { id: 'litellm-prod-eu', kind: 'litellm', version: '1.74.3' },
  { id: 'portkey-edge', kind: 'portkey', version: '1.10.2' },
  { id: 'kong-ai-us', kind: 'kong', version: '3.9.0' },
];

const ALIASES = ['gpt-smart', 'fast-chat', 'code-helper'];
const TASKS = ['summarization', 'code', 'chat', 'extraction'];

export interface DemoClock {
  /** Milliseconds since the demo started; drives the scripted incidents. */
  elapsedMs: number;
  now: Date;
}

export const OUTAGE_WINDOW_MS = { from: 2 * 60_000, to: 4 * 60_000 };
export const ALIAS_REPOINT_AT_MS = 3 * 60_000;

function pick<T>(items: T[], n: number): T {
  return items[n % items.length];
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** `runId` keeps event ids unique across demo runs that share a database. */
export function demoEvent(seq: number, clock: DemoClock, runId = 'r0'): CanonicalRecord {
  const tenant = pick(TENANTS, seq * 7 + (seq >> 3));
  const gateway = pick(GATEWAYS, seq * 5 + 1);
  const alias = pick(ALIASES, seq * 3 + (seq >> 2));
  const task = pick(TASKS, seq * 11 + 3);
  const outage = clock.elapsedMs >= OUTAGE_WINDOW_MS.from && clock.elapsedMs < OUTAGE_WINDOW_MS.to;
  const cached = seq % 13 === 0;
  const requestId = `req-${runId}-${seq.toString(36)}-${sha256(String(seq)).slice(0, 8)}`;
  const occurredAt = clock.now.toISOString();

  const primary = target(alias, clock.elapsedMs);
  const servedByFallback = outage && primary.provider === 'openai' && !cached;
  const served = servedByFallback
    ? { provider: 'anthropic', model: 'claude-sonnet-4', version: 'claude-sonnet-4-20250514' }
    : primary;
  const servedRegion = servedByFallback && tenant.id === 'eu-bank' ? 'us-east-1' : tenant.homeRegion;
  const inputTokens = 200 + ((seq * 37) % 1800);
  const outputTokens = cached ? 0 : 40 + ((seq * 17) % 600);
  const costMicros = cached
    ? 0
    : Math.round((inputTokens * 2.5 + outputTokens * 10) * (served.provider === 'anthropic' ? 1.2 : 1));

  return {
    schema_version: '1',
    event_id: `demo-${runId}-${gateway.id}-${seq}`,
    occurred_at: occurredAt,
    gateway,
    tenant_id: tenant.id,
    request_id: requestId,
    trace_id: sha256(requestId).slice(0, 32),
    requested_model: alias,
    resolved_model: { value: served.model, asserted_by: 'gateway' },
    reported_model: cached ? undefined : { value: served.version, asserted_by: 'provider' },
    provider: cached ? undefined : served.provider,
    model_version: cached ? undefined : { version: served.version },
    region: { served: servedRegion, ...(tenant.requiredRegion ? { required: tenant.requiredRegion } : {}) },
    routing: {
      strategy: servedByFallback ? 'fallback' : 'loadbalance',
      reason: servedByFallback ? 'primary openai returned 503; fallback target 1' : `weighted target for ${alias}`,
      policy_version: clock.elapsedMs >= ALIAS_REPOINT_AT_MS ? 'routing-policy@v8' : 'routing-policy@v7',
      objective: tenant.objective,
    },
    task: { category: task },
    attempts: servedByFallback
      ? {
          completeness: 'full',
          count: 2,
          items: [
            {
              index: 0,
              provider: 'openai',
              model: primary.model,
              status: 'error',
              error_class: 'provider_unavailable',
              http_status: 503,
              latency_ms: 1200,
            },
            {
              index: 1,
              provider: 'anthropic',
              model: served.model,
              region: servedRegion,
              status: 'success',
              latency_ms: 900 + (seq % 400),
            },
          ],
        }
      : {
          completeness: 'full',
          count: 1,
          items: [
            {
              index: 0,
              provider: served.provider,
              model: served.model,
              region: servedRegion,
              status: 'success',
              latency_ms: 300 + (seq % 700),
            },
          ],
        },
    fallback_used: servedByFallback,
    retries: servedByFallback ? 1 : 0,
    cache: { status: cached ? 'semantic_hit' : 'miss' },
    usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    latency: {
      total_ms: cached ? 12 : servedByFallback ? 2100 + (seq % 400) : 300 + (seq % 700),
      gateway_overhead_ms: 4 + (seq % 6),
    },
    cost: { amount: (costMicros / 1_000_000).toFixed(6), currency: 'USD', source: 'gateway' },
    policy_checks: [
      {
        name: 'pii-redaction',
        required: true,
        result: servedByFallback && tenant.id === 'eu-bank' ? 'skipped' : 'pass',
      },
      { name: 'budget', result: 'pass' },
    ],
    outcome: { status: 'success', http_status: 200, finish_reason: 'stop' },
    disclosure: { model_substituted_notice: servedByFallback ? false : 'unknown' },
    content: { prompt_sha256: sha256(`prompt ${seq}`), response_sha256: sha256(`response ${seq}`) },
    source: { format: 'native', raw_sha256: sha256(`raw ${seq}`) },
  };
}

/** What an alias resolves to; `gpt-smart` is repointed to a newer snapshot mid-run. */
function target(alias: string, elapsedMs: number): { provider: string; model: string; version: string } {
  switch (alias) {
    case 'gpt-smart':
      return elapsedMs >= ALIAS_REPOINT_AT_MS
        ? { provider: 'openai', model: 'gpt-4o', version: 'gpt-4o-2024-11-20' }
        : { provider: 'openai', model: 'gpt-4o', version: 'gpt-4o-2024-08-06' };
    case 'fast-chat':
      return { provider: 'openai', model: 'gpt-4o-mini', version: 'gpt-4o-mini-2024-07-18' };
    default:
      return { provider: 'anthropic', model: 'claude-haiku-4', version: 'claude-haiku-4-20251001' };
  }
}

/** Drops the members a JSON round trip would drop (undefined), so the record validates as sent. */
export function toWire(record: CanonicalRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}
