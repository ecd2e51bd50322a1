import { pct, targetName, type Finding } from './finding.js';

/**
 * Cost-biased routing, as far as the record supports it. Prices are not configured: a
 * target's price is what the ledger saw it cost per 1,000 tokens for that tenant and alias
 * in the window, so the comparison needs no price list and stays recomputable. Pure
 * decisions over the repository's aggregates.
 */

/** A target is "cheaper" when it costs at least this much less per 1k tokens than the alias's priciest target. */
export const COST_BIAS_MIN_DISCOUNT = 0.2;
/** Price-driven decisions needed before their concentration means anything. */
export const CONCENTRATION_MIN_DECISIONS = 20;
export const CONCENTRATION_MIN_SHARE = 0.9;
/** A task category needs this many cheap-path requests, and the rest of the alias as many, to compare rates. */
export const COHORT_MIN_REQUESTS = 20;
/** ... and the router must keep at least this share of the category on the cheap path. */
export const COHORT_MIN_CHEAP_SHARE = 0.5;
/** Its bad-outcome rate on the cheap path must be this many times the rest's, and this much higher in absolute terms. */
export const COHORT_RATE_RATIO = 2;
export const COHORT_MIN_RATE_GAP = 0.05;

interface Seen {
  first_seen: string;
  last_seen: string;
  sample_event_ids: string[];
}

export interface CheaperTargetRow extends Seen {
  tenant_id: string;
  alias: string;
  provider: string;
  model: string;
  currency: string;
  per_1k: string;
  premium_provider: string;
  premium_model: string;
  premium_per_1k: string;
  requests: number;
}

/** Quality objective, cheaper target: the repository already applied the rule, this words it. */
export function cheaperTargetFinding(r: CheaperTargetRow): Finding {
  const saving = 1 - Number(r.per_1k) / Number(r.premium_per_1k);
  return {
    type: 'cost_biased_routing',
    kind: 'cheaper_target_under_quality_objective',
    severity: 'medium',
    tenant_id: r.tenant_id,
    alias: r.alias,
    summary: `Tenant ${r.tenant_id}'s routing policy asks for quality, yet ${r.requests} request(s) for "${r.alias}" were sent to ${targetName(r)}, ${pct(saving)} cheaper per 1k tokens than ${targetName({ provider: r.premium_provider, model: r.premium_model })}, without a fallback forcing it.`,
    requests: r.requests,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    evidence: {
      objective: 'quality',
      chosen: { provider: r.provider, model: r.model, cost_per_1k_tokens: r.per_1k, currency: r.currency },
      premium: {
        provider: r.premium_provider,
        model: r.premium_model,
        cost_per_1k_tokens: r.premium_per_1k,
        currency: r.currency,
      },
    },
    sample_event_ids: r.sample_event_ids,
  };
}

export interface ConcentrationRow extends Seen {
  tenant_id: string;
  alias: string;
  top_provider: string;
  top_requests: number;
  price_driven_requests: number;
  /** Providers that served or were tried for this alias in the window: the alternatives. */
  providers_available: number;
}

export function concentrationFinding(r: ConcentrationRow): Finding | null {
  const share = r.top_requests / r.price_driven_requests;
  if (
    r.price_driven_requests < CONCENTRATION_MIN_DECISIONS ||
    share < CONCENTRATION_MIN_SHARE ||
    r.providers_available < 2
  )
    return null;
  return {
    type: 'cost_biased_routing',
    kind: 'price_driven_concentration',
    severity: 'low',
    tenant_id: r.tenant_id,
    alias: r.alias,
    summary: `${pct(share)} of ${r.price_driven_requests} price-driven routing decisions for "${r.alias}" (tenant ${r.tenant_id}) went to ${r.top_provider}, although ${r.providers_available} providers served or were tried for it.`,
    requests: r.price_driven_requests,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    evidence: { top_provider: r.top_provider, share, providers_available: r.providers_available },
    sample_event_ids: r.sample_event_ids,
  };
}

export interface CohortRow extends Seen {
  tenant_id: string;
  alias: string;
  category: string;
  /** Requests of this category; `bad` = error, retry or escalation. */
  requests: number;
  bad: number;
  cheap_requests: number;
  cheap_bad: number;
  /** The whole alias (every category) for the same tenant. */
  alias_requests: number;
  alias_bad: number;
}

/**
 * The "difficult minority" a cost-optimising router fails: a task category it keeps on the
 * cheap path although, there, its error / retry / escalation rate runs well above the rest.
 */
export function difficultMinorityFinding(r: CohortRow): Finding | null {
  const restRequests = r.alias_requests - r.requests;
  if (r.cheap_requests < COHORT_MIN_REQUESTS || restRequests < COHORT_MIN_REQUESTS) return null;
  const cheapShare = r.cheap_requests / r.requests;
  const cheapRate = r.cheap_bad / r.cheap_requests;
  const restRate = (r.alias_bad - r.bad) / restRequests;
  if (
    cheapShare < COHORT_MIN_CHEAP_SHARE ||
    cheapRate < COHORT_RATE_RATIO * restRate ||
    cheapRate - restRate < COHORT_MIN_RATE_GAP
  )
    return null;
  return {
    type: 'cost_biased_routing',
    kind: 'difficult_minority',
    severity: 'medium',
    tenant_id: r.tenant_id,
    alias: r.alias,
    summary: `The router keeps ${pct(cheapShare)} of "${r.category}" requests for "${r.alias}" (tenant ${r.tenant_id}) on the cheap path, where ${pct(cheapRate)} end in an error, retry or escalation, against ${pct(restRate)} for the rest of the alias's traffic.`,
    requests: r.cheap_requests,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    evidence: {
      task_category: r.category,
      cheap_path_share: cheapShare,
      cheap_path_bad_rate: cheapRate,
      rest_bad_rate: restRate,
      cheap_path_requests: r.cheap_requests,
      rest_requests: restRequests,
    },
    sample_event_ids: r.sample_event_ids,
  };
}
