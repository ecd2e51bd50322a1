import { pct, targetName, type Finding } from './finding.js';

/**
 * Evaluation drift: routing policies are tied to evaluations (per alias and task category,
 * the model versions evaluated). Pure: served-traffic aggregates and registered evaluations
 * in, findings out. Only aliases with at least one evaluation that applies to the tenant are
 * judged; an alias nobody evaluated is not "drifting", it is simply unevaluated.
 *
 *  - unevaluated_category: live traffic in a task category no evaluation of the alias covers;
 *  - unevaluated_version: the category is evaluated, but not for the version that served;
 *  - stale_evaluation: the evaluation lists the model name only, and the model's version
 *    changed after the evaluation ran (the evaluation predates the change it should cover);
 *  - task_mix_shift: the category mix of live traffic moved away from the evaluated mix.
 */

/** Largest tolerated gap, per category, between live and evaluated traffic share. */
export const MIX_SHIFT_THRESHOLD = 0.15;
/** Live requests of an alias needed before its mix is compared. */
export const MIX_MIN_REQUESTS = 20;

export interface EvaluationRow {
  id: string;
  tenant_id: string | null;
  alias: string;
  task_category: string;
  model_versions: string[];
  test_set: string;
  accuracy_target: number;
  accuracy_result: number;
  traffic_share: number | null;
  evaluated_at: string;
}

export interface ServedVersionRow {
  tenant_id: string;
  alias: string;
  category: string;
  provider: string | null;
  model: string | null;
  version: string | null;
  /** Requests in the window. */
  requests: number;
  /** First sighting in the look-back period before the window (dates a version change). */
  first_seen_ever: string;
  first_seen: string | null;
  last_seen: string | null;
  sample_event_ids: string[];
}

const t = (iso: string) => Date.parse(iso);

export function evaluationDriftFindings(
  served: ServedVersionRow[],
  evaluations: EvaluationRow[],
  windowEnd: Date,
): Finding[] {
  const out: Finding[] = [];
  const byAlias = new Map<string, ServedVersionRow[]>();
  for (const s of served) {
    const key = JSON.stringify([s.tenant_id, s.alias]);
    byAlias.set(key, [...(byAlias.get(key) ?? []), s]);
  }
  for (const rows of byAlias.values()) {
    const { tenant_id: tenant, alias } = rows[0];
    const applicable = evaluations.filter(
      (e) =>
        e.alias === alias &&
        (e.tenant_id === null || e.tenant_id === tenant) &&
        t(e.evaluated_at) < windowEnd.getTime(),
    );
    if (applicable.length === 0) continue;
    const live = rows.filter((r) => r.requests > 0);
    for (const category of [...new Set(live.map((r) => r.category))].sort()) {
      const inCategory = live.filter((r) => r.category === category);
      const evals = applicable.filter((e) => e.task_category === category);
      if (evals.length === 0) {
        out.push(
          finding(
            'unevaluated_category',
            tenant,
            alias,
            inCategory,
            `${sum(inCategory)} request(s) of task category "${category}" were routed through "${alias}" (tenant ${tenant}), but no evaluation of the alias covers that category.`,
            {
              task_category: category,
              evaluated_categories: [...new Set(applicable.map((e) => e.task_category))].sort(),
            },
          ),
        );
        continue;
      }
      for (const row of inCategory) {
        if (row.version !== null && evals.some((e) => e.model_versions.includes(row.version!))) continue;
        const byModel = evals.filter((e) => row.model !== null && e.model_versions.includes(row.model));
        if (byModel.length === 0) {
          out.push(
            finding(
              'unevaluated_version',
              tenant,
              alias,
              [row],
              `${row.requests} "${category}" request(s) for "${alias}" (tenant ${tenant}) were served by ${targetName(row)}, a version no evaluation of that category covers.`,
              {
                task_category: category,
                served: { provider: row.provider, model: row.model, version: row.version },
                evaluated_versions: [...new Set(evals.flatMap((e) => e.model_versions))].sort(),
                evaluation_ids: evals.map((e) => e.id),
              },
            ),
          );
          continue;
        }
        const latest = byModel.reduce((a, b) => (t(a.evaluated_at) >= t(b.evaluated_at) ? a : b));
        const earlierVersion = rows.some(
          (r) => r.model === row.model && r.version !== row.version && t(r.first_seen_ever) < t(row.first_seen_ever),
        );
        if (row.version !== null && earlierVersion && t(latest.evaluated_at) < t(row.first_seen_ever)) {
          out.push(
            finding(
              'stale_evaluation',
              tenant,
              alias,
              [row],
              `The latest "${category}" evaluation of "${alias}" (${latest.evaluated_at}, model ${row.model}) predates the switch to version ${row.version} first seen ${row.first_seen_ever} (tenant ${tenant}).`,
              {
                task_category: category,
                evaluation_id: latest.id,
                evaluated_at: latest.evaluated_at,
                version: row.version,
                version_first_seen: row.first_seen_ever,
              },
            ),
          );
        }
      }
    }
    const mix = mixShift(live, applicable);
    if (mix) {
      out.push(
        finding(
          'task_mix_shift',
          tenant,
          alias,
          live,
          `The task mix of "${alias}" (tenant ${tenant}) moved away from what was evaluated: ${mix.worst.category} is ${pct(mix.worst.live)} of live traffic against ${pct(mix.worst.evaluated)} evaluated.`,
          { live_mix: mix.live, evaluated_mix: mix.evaluated, largest_gap: mix.worst },
          'low',
        ),
      );
    }
  }
  return out;
}

function mixShift(live: ServedVersionRow[], evals: EvaluationRow[]) {
  const total = sum(live);
  if (total < MIX_MIN_REQUESTS) return null;
  // Per category, the evaluation that states a share: tenant-specific before global, then the latest.
  const evaluated: Record<string, number> = {};
  const ranked = evals
    .filter((e) => e.traffic_share !== null)
    .sort(
      (a, b) => Number(b.tenant_id !== null) - Number(a.tenant_id !== null) || t(b.evaluated_at) - t(a.evaluated_at),
    );
  for (const e of ranked) if (!(e.task_category in evaluated)) evaluated[e.task_category] = e.traffic_share!;
  if (Object.keys(evaluated).length === 0) return null;
  const liveMix: Record<string, number> = {};
  for (const r of live) liveMix[r.category] = (liveMix[r.category] ?? 0) + r.requests / total;
  let worst = { category: '', live: 0, evaluated: 0, gap: 0 };
  for (const category of [...new Set([...Object.keys(liveMix), ...Object.keys(evaluated)])].sort()) {
    const gap = Math.abs((liveMix[category] ?? 0) - (evaluated[category] ?? 0));
    if (gap > worst.gap) worst = { category, live: liveMix[category] ?? 0, evaluated: evaluated[category] ?? 0, gap };
  }
  return worst.gap >= MIX_SHIFT_THRESHOLD ? { live: liveMix, evaluated, worst } : null;
}

function sum(rows: ServedVersionRow[]): number {
  return rows.reduce((n, r) => n + r.requests, 0);
}

function finding(
  kind: string,
  tenant: string,
  alias: string,
  rows: ServedVersionRow[],
  summary: string,
  evidence: Record<string, unknown>,
  severity: Finding['severity'] = 'medium',
): Finding {
  const firsts = rows
    .map((r) => r.first_seen)
    .filter((x): x is string => x !== null)
    .sort();
  const lasts = rows
    .map((r) => r.last_seen)
    .filter((x): x is string => x !== null)
    .sort();
  return {
    type: 'evaluation_drift',
    kind,
    severity,
    tenant_id: tenant,
    alias,
    summary,
    requests: sum(rows),
    first_seen: firsts[0] ?? null,
    last_seen: lasts[lasts.length - 1] ?? null,
    evidence,
    sample_event_ids: rows.flatMap((r) => r.sample_event_ids).slice(0, 5),
  };
}
