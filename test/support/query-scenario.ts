import { createHash } from 'node:crypto';
import type { Attempt, CanonicalRecord, PolicyCheck } from '../../src/domain/record/canonical-record.js';

/**
 * Seeded traffic for the query tests, with planted incidents and nothing else:
 *  - 10:02–10:06 openai gpt-4o returns 503. `gpt-smart` falls back to anthropic:
 *      eu-bank (EU-only, quality): served in us-east-1, PII guardrail skipped on the fallback
 *        path, user not told → silent degradation, residency violation, policy bypass;
 *      acme: fallback in its home region, user told, checks pass → in the incident, no finding.
 *  - 10:05 globex's `fast-chat` is repointed to a new gpt-4o-mini snapshot; globex's one
 *    evaluation covers only `chat` on the old snapshot and assumed a 90 % chat mix → alias
 *    change and evaluation drift (unevaluated version, unevaluated category, mix shift).
 *  - umbrella (quality objective) has a learned router that sends much of `smart-router` to
 *    a far cheaper model, and keeps `legal` there although it retries often → cost bias.
 *  - stark routes `budget-chat` by price and nearly always lands on groq although together
 *    serves it too → price-driven concentration.
 *  - initech and hooli are untouched controls (hooli uses fast-chat too, never repointed).
 * Baseline 09:00–10:00, incident window 10:00–10:10. Deterministic.
 */

export const T0 = Date.parse('2026-11-20T09:00:00.000Z');
export const WINDOW = { from: '2026-11-20T10:00:00.000Z', to: '2026-11-20T10:10:00.000Z' };
export const OUTAGE = { from: Date.parse('2026-11-20T10:02:00.000Z'), to: Date.parse('2026-11-20T10:06:00.000Z') };
export const REPOINT_AT = '2026-11-20T10:05:00.000Z';
export const TENANTS = ['eu-bank', 'acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'] as const;
export const MINUTES = 70;
/** A request logged as two events (a client-level retry): the first fails, the second falls back. */
export const MULTI_EVENT_REQUEST = 'req-eu-bank-retry';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Target {
  provider: string;
  model: string;
  version: string;
  /** USD per 1,000 tokens. */
  price: number;
}

const GPT4O: Target = { provider: 'openai', model: 'gpt-4o', version: 'gpt-4o-2024-08-06', price: 0.005 };
const SONNET: Target = {
  provider: 'anthropic',
  model: 'claude-sonnet-4',
  version: 'claude-sonnet-4-20250514',
  price: 0.006,
};
const MINI_OLD: Target = { provider: 'openai', model: 'gpt-4o-mini', version: 'gpt-4o-mini-2024-07-18', price: 0.0003 };
const MINI_NEW: Target = { provider: 'openai', model: 'gpt-4o-mini', version: 'gpt-4o-mini-2025-01-31', price: 0.0003 };
const HAIKU: Target = {
  provider: 'anthropic',
  model: 'claude-haiku-4',
  version: 'claude-haiku-4-20251001',
  price: 0.001,
};
const AZ_PREMIUM: Target = { provider: 'azure', model: 'gpt-4o', version: 'gpt-4o-2024-11-20', price: 0.005 };
const AZ_CHEAP: Target = { provider: 'azure', model: 'gpt-4o-mini', version: 'gpt-4o-mini-2024-07-18', price: 0.0003 };
const GROQ: Target = { provider: 'groq', model: 'llama-3.3-70b', version: 'llama-3.3-70b-versatile', price: 0.0006 };
const TOGETHER: Target = {
  provider: 'together',
  model: 'llama-3.3-70b',
  version: 'Llama-3.3-70B-Instruct-Turbo',
  price: 0.0009,
};

const TOKENS = { input_tokens: 1000, output_tokens: 200 };

function cost(t: Target): { amount: string; currency: string; source: 'gateway' } {
  return { amount: ((t.price * 1200) / 1000).toFixed(8), currency: 'USD', source: 'gateway' };
}

interface Draft {
  tenant: string;
  seq: number;
  at: number;
  alias: string;
  gateway: { id: string; kind: string };
  served: Target;
  region: string;
  required?: string[];
  objective: string;
  category: string;
  attempts: Attempt[];
  fallback?: boolean;
  retries?: number;
  disclosure?: boolean | 'unknown';
  checks: PolicyCheck[];
  routing: CanonicalRecord['routing'];
  outcome?: CanonicalRecord['outcome'];
  requestId?: string;
  eventSuffix?: string;
  latency: number;
}

function record(d: Draft): CanonicalRecord {
  const requestId = d.requestId ?? `req-${d.tenant}-${d.seq}`;
  const ok = (d.outcome?.status ?? 'success') === 'success';
  return JSON.parse(
    JSON.stringify({
      schema_version: '1',
      event_id: `evt-${d.tenant}-${d.seq}${d.eventSuffix ?? ''}`,
      occurred_at: new Date(d.at).toISOString(),
      gateway: d.gateway,
      tenant_id: d.tenant,
      request_id: requestId,
      trace_id: sha(requestId).slice(0, 32),
      requested_model: d.alias,
      resolved_model: ok ? { value: d.served.model, asserted_by: 'gateway' } : undefined,
      reported_model: ok ? { value: d.served.version, asserted_by: 'provider' } : undefined,
      provider: ok ? d.served.provider : undefined,
      model_version: ok ? { version: d.served.version } : undefined,
      region: { served: d.region, ...(d.required ? { required: d.required } : {}) },
      routing: d.routing,
      task: { category: d.category },
      attempts: { completeness: 'full', count: d.attempts.length, items: d.attempts },
      fallback_used: d.fallback ?? false,
      retries: d.retries ?? 0,
      cache: { status: 'miss' },
      usage: TOKENS,
      latency: { total_ms: d.latency, gateway_overhead_ms: 5 },
      cost: ok ? cost(d.served) : undefined,
      policy_checks: d.checks,
      outcome: d.outcome ?? { status: 'success', http_status: 200, finish_reason: 'stop' },
      disclosure: d.disclosure === undefined ? undefined : { model_substituted_notice: d.disclosure },
      content: { prompt_sha256: sha(`p${d.tenant}${d.seq}`), response_sha256: sha(`r${d.tenant}${d.seq}`) },
      source: { format: 'native', raw_sha256: sha(`raw ${d.tenant} ${d.seq}${d.eventSuffix ?? ''}`) },
    }),
  ) as CanonicalRecord;
}

const ok = (t: Target, region: string, latency: number, index = 0): Attempt => ({
  index,
  provider: t.provider,
  model: t.model,
  region,
  status: 'success',
  latency_ms: latency,
});
const outage = (t: Target): Attempt => ({
  index: 0,
  provider: t.provider,
  model: t.model,
  status: 'error',
  error_class: 'provider_unavailable',
  http_status: 503,
  latency_ms: 1200,
});

/** Every seeded record, in time order per tenant. */
export function scenarioRecords(): CanonicalRecord[] {
  const out: CanonicalRecord[] = [];
  for (let m = 0; m < MINUTES; m++) {
    const minute = T0 + m * 60_000;
    const inOutage = (t: number) => t >= OUTAGE.from && t < OUTAGE.to;
    // eu-bank: 4/min, gpt-smart, must stay in the EU.
    for (let k = 0; k < 4; k++) {
      const seq = m * 4 + k;
      const at = minute + k * 15_000 + 100;
      const base = {
        tenant: 'eu-bank',
        seq,
        at,
        alias: 'gpt-smart',
        gateway: { id: 'litellm-prod-eu', kind: 'litellm' },
        required: ['eu'],
        objective: 'quality',
        category: 'chat',
      };
      if (inOutage(at)) {
        out.push(
          record({
            ...base,
            served: SONNET,
            region: 'us-east-1',
            attempts: [outage(GPT4O), ok(SONNET, 'us-east-1', 900, 1)],
            fallback: true,
            retries: 1,
            disclosure: false,
            latency: 2100,
            checks: [
              { name: 'pii-redaction', required: true, result: 'skipped' },
              { name: 'budget', result: 'pass' },
            ],
            routing: {
              strategy: 'fallback',
              reason: 'primary openai returned 503; fallback target 1',
              policy_version: 'routing-policy@v7',
              objective: 'quality',
            },
          }),
        );
      } else {
        out.push(
          record({
            ...base,
            served: GPT4O,
            region: 'eu-west-1',
            attempts: [ok(GPT4O, 'eu-west-1', 400)],
            disclosure: 'unknown',
            latency: 420,
            checks: [
              { name: 'pii-redaction', required: true, result: 'pass' },
              { name: 'budget', result: 'pass' },
            ],
            routing: {
              strategy: 'loadbalance',
              reason: 'weighted target for gpt-smart',
              policy_version: 'routing-policy@v7',
              objective: 'quality',
            },
          }),
        );
      }
    }
    // acme: 3/min, gpt-smart, falls back in its home region and tells the user.
    for (let k = 0; k < 3; k++) {
      const seq = m * 3 + k;
      const at = minute + k * 20_000 + 200;
      const base = {
        tenant: 'acme',
        seq,
        at,
        alias: 'gpt-smart',
        gateway: { id: 'portkey-edge', kind: 'portkey' },
        objective: 'cost',
        category: 'summarization',
        checks: [{ name: 'budget', result: 'pass' as const }],
      };
      out.push(
        inOutage(at)
          ? record({
              ...base,
              served: SONNET,
              region: 'us-east-1',
              attempts: [outage(GPT4O), ok(SONNET, 'us-east-1', 800, 1)],
              fallback: true,
              retries: 1,
              disclosure: true,
              latency: 2000,
              routing: {
                strategy: 'fallback',
                reason: 'primary openai returned 503; fallback target 1',
                objective: 'cost',
              },
            })
          : record({
              ...base,
              served: GPT4O,
              region: 'us-east-1',
              attempts: [ok(GPT4O, 'us-east-1', 380)],
              latency: 400,
              routing: { strategy: 'static', reason: 'default target', objective: 'cost' },
            }),
      );
    }
    // globex: 2/min, fast-chat, repointed at 10:05; half chat, half extraction.
    for (let k = 0; k < 2; k++) {
      const seq = m * 2 + k;
      const at = minute + k * 30_000 + 300;
      const served = at >= Date.parse(REPOINT_AT) ? MINI_NEW : MINI_OLD;
      out.push(
        record({
          tenant: 'globex',
          seq,
          at,
          alias: 'fast-chat',
          gateway: { id: 'kong-ai-us', kind: 'native' },
          served,
          region: 'us-west-2',
          required: ['us'],
          objective: 'quality',
          category: k === 0 ? 'chat' : 'extraction',
          attempts: [ok(served, 'us-west-2', 200)],
          latency: 220,
          checks: [{ name: 'pii-redaction', required: true, result: 'pass' }],
          routing: {
            strategy: 'static',
            reason: 'alias fast-chat',
            policy_version: at >= Date.parse(REPOINT_AT) ? 'routing-policy@v8' : 'routing-policy@v7',
            objective: 'quality',
          },
        }),
      );
    }
    // initech: 2/min, code-helper on anthropic, clean.
    for (let k = 0; k < 2; k++) {
      const seq = m * 2 + k;
      const at = minute + k * 30_000 + 400;
      out.push(
        record({
          tenant: 'initech',
          seq,
          at,
          alias: 'code-helper',
          gateway: { id: 'kong-ai-us', kind: 'native' },
          served: HAIKU,
          region: 'us-east-1',
          objective: 'cost',
          category: 'code',
          attempts: [ok(HAIKU, 'us-east-1', 300)],
          latency: 320,
          checks: [{ name: 'budget', result: 'pass' }],
          routing: { strategy: 'static', reason: 'alias code-helper', objective: 'cost' },
        }),
      );
    }
    // hooli: 1/min, fast-chat pinned to the old snapshot, clean.
    out.push(
      record({
        tenant: 'hooli',
        seq: m,
        at: minute + 500,
        alias: 'fast-chat',
        gateway: { id: 'kong-ai-us', kind: 'native' },
        served: MINI_OLD,
        region: 'us-east-1',
        objective: 'cost',
        category: 'chat',
        attempts: [ok(MINI_OLD, 'us-east-1', 210)],
        latency: 230,
        checks: [],
        routing: { strategy: 'static', reason: 'alias fast-chat', objective: 'cost' },
      }),
    );
    // umbrella: 6/min, learned router over azure gpt-4o (premium) and gpt-4o-mini (cheap).
    for (let k = 0; k < 6; k++) {
      const seq = m * 6 + k;
      const at = minute + k * 10_000 + 600;
      const legal = seq % 2 === 0;
      const n = Math.floor(seq / 2);
      // legal: 9 in 10 stay cheap, and 4 in 9 of those need a retry; chat: half and half, clean.
      const cheap = legal ? n % 10 !== 0 : n % 2 === 0;
      const retried = legal && cheap && n % 10 >= 1 && n % 10 <= 4;
      const served = cheap ? AZ_CHEAP : AZ_PREMIUM;
      out.push(
        record({
          tenant: 'umbrella',
          seq,
          at,
          alias: 'smart-router',
          gateway: { id: 'portkey-edge', kind: 'portkey' },
          served,
          region: 'us-east-2',
          objective: 'quality',
          category: legal ? 'legal' : 'chat',
          attempts: retried
            ? [
                {
                  index: 0,
                  provider: 'azure',
                  model: served.model,
                  region: 'us-east-2',
                  status: 'timeout',
                  error_class: 'timeout',
                  latency_ms: 3000,
                },
                ok(served, 'us-east-2', 500, 1),
              ]
            : [ok(served, 'us-east-2', cheap ? 250 : 700)],
          retries: retried ? 1 : 0,
          latency: retried ? 3600 : cheap ? 270 : 720,
          checks: [{ name: 'budget', result: 'pass' }],
          routing: {
            strategy: 'learned',
            router: 'routellm-mf',
            score: cheap ? '0.31' : '0.72',
            threshold: '0.5',
            reason: cheap ? 'predicted easy' : 'predicted hard',
            objective: 'quality',
          },
        }),
      );
    }
  }
  // stark: 4/min, budget-chat routed by price; together gets 1 in 20.
  for (let m = 0; m < MINUTES; m++) {
    for (let k = 0; k < 4; k++) {
      const seq = m * 4 + k;
      const served = seq % 20 === 7 ? TOGETHER : GROQ;
      out.push(
        record({
          tenant: 'stark',
          seq,
          at: T0 + m * 60_000 + k * 15_000 + 700,
          alias: 'budget-chat',
          gateway: { id: 'openrouter-eu', kind: 'openrouter' },
          served,
          region: 'eu-central-1',
          objective: 'cost',
          category: 'chat',
          attempts: [ok(served, 'eu-central-1', 350)],
          latency: 380,
          checks: [],
          routing: { strategy: 'loadbalance', reason: 'provider sort: price (cheapest first)', objective: 'cost' },
        }),
      );
    }
  }
  // A client-level retry inside the outage: first event fails outright, second falls back.
  const at = Date.parse('2026-11-20T10:03:30.000Z');
  const shared = {
    tenant: 'eu-bank',
    seq: 9999,
    alias: 'gpt-smart',
    gateway: { id: 'litellm-prod-eu', kind: 'litellm' },
    required: ['eu'],
    objective: 'quality',
    category: 'chat',
    requestId: MULTI_EVENT_REQUEST,
  };
  out.push(
    record({
      ...shared,
      at,
      eventSuffix: '-a',
      served: GPT4O,
      region: 'eu-west-1',
      attempts: [outage(GPT4O)],
      latency: 1250,
      outcome: { status: 'error', http_status: 503, error_class: 'provider_unavailable' },
      checks: [{ name: 'pii-redaction', required: true, result: 'pass' }],
      routing: { strategy: 'static', reason: 'primary', objective: 'quality' },
    }),
  );
  out.push(
    record({
      ...shared,
      at: at + 2000,
      eventSuffix: '-b',
      served: SONNET,
      region: 'us-east-1',
      attempts: [outage(GPT4O), ok(SONNET, 'us-east-1', 900, 1)],
      fallback: true,
      retries: 1,
      disclosure: false,
      latency: 2150,
      checks: [{ name: 'pii-redaction', required: true, result: 'skipped' }],
      routing: { strategy: 'fallback', reason: 'primary openai returned 503; fallback target 1', objective: 'quality' },
    }),
  );
  return out;
}

/** The evaluation globex registered for fast-chat before the window. */
export const GLOBEX_EVALUATION = {
  tenant_id: 'globex',
  alias: 'fast-chat',
  task_category: 'chat',
  model_versions: ['gpt-4o-mini-2024-07-18'],
  test_set: 'support-chat-v3',
  accuracy_target: 0.9,
  accuracy_result: 0.93,
  traffic_share: 0.9,
  evaluated_at: '2026-11-19T00:00:00.000Z',
};
