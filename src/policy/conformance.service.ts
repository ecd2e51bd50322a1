import { Injectable } from '@nestjs/common';
import type { TenantScope } from '../auth/principal.js';
import { canonicalJson } from '../domain/canonical/canonical-json.js';
import {
  checkDecision,
  DEFAULT_FALLBACK_WINDOW_MINUTES,
  fallbackShareFaults,
  type FaultFamily,
  type PolicyFault,
} from '../domain/policy/conformance.js';
import { ruleFor, type PolicyDocument } from '../domain/policy/policy-document.js';
import type { TimeWindow } from '../query/common/time-window.js';
import type { Finding } from '../query/findings/finding.js';
import { ConformanceRepository, type FactsRow, type VersionSpan } from './conformance.repository.js';
import { PolicyRepository } from './policy.repository.js';

interface Scoped {
  scope: TenantScope;
  window: TimeWindow;
  alias?: string;
}

interface VersionInfo {
  document: PolicyDocument;
  effective_from: string;
}

const SAMPLES = 5;

/**
 * Judges decisions by the policy version in force at their occurred_at: findings of the types
 * policy_violation and claim_mismatch for GET /v1/findings, and the traffic no policy covers
 * for GET /v1/coverage. Recomputed on every call, like every other finding.
 */
@Injectable()
export class ConformanceService {
  constructor(
    private readonly policies: PolicyRepository,
    private readonly repo: ConformanceRepository,
  ) {}

  /**
   * One read per findings request: GET /v1/findings asks for both families with the same scope
   * object, and both are computed from the same facts.
   */
  private readonly reads = new WeakMap<
    Scoped,
    Promise<{ spans: VersionSpan[]; versions: Map<string, VersionInfo>; facts: FactsRow[] }>
  >();

  private read(f: Scoped) {
    let r = this.reads.get(f);
    if (!r) {
      r = this.spans(f).then(async (s) => ({ ...s, facts: await this.repo.facts(s.spans, f.alias) }));
      this.reads.set(f, r);
    }
    return r;
  }

  async findings(f: Scoped, family: FaultFamily): Promise<Finding[]> {
    const { spans, versions, facts } = await this.read(f);
    const merged = new Map<string, Finding>();
    for (const row of facts) {
      const v = versions.get(`${row.tenant_id}/${row.policy_version}`) as VersionInfo;
      for (const fault of checkDecision(v.document, row).faults) {
        if (fault.family !== family) continue;
        add(merged, toFinding(row.tenant_id, row.alias, row.policy_version, v.effective_from, fault, row));
      }
    }
    if (family === 'policy_violation') {
      for (const w of await this.fallbackWindows(f, spans, versions)) add(merged, w);
    }
    return [...merged.values()];
  }

  /** Traffic in the window that no policy rule covers, per tenant (no policy in force, or no rule for the alias/category). */
  async coverage(f: Scoped) {
    const { spans, versions } = await this.spans(f);
    const facts = await this.repo.facts(spans, f.alias);
    const tenants = new Map<string, { events: number; covered: number; uncovered: Map<string, number> }>();
    const at = (t: string) => {
      const x = tenants.get(t) ?? { events: 0, covered: 0, uncovered: new Map<string, number>() };
      tenants.set(t, x);
      return x;
    };
    for (const row of facts) {
      const v = versions.get(`${row.tenant_id}/${row.policy_version}`) as VersionInfo;
      const t = at(row.tenant_id);
      t.events += row.requests;
      if (ruleFor(v.document, row.alias, row.category)) t.covered += row.requests;
      else {
        const key = `${row.alias}${row.category ? ` / ${row.category}` : ''}`;
        t.uncovered.set(key, (t.uncovered.get(key) ?? 0) + row.requests);
      }
    }
    const policed = [...new Set(spans.map((s) => s.tenant_id))];
    const unpoliced = await this.repo.unpoliced(f.scope, f.window.from, f.window.to, policed, f.alias);
    for (const r of unpoliced) {
      const t = at(r.tenant_id);
      t.events += r.requests;
      t.uncovered.set(r.alias, (t.uncovered.get(r.alias) ?? 0) + r.requests);
    }
    return [...tenants]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([tenant, t]) => ({
        tenant_id: tenant,
        has_policy: policed.includes(tenant),
        events: t.events,
        covered: t.covered,
        uncovered: t.events - t.covered,
        uncovered_share: t.events === 0 ? null : Math.round(((t.events - t.covered) / t.events) * 10_000) / 10_000,
        uncovered_routes: [...t.uncovered]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 20)
          .map(([route, requests]) => ({ route, requests })),
      }));
  }

  private async spans(f: Scoped): Promise<{ spans: VersionSpan[]; versions: Map<string, VersionInfo> }> {
    const inForce = await this.policies.inForce(f.scope, f.window.from, f.window.to);
    const versions = new Map<string, VersionInfo>();
    const spans: VersionSpan[] = [];
    for (const v of inForce) {
      versions.set(`${v.tenant_id}/${v.version}`, { document: v.entry.document, effective_from: v.effective_from });
      const from = Math.max(Date.parse(v.effective_from), f.window.from.getTime());
      const to = Math.min(v.effective_to ? Date.parse(v.effective_to) : Infinity, f.window.to.getTime());
      if (from < to) spans.push({ tenant_id: v.tenant_id, version: v.version, from: new Date(from), to: new Date(to) });
    }
    return { spans, versions };
  }

  /**
   * Fallback share per rule window (window_minutes, aligned to the epoch) from the per-minute
   * summaries: each window is judged by the version in force at its first minute of traffic.
   */
  private async fallbackWindows(f: Scoped, spans: VersionSpan[], versions: Map<string, VersionInfo>) {
    const policed = spans.filter((s) =>
      versions.get(`${s.tenant_id}/${s.version}`)?.document.rules.some((r) => r.fallback?.max_share !== undefined),
    );
    const buckets = new Map<
      string,
      { tenant: string; alias: string; version: number; start: number; requests: number; fallbacks: number }
    >();
    for (const m of await this.repo.minutes(policed, f.alias)) {
      const doc = (versions.get(`${m.tenant_id}/${m.policy_version}`) as VersionInfo).document;
      const minutes = ruleFor(doc, m.alias, null)?.fallback?.window_minutes ?? DEFAULT_FALLBACK_WINDOW_MINUTES;
      const size = minutes * 60_000;
      const start = Math.floor(Date.parse(m.minute) / size) * size;
      const key = `${m.tenant_id}\u0000${m.alias}\u0000${start}`;
      const b = buckets.get(key) ?? {
        tenant: m.tenant_id,
        alias: m.alias,
        version: m.policy_version,
        start,
        requests: 0,
        fallbacks: 0,
      };
      b.requests += m.requests;
      b.fallbacks += m.fallbacks;
      buckets.set(key, b);
    }
    const out: Finding[] = [];
    for (const b of buckets.values()) {
      const v = versions.get(`${b.tenant}/${b.version}`) as VersionInfo;
      const window_start = new Date(b.start).toISOString();
      const fault = fallbackShareFaults(v.document, {
        alias: b.alias,
        window_start,
        requests: b.requests,
        fallbacks: b.fallbacks,
      });
      if (!fault) continue;
      out.push(
        toFinding(b.tenant, b.alias, b.version, v.effective_from, fault, {
          requests: b.fallbacks,
          first_seen: window_start,
          last_seen: window_start,
          sample_event_ids: [],
        }),
      );
    }
    return out;
  }
}

function toFinding(
  tenant: string,
  alias: string,
  version: number,
  effectiveFrom: string,
  fault: PolicyFault,
  seen: { requests: number; first_seen: string; last_seen: string; sample_event_ids: string[] },
): Finding {
  return {
    type: fault.family,
    kind: fault.kind,
    severity: fault.severity,
    tenant_id: tenant,
    alias,
    summary: summary(tenant, alias, version, fault, seen.requests),
    requests: seen.requests,
    first_seen: seen.first_seen,
    last_seen: seen.last_seen,
    evidence: {
      policy_version: version,
      policy_effective_from: effectiveFrom,
      rule_id: fault.rule_id,
      required: fault.required,
      done: fault.done,
    },
    sample_event_ids: seen.sample_event_ids,
  };
}

/** Rows of one fault that differ only in what the rules did not read (category, model...) add up into one finding. */
function add(merged: Map<string, Finding>, f: Finding): void {
  const key = canonicalJson([f.type, f.kind, f.tenant_id, f.alias, f.evidence]);
  const prev = merged.get(key);
  if (!prev) {
    merged.set(key, f);
    return;
  }
  prev.requests += f.requests;
  if ((f.first_seen ?? '') < (prev.first_seen ?? '')) {
    prev.sample_event_ids = [...f.sample_event_ids, ...prev.sample_event_ids].slice(0, SAMPLES);
    prev.first_seen = f.first_seen;
  } else prev.sample_event_ids = [...prev.sample_event_ids, ...f.sample_event_ids].slice(0, SAMPLES);
  if ((f.last_seen ?? '') > (prev.last_seen ?? '')) prev.last_seen = f.last_seen;
  prev.summary = summary(
    prev.tenant_id,
    prev.alias ?? '',
    prev.evidence.policy_version as number,
    faultOf(prev),
    prev.requests,
  );
}

function faultOf(f: Finding): PolicyFault {
  const e = f.evidence as { rule_id: string; required: unknown; done: unknown };
  return {
    family: f.type as FaultFamily,
    kind: f.kind,
    severity: f.severity,
    rule_id: e.rule_id,
    required: e.required,
    done: e.done,
  };
}

/** The members of a fault's `required` and `done` that sentences quote (each kind uses a few). */
interface Terms {
  regions: string[];
  region: string | null;
  claimed_regions: string[];
  provider: string;
  model: string | null;
  version: string | null;
  check: string;
  result: string;
  objective: string;
  evaluations: string[];
  fallbacks: number;
  requests: number;
  window_minutes: number;
  window_start: string;
  max_share: string;
}

const WORDS: Record<string, (required: Terms, done: Terms) => string> = {
  residency: (r, d) => `must stay in ${r.regions.join(' or ')} but were served in ${d.region}`,
  region_unreported: (r) => `must stay in ${r.regions.join(' or ')} but the gateway reported no serving region`,
  residency_not_claimed: (r) =>
    `must stay in ${r.regions.join(' or ')}, yet the gateway's events claimed no residency requirement`,
  residency_claim_differs: (r, d) =>
    `must stay in ${r.regions.join(' or ')}, yet the gateway's events claimed ${d.claimed_regions.join(', ')}`,
  target_not_allowed: (_r, d) =>
    `were served by ${d.provider} ${d.model ?? ''}${d.version ? ` (${d.version})` : ''}, a target the policy does not allow`,
  fallback_target_not_allowed: (_r, d) =>
    `fell back to ${d.provider} ${d.model ?? ''}, a fallback target the policy does not allow`,
  version_unreported: (_r, d) =>
    `were served by ${d.provider} ${d.model ?? ''} without a reported version, while the policy allows only pinned versions`,
  required_check_missing: (r) => `went without the required check "${r.check}" (not in the event at all)`,
  required_check_skipped: (r, d) =>
    `had the required check "${r.check}" ${d.result === 'error' ? 'error out' : 'skipped'}`,
  check_not_claimed_required: (r) =>
    `ran check "${r.check}", which the policy requires, but the gateway's events do not mark it required`,
  objective_not_claimed: (r) => `carry no routing objective, while the policy sets "${r.objective}"`,
  objective_claim_differs: (r, d) =>
    `were routed with objective "${d.objective}", while the policy sets "${r.objective}"`,
  cache_not_allowed: () => 'were answered from the cache, which the policy does not allow',
  fallback_not_disclosed: () => 'fell back without the user being told, which the policy requires',
  unevaluated_version: (r, d) =>
    `were served by ${d.version ?? d.model ?? d.provider}, which none of the linked evaluations (${r.evaluations.join(', ')}) covers`,
  fallback_share_exceeded: (r, d) =>
    `fell back ${d.fallbacks} time(s) in ${d.requests} request(s) in the ${r.window_minutes}-minute window from ${d.window_start}, above the allowed share ${r.max_share}`,
};

function summary(tenant: string, alias: string, version: number, fault: PolicyFault, requests: number): string {
  const what = WORDS[fault.kind]?.(fault.required as Terms, fault.done as Terms) ?? `broke the policy (${fault.kind})`;
  return `${requests} request(s) of tenant ${tenant} for "${alias}" ${what} (rule ${fault.rule_id}, policy version ${version}).`;
}
