import { Inject, Injectable } from '@nestjs/common';
import { queryScope, type Principal } from '../../auth/principal.js';
import { links } from '../decisions/present.js';
import { QUERY_CLOCK, type Clock } from '../common/clock.js';
import { resolveWindow } from '../common/time-window.js';
import { DEFAULT_AFFECTED_LIMIT, type ReconstructIncidentDto } from './incidents.dto.js';
import { IncidentsRepository, type IncidentFilter, type Period } from './incidents.repository.js';
import type { SummaryRow } from '../../domain/summary/traffic-summary.js';
import {
  affectedByTarget,
  costs,
  errorClasses,
  fallbackChains,
  minutesToList,
  periodTotals,
  rowsInvolving,
  timeline,
  type PeriodTotals,
} from '../../domain/summary/incident-rollup.js';

/** Longest incident window: the per-minute timeline stays at most 1,440 points. */
export const MAX_INCIDENT_WINDOW_MS = 24 * 3_600_000;
/** Deltas compare the window against this much time just before it. */
export const BASELINE_MS = 3_600_000;
export const MAX_CHAINS = 50;

/**
 * Reconstructs what an incident window did to traffic: who was hit (tenant × alias × served
 * target), through which fallback chains, with which errors, at what cost and latency
 * against the hour before, minute by minute. Counts come from the per-minute summaries the
 * append maintains (src/domain/summary/), so the cost grows with the minutes in the window,
 * not the records; the same request gives the same answer as long as no late events arrive
 * for the window.
 */
@Injectable()
export class IncidentsService {
  constructor(
    private readonly repo: IncidentsRepository,
    @Inject(QUERY_CLOCK) private readonly clock: Clock,
  ) {}

  async reconstruct(q: ReconstructIncidentDto, caller: Principal) {
    const asked = resolveWindow(
      { from: q.from, to: q.to },
      { now: this.clock(), defaultMs: MAX_INCIDENT_WINDOW_MS, maxMs: MAX_INCIDENT_WINDOW_MS },
    );
    // Summaries are per minute, so the window is read in whole minutes: `from` rounded down, `to`
    // up. Reading the records of partial edge minutes instead made the cost grow with the
    // traffic of a minute (seconds at a few thousand events/s); the answer says what was read.
    const window = {
      from: new Date(Math.floor(asked.from.getTime() / MINUTE) * MINUTE),
      to: new Date(Math.ceil(asked.to.getTime() / MINUTE) * MINUTE),
    };
    const baseline = { from: new Date(window.from.getTime() - BASELINE_MS), to: window.from };
    const f: IncidentFilter = {
      scope: queryScope(caller.scope, q.tenant),
      provider: q.provider,
      model: q.model,
      region: q.region,
      gateway: q.gateway,
    };
    const [windowRows, baselineRows] = await Promise.all([this.rowsOf(f, window), this.rowsOf(f, baseline)]);
    const wr = rowsInvolving(windowRows, f);
    const br = rowsInvolving(baselineRows, f);
    const w = periodTotals(wr);
    const b = periodTotals(br);
    const limit = q.affected_limit ?? DEFAULT_AFFECTED_LIMIT;
    const affected = await this.affectedRequests(f, window, wr, limit);
    const groups = affectedByTarget(wr);
    return {
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      requested_window: { from: asked.from.toISOString(), to: asked.to.toISOString() },
      baseline: { from: baseline.from.toISOString(), to: baseline.to.toISOString() },
      filters: {
        provider: q.provider ?? null,
        model: q.model ?? null,
        region: q.region ?? null,
        gateway: q.gateway ?? null,
        tenant: q.tenant ?? null,
      },
      summary: {
        requests: w.requests,
        affected_requests: w.affected,
        fallbacks: w.fallbacks,
        failed_requests: w.errors,
        affected_tenants: [...new Set(groups.map((g) => g.tenant_id))].sort(),
      },
      affected_by_target: groups.map((g) => ({
        tenant_id: g.tenant_id,
        requested_alias: g.requested_model,
        served: { provider: g.provider, model: g.resolved_model },
        requests: g.requests,
        affected: g.affected,
        fallbacks: g.fallbacks,
        failed: g.errors,
      })),
      fallback_chains: fallbackChains(wr, MAX_CHAINS),
      error_classes: errorClasses(wr),
      deltas: {
        latency_ms: {
          window: latencyOf(w),
          baseline: latencyOf(b),
          delta: {
            avg: diff(w.latencyAvg, b.latencyAvg),
            p50: diff(w.p50?.value ?? null, b.p50?.value ?? null),
            p95: diff(w.p95?.value ?? null, b.p95?.value ?? null),
          },
          percentiles: PERCENTILE_NOTE,
        },
        requests: { window: w.requests, baseline: b.requests },
        affected_rate: { window: rate(w.affected, w.requests), baseline: rate(b.affected, b.requests) },
        // Per currency, exact decimals as strings (never floats), like the record's cost.
        cost: costs(wr, br),
      },
      timeline: timeline(wr).map((m) => ({
        minute: m.minute,
        requests: m.requests,
        affected: m.affected,
        fallbacks: m.fallbacks,
        failed: m.errors,
        latency_avg_ms: m.latency_avg_ms,
      })),
      affected_requests: affected.map((a) => ({
        event_id: a.event_id,
        occurred_at: a.occurred_key,
        tenant_id: a.tenant_id,
        request_id: a.request_id,
        requested_model: a.requested_model,
        served: { provider: a.provider, model: a.resolved_model },
        outcome_status: a.outcome_status,
        signals: a.signals,
        links: { ...links(a.event_id), request: `/v1/requests/${encodeURIComponent(a.request_id)}` },
      })),
      affected_requests_truncated: affected.length < w.affected,
    };
  }

  /** Summary rows of a period of whole minutes. */
  private rowsOf(f: IncidentFilter, period: Period): Promise<SummaryRow[]> {
    return this.repo.summaryRows(f, period);
  }

  /** The first affected requests, read only from the minutes the summaries say hold them. */
  private async affectedRequests(f: IncidentFilter, window: Period, rows: SummaryRow[], limit: number) {
    const minutes = minutesToList(rows, limit);
    if (minutes.length === 0 || limit === 0) return [];
    const from = new Date(Math.max(window.from.getTime(), Date.parse(minutes[0])));
    const to = new Date(Math.min(window.to.getTime(), Date.parse(minutes[minutes.length - 1]) + MINUTE));
    return this.repo.affected(f, { from, to }, limit);
  }
}

const MINUTE = 60_000;

const PERCENTILE_NOTE =
  'p50 and p95 are read from fixed latency buckets (interpolated inside the bucket); the true value lies in the bucket given beside each';

function latencyOf(t: PeriodTotals) {
  return {
    avg: t.latencyAvg,
    p50: t.p50?.value ?? null,
    p95: t.p95?.value ?? null,
    p50_bucket_ms: t.p50?.bucket ?? null,
    p95_bucket_ms: t.p95?.bucket ?? null,
  };
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.round((a - b) * 10) / 10;
}

function rate(n: number, d: number): number | null {
  return d === 0 ? null : Math.round((n / d) * 10_000) / 10_000;
}
