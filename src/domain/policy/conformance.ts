/**
 * Conformance of one routing decision to the policy version in force at its occurred_at.
 *
 * Two families of faults:
 *  - policy_violation: what the gateway did breaks the tenant's policy (served outside the
 *    required regions, a target or fallback target the policy does not allow, a required check
 *    missing or skipped, a cached answer where none may serve, a fallback the user was not told
 *    of, a version no linked evaluation covers, too many fallbacks in a window);
 *  - claim_mismatch: what the gateway's event says was required differs from the policy (the
 *    policy requires "eu", the event claims no residency requirement). The ledger's own
 *    record-level findings trust those claims; these findings do not.
 * Pure: the facts come from records (grouped by what the rules read), the policy from its entry.
 */
import { ruleFor, type PolicyDocument, type PolicyRule, type PolicyTarget } from './policy-document.js';

export type FaultFamily = 'policy_violation' | 'claim_mismatch';
export type FaultSeverity = 'high' | 'medium' | 'low';

/** What a rule reads of a decision: the columns and record members findings group by. */
export interface DecisionFacts {
  alias: string;
  category: string | null;
  provider: string | null;
  model: string | null;
  /** model_version.version, else its deployment_id. */
  version: string | null;
  region_served: string | null;
  region_required: string[] | null;
  fallback_used: string | null;
  cache_status: string | null;
  checks: Array<{ name: string; result: string; required?: boolean }>;
  objective: string | null;
  notice: string | null;
}

export interface PolicyFault {
  family: FaultFamily;
  kind: string;
  severity: FaultSeverity;
  rule_id: string;
  /** What the policy requires, in its own terms. */
  required: unknown;
  /** What the gateway did or claimed. */
  done: unknown;
}

export interface DecisionVerdict {
  /** The rule that governs the decision; null when the policy has none for it (uncovered traffic). */
  rule_id: string | null;
  faults: PolicyFault[];
}

const CACHE_ANSWERS = new Set(['hit', 'semantic_hit']);

/** Every fault of `facts` under `policy`, in a fixed order (checks are independent of each other). */
export function checkDecision(policy: PolicyDocument, facts: DecisionFacts): DecisionVerdict {
  const rule = ruleFor(policy, facts.alias, facts.category);
  if (!rule) return { rule_id: null, faults: [] };
  const cached = facts.cache_status !== null && CACHE_ANSWERS.has(facts.cache_status);
  const faults = [
    ...cacheFaults(rule, facts, cached),
    ...(cached ? [] : targetFaults(rule, facts)),
    ...(cached ? [] : residencyFaults(rule, facts)),
    ...checkFaults(rule, facts),
    ...objectiveFaults(rule, facts),
    ...disclosureFaults(rule, facts),
    ...(cached ? [] : evaluationFaults(rule, facts)),
  ];
  return { rule_id: rule.id, faults };
}

const fault = (
  rule: PolicyRule,
  family: FaultFamily,
  kind: string,
  severity: FaultSeverity,
  required: unknown,
  done: unknown,
): PolicyFault => ({ family, kind, severity, rule_id: rule.id, required, done });

function cacheFaults(rule: PolicyRule, f: DecisionFacts, cached: boolean): PolicyFault[] {
  if (!cached || rule.cache_allowed !== false) return [];
  return [
    fault(rule, 'policy_violation', 'cache_not_allowed', 'medium', { cache_allowed: false }, { cache: f.cache_status }),
  ];
}

/** Whether `t` allows the served provider, model and version. */
export function targetAllows(t: PolicyTarget, f: Pick<DecisionFacts, 'provider' | 'model' | 'version'>): boolean {
  if (t.provider !== f.provider) return false;
  if (t.model !== undefined && t.model !== f.model) return false;
  return t.versions === undefined || (f.version !== null && t.versions.includes(f.version));
}

function targetFaults(rule: PolicyRule, f: DecisionFacts): PolicyFault[] {
  if (f.provider === null) return [];
  const onFallback = f.fallback_used === 'true';
  const allowed = onFallback ? (rule.fallback?.allowed_targets ?? rule.allowed_targets) : rule.allowed_targets;
  if (!allowed || allowed.some((t) => targetAllows(t, f))) return [];
  const done = { provider: f.provider, model: f.model, version: f.version, fallback: onFallback };
  // A target allowed by provider and model but pinned to versions the event does not report cannot be judged.
  const unreported = f.version === null && allowed.some((t) => targetAllows({ ...t, versions: undefined }, f));
  if (unreported)
    return [fault(rule, 'policy_violation', 'version_unreported', 'medium', { allowed_targets: allowed }, done)];
  const kind = onFallback ? 'fallback_target_not_allowed' : 'target_not_allowed';
  return [fault(rule, 'policy_violation', kind, 'high', { allowed_targets: allowed }, done)];
}

/** Region prefixes as the record's residency signal reads them: "eu" covers "eu" and "eu-west-1". */
export function regionWithin(served: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => served === p || served.startsWith(`${p}-`));
}

function residencyFaults(rule: PolicyRule, f: DecisionFacts): PolicyFault[] {
  const required = rule.required_regions;
  if (!required) return [];
  const out: PolicyFault[] = [];
  if (f.provider !== null || f.region_served !== null) {
    if (f.region_served === null)
      out.push(fault(rule, 'policy_violation', 'region_unreported', 'medium', { regions: required }, { region: null }));
    else if (!regionWithin(f.region_served, required))
      out.push(
        fault(rule, 'policy_violation', 'residency', 'high', { regions: required }, { region: f.region_served }),
      );
  }
  const claimed = [...(f.region_required ?? [])].sort();
  if (claimed.join() !== [...required].sort().join())
    out.push(
      fault(
        rule,
        'claim_mismatch',
        claimed.length === 0 ? 'residency_not_claimed' : 'residency_claim_differs',
        'high',
        { regions: [...required].sort() },
        { claimed_regions: claimed },
      ),
    );
  return out;
}

function checkFaults(rule: PolicyRule, f: DecisionFacts): PolicyFault[] {
  const out: PolicyFault[] = [];
  for (const name of rule.required_checks ?? []) {
    const c = f.checks.find((x) => x.name === name);
    if (!c) {
      out.push(fault(rule, 'policy_violation', 'required_check_missing', 'high', { check: name }, { check: null }));
      continue;
    }
    if (c.result === 'skipped' || c.result === 'error')
      out.push(
        fault(rule, 'policy_violation', 'required_check_skipped', 'high', { check: name }, { result: c.result }),
      );
    if (c.required !== true)
      out.push(
        fault(
          rule,
          'claim_mismatch',
          'check_not_claimed_required',
          'medium',
          { check: name, required: true },
          {
            required: c.required ?? null,
          },
        ),
      );
  }
  return out;
}

function objectiveFaults(rule: PolicyRule, f: DecisionFacts): PolicyFault[] {
  if (!rule.objective || f.objective === rule.objective) return [];
  const kind = f.objective === null ? 'objective_not_claimed' : 'objective_claim_differs';
  return [
    fault(
      rule,
      'claim_mismatch',
      kind,
      f.objective === null ? 'low' : 'medium',
      { objective: rule.objective },
      {
        objective: f.objective,
      },
    ),
  ];
}

function disclosureFaults(rule: PolicyRule, f: DecisionFacts): PolicyFault[] {
  if (rule.disclose_fallback !== true || f.fallback_used !== 'true' || f.notice === 'true') return [];
  return [
    fault(
      rule,
      'policy_violation',
      'fallback_not_disclosed',
      'medium',
      { disclose_fallback: true },
      {
        notice: f.notice ?? 'not reported',
      },
    ),
  ];
}

function evaluationFaults(rule: PolicyRule, f: DecisionFacts): PolicyFault[] {
  if (!rule.evaluations || f.provider === null) return [];
  const covered = rule.evaluations.flatMap((e) => e.model_versions);
  const served = f.version ?? f.model;
  if (served !== null && covered.includes(served)) return [];
  return [
    fault(
      rule,
      'policy_violation',
      'unevaluated_version',
      'medium',
      { evaluations: rule.evaluations.map((e) => e.evaluation_id), model_versions: [...new Set(covered)].sort() },
      { provider: f.provider, model: f.model, version: f.version },
    ),
  ];
}

/** Requests and fallbacks of one alias in one window, and the policy version in force at its start. */
export interface FallbackWindow {
  alias: string;
  window_start: string;
  requests: number;
  fallbacks: number;
}

/**
 * Windows in which the fallback share exceeded the rule's max_share. Only rules matched by alias
 * alone are judged: the per-minute summaries that count fallbacks do not know task categories.
 */
export function fallbackShareFaults(policy: PolicyDocument, w: FallbackWindow): PolicyFault | null {
  const rule = ruleFor(policy, w.alias, null);
  const max = rule?.fallback?.max_share;
  if (!rule || max === undefined || rule.match.task_category !== undefined || w.requests === 0) return null;
  // Compared as integers (fallbacks / requests > max), so a decimal string never meets a float rounding.
  const [units, frac = ''] = max.split('.');
  const scale = 10 ** frac.length;
  const maxScaled = Number(units) * scale + Number(frac || '0');
  if (w.fallbacks * scale <= maxScaled * w.requests) return null;
  return fault(
    rule,
    'policy_violation',
    'fallback_share_exceeded',
    'medium',
    { max_share: max, window_minutes: rule.fallback?.window_minutes ?? DEFAULT_FALLBACK_WINDOW_MINUTES },
    { window_start: w.window_start, requests: w.requests, fallbacks: w.fallbacks },
  );
}

export const DEFAULT_FALLBACK_WINDOW_MINUTES = 60;
