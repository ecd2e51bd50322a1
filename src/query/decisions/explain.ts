import type { Attempt, CanonicalRecord, PolicyCheck } from '../../domain/record/canonical-record.js';

/**
 * "What answered this request, and why": requested → tried → served, the routing reason and
 * the policy checks, as JSON and in plain words. Pure: a record and its stored signals in,
 * an explanation out. It states only what the record asserts; where the gateway did not
 * report something, the text says so instead of guessing.
 */

export interface Explanation {
  event_id: string;
  request_id: string;
  tenant_id: string;
  occurred_at: string;
  gateway: CanonicalRecord['gateway'];
  requested: { model: string };
  tried: { completeness: string; count: number | null; attempts: Attempt[] };
  served: {
    by_cache: boolean;
    provider: string | null;
    model: string | null;
    model_asserted_by: string | null;
    reported_model: string | null;
    version: string | null;
    region: string | null;
  } | null;
  routing: NonNullable<CanonicalRecord['routing']> | null;
  policy_checks: PolicyCheck[];
  outcome: CanonicalRecord['outcome'];
  findings: Array<{ signal: string; text: string }>;
  /** One sentence per step, in order: asked, tried, served, why, checks, findings. */
  steps: string[];
  text: string;
}

export function explainDecision(r: CanonicalRecord, signals: readonly string[]): Explanation {
  const served = servedBy(r);
  const findings = findingsOf(r, signals);
  const steps = [
    askedStep(r),
    triedStep(r),
    servedStep(r, served),
    routingStep(r),
    checksStep(r),
    ...findings.map((f) => f.text),
  ];
  return {
    event_id: r.event_id,
    request_id: r.request_id,
    tenant_id: r.tenant_id,
    occurred_at: r.occurred_at,
    gateway: r.gateway,
    requested: { model: r.requested_model },
    tried: {
      completeness: r.attempts?.completeness ?? 'none',
      count: r.attempts?.count ?? r.attempts?.items?.length ?? null,
      attempts: r.attempts?.items ?? [],
    },
    served,
    routing: r.routing ?? null,
    policy_checks: r.policy_checks ?? [],
    outcome: r.outcome,
    findings,
    steps,
    text: steps.join(' '),
  };
}

function servedBy(r: CanonicalRecord): Explanation['served'] {
  const byCache = r.cache?.status === 'hit' || r.cache?.status === 'semantic_hit';
  if (r.outcome.status !== 'success' && !byCache) return null;
  const winner = r.attempts?.items?.find((a) => a.status === 'success');
  return {
    by_cache: byCache,
    provider: r.provider ?? winner?.provider ?? null,
    model: r.resolved_model?.value ?? winner?.model ?? null,
    model_asserted_by: r.resolved_model?.asserted_by ?? null,
    reported_model: r.reported_model?.value ?? null,
    version: r.model_version?.version ?? r.model_version?.deployment_id ?? null,
    region: r.region?.served ?? winner?.region ?? null,
  };
}

function askedStep(r: CanonicalRecord): string {
  return `Tenant ${r.tenant_id} asked for "${r.requested_model}" (request ${r.request_id}) at ${r.occurred_at} through gateway ${r.gateway.id}${r.gateway.kind ? ` (${r.gateway.kind})` : ''}.`;
}

function triedStep(r: CanonicalRecord): string {
  const a = r.attempts;
  if (!a || a.completeness === 'none') return 'The gateway did not report which targets it tried.';
  const items = a.items ?? [];
  if (a.completeness === 'count_only' || items.length === 0) {
    return a.count !== undefined
      ? `The gateway reports ${a.count} attempt(s) but not which targets.`
      : 'The gateway did not report which targets it tried.';
  }
  const partial = a.completeness === 'targets_only' ? ' (targets only: the gateway did not report each outcome)' : '';
  return `It tried ${items.length} target(s)${partial}: ${items.map((x, i) => `${i + 1}) ${attemptText(x)}`).join('; ')}.`;
}

function attemptText(a: Attempt): string {
  const target =
    [a.provider ?? 'unknown provider', a.model].filter(Boolean).join(' ') + (a.region ? ` in ${a.region}` : '');
  const status =
    a.status === 'success'
      ? 'succeeded'
      : a.status === 'error' || a.status === 'timeout'
        ? `failed${a.status === 'timeout' ? ' (timeout)' : ''}${a.error_class ? `: ${a.error_class}` : ''}${a.http_status ? ` (HTTP ${a.http_status})` : ''}`
        : a.status === 'skipped'
          ? 'was skipped'
          : 'outcome not reported';
  return `${target} ${status}${a.latency_ms !== undefined ? ` after ${a.latency_ms} ms` : ''}`;
}

function servedStep(r: CanonicalRecord, s: Explanation['served']): string {
  if (!s) {
    const o = r.outcome;
    return `No target answered: the request ended ${o.status}${o.error_class ? ` (${o.error_class})` : ''}${o.http_status ? ` with HTTP ${o.http_status}` : ''}.`;
  }
  if (s.by_cache)
    return `It was answered from the ${r.cache!.status === 'semantic_hit' ? 'semantic ' : ''}cache${s.model ? ` (cached answer of ${s.model})` : ''}.`;
  const what = [s.provider ?? 'an unreported provider', s.model ?? 'an unreported model'].join(' ');
  const version = s.version ? `, version ${s.version}` : ', version not reported';
  const region = s.region ? ` in ${s.region}` : ', region not reported';
  const reported =
    s.reported_model && s.model && s.reported_model !== s.model
      ? ` The provider's response named the model ${s.reported_model}.`
      : '';
  return `Served by ${what}${version}${region}.${reported}`;
}

function routingStep(r: CanonicalRecord): string {
  const g = r.routing;
  if (!g) return 'The gateway gave no routing reason.';
  const parts: string[] = [];
  if (g.rule_id) parts.push(`rule ${g.rule_id}`);
  if (g.policy_version) parts.push(`policy ${g.policy_version}`);
  if (g.objective) parts.push(`objective ${g.objective}`);
  if (g.router)
    parts.push(
      `router ${g.router}${g.score !== undefined ? ` scored ${g.score}` : ''}${g.threshold !== undefined ? ` against threshold ${g.threshold}` : ''}`,
    );
  const why = g.reason ? `"${g.reason}"` : 'no reason given';
  return `Why: ${g.strategy ? `${g.strategy} routing` : 'routing'}, ${why}${parts.length ? ` (${parts.join(', ')})` : ''}.`;
}

function checksStep(r: CanonicalRecord): string {
  const checks = r.policy_checks ?? [];
  if (checks.length === 0) return 'No policy checks were reported.';
  const word: Record<string, string> = { pass: 'passed', fail: 'failed', skipped: 'was skipped', error: 'errored' };
  return `Policy checks: ${checks.map((c) => `${c.name}${c.required ? ' (required)' : ''} ${word[c.result] ?? c.result}${c.detail ? ` (${c.detail})` : ''}`).join('; ')}.`;
}

function findingsOf(r: CanonicalRecord, signals: readonly string[]): Explanation['findings'] {
  const out: Explanation['findings'] = [];
  const has = (s: string) => signals.includes(s);
  if (has('fallback'))
    out.push({ signal: 'fallback', text: 'A fallback target served this request instead of the first choice.' });
  if (has('silent_substitution'))
    out.push({
      signal: 'silent_substitution',
      text: 'The answering model differs from the first target and the user was not told (silent substitution).',
    });
  if (has('residency_violation')) {
    out.push({
      signal: 'residency_violation',
      text: `Residency breach: served in ${r.region?.served}, outside the required region(s) ${(r.region?.required ?? []).join(', ')}.`,
    });
  }
  if (has('policy_bypass')) {
    const skipped = (r.policy_checks ?? []).filter(
      (c) => c.required && (c.result === 'skipped' || c.result === 'error'),
    );
    const path = r.fallback_used === true ? ' on the fallback path' : '';
    out.push({
      signal: 'policy_bypass',
      text: `Policy bypass${path}: required check(s) did not run: ${skipped.map((c) => `${c.name} (${c.result})`).join(', ')}.`,
    });
  }
  if (has('unknown_attempts'))
    out.push({
      signal: 'unknown_attempts',
      text: 'Observability gap: the gateway did not report the full attempt chain.',
    });
  if (has('missing_version'))
    out.push({ signal: 'missing_version', text: 'Observability gap: no model version or deployment was reported.' });
  if (has('missing_region'))
    out.push({ signal: 'missing_region', text: 'Observability gap: the serving region was not reported.' });
  return out;
}
