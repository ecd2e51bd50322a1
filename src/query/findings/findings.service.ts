import { Inject, Injectable } from '@nestjs/common';
import { queryScope, type Principal } from '../../auth/principal.js';
import { QUERY_CLOCK, type Clock } from '../common/clock.js';
import { decodeOffsetCursor, encodeOffsetCursor } from '../common/cursor.js';
import { BadCursorError } from '../common/query.errors.js';
import { resolveWindow } from '../common/time-window.js';
import { ConformanceService } from '../../policy/conformance.service.js';
import { EvaluationsRepository } from '../evaluations/evaluations.repository.js';
import { aliasHistories } from './alias-history.js';
import { cheaperTargetFinding, concentrationFinding, difficultMinorityFinding } from './cost-bias.js';
import { evaluationDriftFindings } from './evaluation-drift.js';
import { FINDING_TYPES, sortFindings, targetName, type Finding, type FindingType, type Severity } from './finding.js';
import type { AliasHistoryQueryDto, CoverageQueryDto, FindingsQueryDto } from './findings.dto.js';
import { FindingsRepository, type FindingScope, type SignalGroupRow } from './findings.repository.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const FINDINGS_WINDOW = { defaultMs: DAY, maxMs: 31 * DAY };
export const ALIAS_HISTORY_WINDOW = { defaultMs: 30 * DAY, maxMs: 90 * DAY };
export const COVERAGE_WINDOW = { defaultMs: DAY, maxMs: 31 * DAY };
/**
 * How far before the window alias and version sightings are read, so that a target already
 * served then is not reported as new. A target last served longer ago than this and then
 * replaced inside the window is missed: the price of a bounded scan.
 */
export const LOOKBACK_MS = 30 * DAY;

const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/**
 * Findings over records and their stored signals: silent degradation, alias changes,
 * residency violations, policy bypass, cost-biased routing, evaluation drift, and conformance to
 * the tenant's declared policy (policy violations, claim mismatches). No finding is
 * stored: every call recomputes from the ledger (records, and the per-hour summaries the append
 * writes beside them: FindingsRepository), so a fixed rule applies to all history.
 */
@Injectable()
export class FindingsService {
  constructor(
    private readonly repo: FindingsRepository,
    private readonly evaluations: EvaluationsRepository,
    private readonly conformance: ConformanceService,
    @Inject(QUERY_CLOCK) private readonly clock: Clock,
  ) {}

  async findings(q: FindingsQueryDto, caller: Principal) {
    // A cursor carries the window its first page was computed over, so "now" cannot move under the pages.
    const at = q.cursor ? decodeOffsetCursor(q.cursor) : undefined;
    if (
      at &&
      ((q.from && Date.parse(q.from) !== Date.parse(at.from)) || (q.to && Date.parse(q.to) !== Date.parse(at.to)))
    ) {
      throw new BadCursorError('cursor belongs to another window: send the same from/to, or none');
    }
    const window = resolveWindow(at ? { from: at.from, to: at.to } : q, { now: this.clock(), ...FINDINGS_WINDOW });
    const f: FindingScope = { scope: queryScope(caller.scope, q.tenant), window, alias: q.alias };
    const types: readonly FindingType[] = q.type ? [q.type] : FINDING_TYPES;
    const found = (await Promise.all(types.map((t) => this.compute(t, f)))).flat();
    const min = SEVERITY_RANK[q.min_severity ?? 'low'];
    const findings = sortFindings(found.filter((x) => SEVERITY_RANK[x.severity] <= min));
    const counts = Object.fromEntries(types.map((t) => [t, findings.filter((x) => x.type === t).length]));
    const range = { from: window.from.toISOString(), to: window.to.toISOString() };
    if (q.limit === undefined && !at) return { window: range, counts, findings };
    const offset = at?.offset ?? 0;
    const end = q.limit === undefined ? findings.length : offset + q.limit;
    const next = end < findings.length ? encodeOffsetCursor({ ...range, offset: end }) : null;
    return { window: range, counts, findings: findings.slice(offset, end), next_cursor: next };
  }

  async aliasHistory(alias: string, q: AliasHistoryQueryDto, caller: Principal) {
    const window = resolveWindow(q, { now: this.clock(), ...ALIAS_HISTORY_WINDOW });
    const rows = await this.repo.aliasTargets(
      { scope: queryScope(caller.scope, q.tenant), window, alias },
      window.from,
    );
    return {
      alias,
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      tenants: aliasHistories(rows),
    };
  }

  async coverage(q: CoverageQueryDto, caller: Principal) {
    const window = resolveWindow(q, { now: this.clock(), ...COVERAGE_WINDOW });
    const scope = queryScope(caller.scope, q.tenant);
    const [rows, policy] = await Promise.all([
      this.repo.coverage({ scope, window, gateway: q.gateway }),
      // Per tenant, not per gateway: a policy belongs to the tenant, whichever gateway routed.
      this.conformance.coverage({ scope, window }),
    ]);
    const share = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000);
    const byGateway = new Map<
      string,
      { kinds: string[]; events: number; cache: number; unknown: number; version: number; region: number }
    >();
    for (const r of rows) {
      const g = byGateway.get(r.gateway_id) ?? { kinds: [], events: 0, cache: 0, unknown: 0, version: 0, region: 0 };
      g.kinds.push(r.gateway_kind);
      g.events += r.events;
      g.cache += r.cache_answers;
      g.unknown += r.unknown_attempts;
      g.version += r.missing_version;
      g.region += r.missing_region;
      byGateway.set(r.gateway_id, g);
    }
    return {
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      gateways: [...byGateway]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([gatewayId, g]) => ({
          gateway_id: gatewayId,
          gateway_kinds: g.kinds.sort(),
          events: g.events,
          cache_answers: g.cache,
          unknown_attempts: { count: g.unknown, share: share(g.unknown, g.events) },
          // Cache answers have no serving model, so they are not counted as missing a version.
          missing_version: { count: g.version, share: share(g.version, g.events - g.cache) },
          missing_region: { count: g.region, share: share(g.region, g.events) },
        })),
      policy,
    };
  }

  private async compute(type: FindingType, f: FindingScope): Promise<Finding[]> {
    switch (type) {
      case 'silent_degradation':
        return (await this.repo.silentDegradation(f)).map(silentDegradation);
      case 'residency_violation':
        return (await this.repo.residencyViolations(f)).map(residency);
      case 'policy_bypass':
        return (await this.repo.policyBypasses(f)).map(policyBypass);
      case 'alias_change':
        return this.aliasChanges(f);
      case 'cost_biased_routing': {
        const [cheaper, concentration, cohorts] = await Promise.all([
          this.repo.cheaperTargets(f),
          this.repo.priceConcentration(f),
          this.repo.cohorts(f),
        ]);
        return [
          ...cheaper.map(cheaperTargetFinding),
          ...concentration.map(concentrationFinding).filter((x): x is Finding => x !== null),
          ...cohorts.map(difficultMinorityFinding).filter((x): x is Finding => x !== null),
        ];
      }
      case 'evaluation_drift': {
        const since = new Date(f.window.from.getTime() - LOOKBACK_MS);
        const [served, evaluations] = await Promise.all([
          this.repo.servedVersions(f, since),
          this.evaluations.applicable(f.scope, f.alias),
        ]);
        return evaluationDriftFindings(served, evaluations, f.window.to);
      }
      case 'policy_violation':
      case 'claim_mismatch':
        return this.conformance.findings(f, type);
    }
  }

  private async aliasChanges(f: FindingScope): Promise<Finding[]> {
    const rows = await this.repo.aliasTargets(f, new Date(f.window.from.getTime() - LOOKBACK_MS));
    const from = f.window.from.getTime();
    return aliasHistories(rows).flatMap((h) =>
      h.change_points
        .filter((c) => Date.parse(c.at) >= from)
        .map((c): Finding => ({
          type: 'alias_change',
          kind: 'alias_change',
          severity: 'medium',
          tenant_id: c.tenant_id,
          alias: c.alias,
          summary: c.summary,
          requests: c.requests,
          first_seen: c.at,
          last_seen: c.last_seen,
          evidence: { from: c.from, to: c.to, previous_still_served: c.previous_still_served },
          sample_event_ids: [c.first_event_id],
        })),
    );
  }
}

function base(r: SignalGroupRow) {
  return {
    tenant_id: r.tenant_id,
    alias: r.alias,
    requests: r.requests,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    sample_event_ids: r.sample_event_ids,
  };
}

function silentDegradation(r: SignalGroupRow): Finding {
  const first = { provider: r.first_provider as string | null, model: r.first_model as string | null };
  const served = { provider: r.provider as string | null, model: r.model as string | null };
  const how = r.fallback_used === 'true' ? 'a fallback' : 'a substitution';
  return {
    ...base(r),
    type: 'silent_degradation',
    kind: 'silent_degradation',
    severity: 'medium',
    summary: `${r.requests} request(s) for "${r.alias}" (tenant ${r.tenant_id}) were answered by ${targetName(served)} instead of ${targetName(first)} through ${how}, and the user was not told.`,
    evidence: { first_choice: first, served, fallback_used: r.fallback_used, disclosure: r.notice ?? 'not reported' },
  };
}

function residency(r: SignalGroupRow): Finding {
  const required = (r.required as string[] | null) ?? [];
  return {
    ...base(r),
    type: 'residency_violation',
    kind: 'residency_violation',
    severity: 'high',
    summary: `${r.requests} request(s) of tenant ${r.tenant_id} for "${r.alias}" that must stay in ${required.join(' or ')} were served in ${r.region_served}${r.provider ? ` by ${r.provider}` : ''}${r.on_fallback_path ? ', on the fallback path' : ''}.`,
    evidence: {
      required_regions: required,
      served_region: r.region_served,
      provider: r.provider,
      on_fallback_path: r.on_fallback_path,
    },
  };
}

function policyBypass(r: SignalGroupRow): Finding {
  return {
    ...base(r),
    type: 'policy_bypass',
    kind: r.on_fallback_path ? 'required_check_skipped_on_fallback' : 'required_check_skipped',
    severity: 'high',
    summary: `Required check "${r.check_name}" ${r.result === 'error' ? 'errored' : 'was skipped'} on ${r.requests} request(s) for "${r.alias}" (tenant ${r.tenant_id})${r.on_fallback_path ? `, on the fallback path to ${r.provider ?? 'an unreported provider'}` : ''}.`,
    evidence: {
      check: r.check_name,
      result: r.result,
      on_fallback_path: r.on_fallback_path,
      served_provider: r.provider,
    },
  };
}
