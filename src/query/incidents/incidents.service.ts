import { Inject, Injectable } from '@nestjs/common';
import { queryScope, type Principal } from '../../auth/principal.js';
import { links } from '../decisions/present.js';
import { QUERY_CLOCK, type Clock } from '../common/clock.js';
import { resolveWindow } from '../common/time-window.js';
import { DEFAULT_AFFECTED_LIMIT, type ReconstructIncidentDto } from './incidents.dto.js';
import { IncidentsRepository, type IncidentFilter, type PeriodStatsRow } from './incidents.repository.js';

/** Longest incident window: the per-minute timeline stays at most 1,440 points. */
export const MAX_INCIDENT_WINDOW_MS = 24 * 3_600_000;
/** Deltas compare the window against this much time just before it. */
export const BASELINE_MS = 3_600_000;
export const MAX_CHAINS = 50;

const num = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Number(v));

/**
 * Reconstructs what an incident window did to traffic: who was hit (tenant × alias × served
 * target), through which fallback chains, with which errors, at what cost and latency
 * against the hour before, minute by minute. Read-only over records; the same request gives
 * the same answer as long as no late events arrive for the window.
 */
@Injectable()
export class IncidentsService {
  constructor(
    private readonly repo: IncidentsRepository,
    @Inject(QUERY_CLOCK) private readonly clock: Clock,
  ) {}

  async reconstruct(q: ReconstructIncidentDto, caller: Principal) {
    const window = resolveWindow({ from: q.from, to: q.to }, { now: this.clock(), defaultMs: MAX_INCIDENT_WINDOW_MS, maxMs: MAX_INCIDENT_WINDOW_MS });
    const baseline = { from: new Date(window.from.getTime() - BASELINE_MS), to: window.from };
    const f: IncidentFilter = { scope: queryScope(caller.scope, q.tenant), provider: q.provider, model: q.model, region: q.region, gateway: q.gateway };
    const [stats, costs, groups, chains, errors, minutes, affected] = await Promise.all([
      this.repo.periodStats(f, window, baseline),
      this.repo.costs(f, window, baseline),
      this.repo.groups(f, window),
      this.repo.chains(f, window, MAX_CHAINS),
      this.repo.errorClasses(f, window),
      this.repo.timeline(f, window),
      this.repo.affected(f, window, q.affected_limit ?? DEFAULT_AFFECTED_LIMIT),
    ]);
    const w = periodOf(stats, 'window');
    const b = periodOf(stats, 'baseline');
    return {
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      baseline: { from: baseline.from.toISOString(), to: baseline.to.toISOString() },
      filters: { provider: q.provider ?? null, model: q.model ?? null, region: q.region ?? null, gateway: q.gateway ?? null, tenant: q.tenant ?? null },
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
        served: { provider: g.served_provider, model: g.served_model },
        requests: Number(g.requests),
        affected: Number(g.affected),
        fallbacks: Number(g.fallbacks),
        failed: Number(g.errors),
      })),
      fallback_chains: chains.map((c) => ({ steps: c.steps, requests: Number(c.requests), tenants: c.tenants, example_event_id: c.example_event_id })),
      error_classes: errors.map((e) => ({ source: e.source, provider: e.provider, error_class: e.error_class, count: Number(e.count) })),
      deltas: {
        latency_ms: {
          window: { avg: w.latencyAvg, p50: w.latencyP50, p95: w.latencyP95 },
          baseline: { avg: b.latencyAvg, p50: b.latencyP50, p95: b.latencyP95 },
          delta: { avg: diff(w.latencyAvg, b.latencyAvg), p50: diff(w.latencyP50, b.latencyP50), p95: diff(w.latencyP95, b.latencyP95) },
        },
        requests: { window: w.requests, baseline: b.requests },
        affected_rate: { window: rate(w.affected, w.requests), baseline: rate(b.affected, b.requests) },
        // Per currency, exact decimals as strings (never floats), like the record's cost.
        cost: costs.map((c) => ({
          currency: c.currency,
          window: { requests: Number(c.window_requests), total: c.window_total, per_request: c.window_per_request },
          baseline: { requests: Number(c.baseline_requests), total: c.baseline_total, per_request: c.baseline_per_request },
          delta_per_request: c.delta_per_request,
        })),
      },
      timeline: minutes.map((m) => ({
        minute: m.minute, requests: Number(m.requests), affected: Number(m.affected), fallbacks: Number(m.fallbacks), failed: Number(m.errors), latency_avg_ms: num(m.latency_avg_ms),
      })),
      affected_requests: affected.map((a) => ({
        event_id: a.event_id, occurred_at: a.occurred_key, tenant_id: a.tenant_id, request_id: a.request_id, requested_model: a.requested_model,
        served: { provider: a.provider, model: a.resolved_model }, outcome_status: a.outcome_status, signals: a.signals,
        links: { ...links(a.event_id), request: `/v1/requests/${encodeURIComponent(a.request_id)}` },
      })),
      affected_requests_truncated: affected.length < w.affected,
    };
  }
}

function periodOf(rows: PeriodStatsRow[], period: 'window' | 'baseline') {
  const r = rows.find((x) => x.period === period);
  return {
    requests: Number(r?.requests ?? 0), affected: Number(r?.affected ?? 0), fallbacks: Number(r?.fallbacks ?? 0), errors: Number(r?.errors ?? 0),
    latencyAvg: num(r?.latency_avg_ms), latencyP50: num(r?.latency_p50_ms), latencyP95: num(r?.latency_p95_ms),
  };
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.round((a - b) * 10) / 10;
}

function rate(n: number, d: number): number | null {
  return d === 0 ? null : Math.round((n / d) * 10_000) / 10_000;
}
