/** The shape every finding shares, whatever computed it. */

export const FINDING_TYPES = [
  'silent_degradation',
  'alias_change',
  'residency_violation',
  'policy_bypass',
  'cost_biased_routing',
  'evaluation_drift',
  // Judged against the tenant's declared policy in force at occurred_at, not the gateway's claims.
  'policy_violation',
  'claim_mismatch',
] as const;
export type FindingType = (typeof FINDING_TYPES)[number];
export type Severity = 'high' | 'medium' | 'low';

export interface Finding {
  type: FindingType;
  /** Which rule of the type fired, e.g. cost_biased_routing / difficult_minority. */
  kind: string;
  severity: Severity;
  tenant_id: string;
  alias: string | null;
  /** One or two sentences a responder can paste into an incident channel. */
  summary: string;
  /** Events in the window that carry the finding. */
  requests: number;
  first_seen: string | null;
  last_seen: string | null;
  evidence: Record<string, unknown>;
  sample_event_ids: string[];
}

const SEVERITY_ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** Most severe first, then by type, tenant, alias and time: a stable order for equal inputs. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.type.localeCompare(b.type) ||
      a.tenant_id.localeCompare(b.tenant_id) ||
      (a.alias ?? '').localeCompare(b.alias ?? '') ||
      (a.first_seen ?? '').localeCompare(b.first_seen ?? '') ||
      a.kind.localeCompare(b.kind) ||
      a.summary.localeCompare(b.summary),
  );
}

export function targetName(t: { provider?: string | null; model?: string | null; version?: string | null }): string {
  return `${[t.provider, t.model].filter(Boolean).join(' ') || 'unknown target'}${t.version ? ` (${t.version})` : ''}`;
}

export function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}
