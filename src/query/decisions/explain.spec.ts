import { deriveSignals } from '../../domain/record/derive-signals.js';
import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { explainDecision } from './explain.js';

const base: CanonicalRecord = {
  schema_version: '1',
  event_id: 'evt-1',
  occurred_at: '2026-11-20T10:03:00.000Z',
  gateway: { id: 'litellm-prod-eu', kind: 'litellm' },
  tenant_id: 'eu-bank',
  request_id: 'req-1',
  requested_model: 'gpt-smart',
  resolved_model: { value: 'claude-sonnet-4', asserted_by: 'gateway' },
  provider: 'anthropic',
  model_version: { version: 'claude-sonnet-4-20250514' },
  region: { served: 'us-east-1', required: ['eu'] },
  routing: {
    strategy: 'fallback',
    reason: 'primary openai returned 503',
    policy_version: 'routing-policy@v7',
    objective: 'quality',
  },
  attempts: {
    completeness: 'full',
    count: 2,
    items: [
      {
        index: 0,
        provider: 'openai',
        model: 'gpt-4o',
        status: 'error',
        error_class: 'provider_unavailable',
        http_status: 503,
        latency_ms: 1200,
      },
      {
        index: 1,
        provider: 'anthropic',
        model: 'claude-sonnet-4',
        region: 'us-east-1',
        status: 'success',
        latency_ms: 900,
      },
    ],
  },
  fallback_used: true,
  policy_checks: [
    { name: 'pii-redaction', required: true, result: 'skipped' },
    { name: 'budget', result: 'pass' },
  ],
  outcome: { status: 'success', http_status: 200 },
  disclosure: { model_substituted_notice: false },
  source: { format: 'native', raw_sha256: 'a'.repeat(64) },
};

describe('explainDecision', () => {
  it('walks requested → tried → served with the reason and checks', () => {
    const e = explainDecision(base, deriveSignals(base));
    expect(e.requested).toEqual({ model: 'gpt-smart' });
    expect(e.tried.attempts.map((a) => `${a.provider}:${a.status}`)).toEqual(['openai:error', 'anthropic:success']);
    expect(e.served).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      version: 'claude-sonnet-4-20250514',
      region: 'us-east-1',
      by_cache: false,
    });
    expect(e.steps).toEqual([
      'Tenant eu-bank asked for "gpt-smart" (request req-1) at 2026-11-20T10:03:00.000Z through gateway litellm-prod-eu (litellm).',
      'It tried 2 target(s): 1) openai gpt-4o failed: provider_unavailable (HTTP 503) after 1200 ms; 2) anthropic claude-sonnet-4 in us-east-1 succeeded after 900 ms.',
      'Served by anthropic claude-sonnet-4, version claude-sonnet-4-20250514 in us-east-1.',
      'Why: fallback routing, "primary openai returned 503" (policy routing-policy@v7, objective quality).',
      'Policy checks: pii-redaction (required) was skipped; budget passed.',
      'A fallback target served this request instead of the first choice.',
      'The answering model differs from the first target and the user was not told (silent substitution).',
      'Residency breach: served in us-east-1, outside the required region(s) eu.',
      'Policy bypass on the fallback path: required check(s) did not run: pii-redaction (skipped).',
    ]);
    expect(e.text).toBe(e.steps.join(' '));
  });

  it('says what the gateway did not report instead of guessing', () => {
    const r: CanonicalRecord = {
      ...base,
      attempts: { completeness: 'count_only', count: 3 },
      model_version: undefined,
      region: undefined,
      routing: undefined,
      policy_checks: undefined,
      fallback_used: 'unknown',
    };
    const e = explainDecision(r, deriveSignals(r));
    expect(e.steps).toContain('The gateway reports 3 attempt(s) but not which targets.');
    expect(e.steps).toContain('Served by anthropic claude-sonnet-4, version not reported, region not reported.');
    expect(e.steps).toContain('The gateway gave no routing reason.');
    expect(e.steps).toContain('No policy checks were reported.');
    expect(e.findings.map((f) => f.signal)).toEqual(['unknown_attempts', 'missing_version', 'missing_region']);
  });

  it('explains a failed request and a cache answer', () => {
    const failed: CanonicalRecord = {
      ...base,
      outcome: { status: 'error', error_class: 'provider_unavailable', http_status: 503 },
    };
    expect(explainDecision(failed, []).served).toBeNull();
    expect(explainDecision(failed, []).steps[2]).toBe(
      'No target answered: the request ended error (provider_unavailable) with HTTP 503.',
    );
    const cached: CanonicalRecord = {
      ...base,
      cache: { status: 'semantic_hit' },
      provider: undefined,
      attempts: undefined,
    };
    expect(explainDecision(cached, []).steps[2]).toBe(
      'It was answered from the semantic cache (cached answer of claude-sonnet-4).',
    );
  });

  it('names the learned router, its score and threshold', () => {
    const r: CanonicalRecord = {
      ...base,
      routing: {
        strategy: 'learned',
        router: 'routellm-mf',
        score: '0.31',
        threshold: '0.5',
        reason: 'predicted easy',
      },
    };
    expect(explainDecision(r, []).steps[3]).toBe(
      'Why: learned routing, "predicted easy" (router routellm-mf scored 0.31 against threshold 0.5).',
    );
  });
});
