import { targetName } from './finding.js';

/**
 * Alias → target change points from per-target first/last sightings. Pure.
 *
 * A target is (provider, model, version). Only primary resolutions count: the repository
 * leaves out fallbacks, substitutions and cache answers, which say nothing about what the
 * alias points at. A change point is the first sighting of a target that no earlier target
 * of the same tenant and alias matches; a missing component (a gateway that omits the
 * version) matches anything, so a gateway starting or stopping to report versions is not a
 * "change". A load-balanced alias therefore yields its targets once, not a flip per request, and
 * a target the gateway chose by weight (routing.strategy loadbalance) while the earlier target was
 * still served is weighted routing, not a change: no change point.
 */

export interface AliasTargetRow {
  tenant_id: string;
  alias: string;
  provider: string | null;
  model: string | null;
  version: string | null;
  requests: number;
  first_seen: string;
  last_seen: string;
  first_event_id: string;
  /** Some of these requests were routed by a loadbalance strategy. */
  load_balanced?: boolean | null;
}

export interface AliasTarget {
  provider: string | null;
  model: string | null;
  version: string | null;
}

export interface ChangePoint {
  tenant_id: string;
  alias: string;
  at: string;
  /** Last sighting of the new target. */
  last_seen: string;
  from: AliasTarget | null;
  to: AliasTarget;
  first_event_id: string;
  /** Requests the new target served (in the rows given). */
  requests: number;
  /** The replaced target was still served after the change: a partial rollout or a canary. */
  previous_still_served: boolean;
  summary: string;
}

export interface AliasHistory {
  tenant_id: string;
  alias: string;
  targets: Array<AliasTarget & { requests: number; first_seen: string; last_seen: string }>;
  change_points: ChangePoint[];
}

function sameTarget(a: AliasTarget, b: AliasTarget): boolean {
  const eq = (x: string | null, y: string | null) => x === null || y === null || x === y;
  return eq(a.provider, b.provider) && eq(a.model, b.model) && eq(a.version, b.version);
}

export function aliasHistories(rows: AliasTargetRow[]): AliasHistory[] {
  const groups = new Map<string, AliasTargetRow[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.tenant_id, r.alias]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: AliasHistory[] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort(
      (a, b) => a.first_seen.localeCompare(b.first_seen) || a.first_event_id.localeCompare(b.first_event_id),
    );
    const changes: ChangePoint[] = [];
    sorted.forEach((row, i) => {
      if (i === 0) return;
      const earlier = sorted.slice(0, i);
      const to = target(row);
      if (earlier.some((e) => sameTarget(target(e), to))) return;
      // The target it replaced: the most recently introduced earlier one.
      const prev = earlier[earlier.length - 1];
      if (row.load_balanced && prev.load_balanced && prev.last_seen > row.first_seen) return;
      const from = target(prev);
      changes.push({
        tenant_id: row.tenant_id,
        alias: row.alias,
        at: row.first_seen,
        last_seen: row.last_seen,
        from,
        to,
        first_event_id: row.first_event_id,
        requests: row.requests,
        previous_still_served: prev.last_seen > row.first_seen,
        summary: `Alias "${row.alias}" of tenant ${row.tenant_id} started resolving to ${targetName(to)} at ${row.first_seen}, replacing ${targetName(from)}${prev.last_seen > row.first_seen ? ' (which was still served afterwards: a partial rollout)' : ''}.`,
      });
    });
    out.push({
      tenant_id: sorted[0].tenant_id,
      alias: sorted[0].alias,
      targets: sorted.map((r) => ({
        ...target(r),
        requests: r.requests,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
      })),
      change_points: changes,
    });
  }
  return out.sort((a, b) => a.tenant_id.localeCompare(b.tenant_id) || a.alias.localeCompare(b.alias));
}

function target(r: AliasTargetRow): AliasTarget {
  return { provider: r.provider, model: r.model, version: r.version };
}
