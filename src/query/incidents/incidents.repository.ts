import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../auth/principal.js';
import { isoMicros, scopeCondition, SqlParams } from '../common/sql.js';

export interface IncidentFilter {
  scope: TenantScope;
  provider?: string;
  model?: string;
  region?: string;
  gateway?: string;
}

export interface PeriodStatsRow {
  period: 'window' | 'baseline';
  requests: string;
  affected: string;
  fallbacks: string;
  errors: string;
  latency_avg_ms: string | null;
  latency_p50_ms: string | null;
  latency_p95_ms: string | null;
}

export interface CostRow {
  currency: string;
  window_requests: string;
  window_total: string | null;
  window_per_request: string | null;
  baseline_requests: string;
  baseline_total: string | null;
  baseline_per_request: string | null;
  delta_per_request: string | null;
}

export interface GroupRow {
  tenant_id: string;
  requested_model: string;
  served_provider: string | null;
  served_model: string | null;
  requests: string;
  affected: string;
  fallbacks: string;
  errors: string;
}

export interface ChainRow {
  steps: Array<{ provider: string | null; model: string | null; region: string | null; status: string | null; error_class: string | null }>;
  requests: string;
  tenants: string[];
  example_event_id: string;
}

export interface ErrorClassRow {
  source: 'attempt' | 'outcome';
  provider: string | null;
  error_class: string;
  count: string;
}

export interface MinuteRow {
  minute: string;
  requests: string;
  affected: string;
  fallbacks: string;
  errors: string;
  latency_avg_ms: string | null;
}

export interface AffectedRow {
  event_id: string;
  occurred_key: string;
  tenant_id: string;
  request_id: string;
  requested_model: string;
  provider: string | null;
  resolved_model: string | null;
  outcome_status: string;
  signals: string[];
}

/**
 * A request was hurt by the incident if it needed a fallback or a retry, ended in anything
 * but success, or any of its attempts failed (a failed attempt costs latency even when a
 * later one answers).
 */
const AFFECTED = `(r.fallback_used = 'true' OR r.outcome_status <> 'success'
  OR COALESCE((r.record->>'retries')::int, 0) > 0
  OR jsonb_path_exists(r.record, '$.attempts.items[*] ? (@.status == "error" || @.status == "timeout")'))`;
const FAILED_OUTCOME = `r.outcome_status <> 'success'`;
const LATENCY = `(r.record->'latency'->>'total_ms')::numeric`;

/**
 * SQL of incident reconstruction. Every statement selects the window through the time
 * indexes ((tenant_id, occurred_at) or (occurred_at, event_id)) and then filters on what
 * the record says about provider, model and region, including the attempt chain: in an
 * outage the failing provider appears only in attempts, not as the one that served.
 */
@Injectable()
export class IncidentsRepository {
  constructor(private readonly db: DataSource) {}

  async periodStats(f: IncidentFilter, window: Period, baseline: Period): Promise<PeriodStatsRow[]> {
    const p = new SqlParams();
    const w = [p.add(window.from), p.add(window.to)];
    const b = [p.add(baseline.from), p.add(baseline.to)];
    const where = this.where(f, p);
    return this.db.query(
      `SELECT CASE WHEN r.occurred_at >= ${w[0]} THEN 'window' ELSE 'baseline' END AS period,
              count(*) AS requests, count(*) FILTER (WHERE ${AFFECTED}) AS affected,
              count(*) FILTER (WHERE r.fallback_used = 'true') AS fallbacks, count(*) FILTER (WHERE ${FAILED_OUTCOME}) AS errors,
              round(avg(${LATENCY}), 1) AS latency_avg_ms,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ${LATENCY}) AS latency_p50_ms,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY ${LATENCY}) AS latency_p95_ms
       FROM records_json r
       WHERE r.occurred_at >= ${b[0]} AND r.occurred_at < ${w[1]} AND (r.occurred_at >= ${w[0]} OR r.occurred_at < ${b[1]}) AND ${where}
       GROUP BY 1`,
      p.values,
    );
  }

  /** Cost per currency in the window and the baseline; amounts stay exact decimals (text). */
  async costs(f: IncidentFilter, window: Period, baseline: Period): Promise<CostRow[]> {
    const p = new SqlParams();
    const w = [p.add(window.from), p.add(window.to)];
    const b = [p.add(baseline.from), p.add(baseline.to)];
    const where = this.where(f, p);
    return this.db.query(
      `WITH c AS (
         SELECT r.occurred_at >= ${w[0]} AS in_window, r.record->'cost'->>'currency' AS currency, (r.record->'cost'->>'amount')::numeric AS amount
         FROM records_json r
         WHERE r.occurred_at >= ${b[0]} AND r.occurred_at < ${w[1]} AND (r.occurred_at >= ${w[0]} OR r.occurred_at < ${b[1]})
           AND r.record ? 'cost' AND ${where}
       ), agg AS (
         SELECT currency,
                count(*) FILTER (WHERE in_window) AS wn, sum(amount) FILTER (WHERE in_window) AS wt,
                count(*) FILTER (WHERE NOT in_window) AS bn, sum(amount) FILTER (WHERE NOT in_window) AS bt
         FROM c GROUP BY currency
       )
       SELECT currency, wn AS window_requests, wt::text AS window_total, round(wt / NULLIF(wn, 0), 8)::text AS window_per_request,
              bn AS baseline_requests, bt::text AS baseline_total, round(bt / NULLIF(bn, 0), 8)::text AS baseline_per_request,
              round(wt / NULLIF(wn, 0) - bt / NULLIF(bn, 0), 8)::text AS delta_per_request
       FROM agg ORDER BY currency`,
      p.values,
    );
  }

  async groups(f: IncidentFilter, window: Period): Promise<GroupRow[]> {
    const p = new SqlParams();
    const where = this.windowWhere(f, window, p);
    return this.db.query(
      `SELECT r.tenant_id, r.requested_model, r.provider AS served_provider, r.resolved_model AS served_model,
              count(*) AS requests, count(*) FILTER (WHERE ${AFFECTED}) AS affected,
              count(*) FILTER (WHERE r.fallback_used = 'true') AS fallbacks, count(*) FILTER (WHERE ${FAILED_OUTCOME}) AS errors
       FROM records_json r WHERE ${where}
       GROUP BY 1, 2, 3, 4
       HAVING count(*) FILTER (WHERE ${AFFECTED}) > 0
       ORDER BY affected DESC, 1, 2, 3, 4`,
      p.values,
    );
  }

  /** Distinct attempt chains of multi-attempt requests, most frequent first. */
  async chains(f: IncidentFilter, window: Period, limit: number): Promise<ChainRow[]> {
    const p = new SqlParams();
    const where = this.windowWhere(f, window, p);
    return this.db.query(
      `WITH c AS (
         SELECT r.event_id, r.tenant_id, r.occurred_at,
                (SELECT jsonb_agg(jsonb_build_object('provider', a->>'provider', 'model', a->>'model', 'region', a->>'region',
                                                     'status', a->>'status', 'error_class', a->>'error_class') ORDER BY ord)
                 FROM jsonb_array_elements(r.record->'attempts'->'items') WITH ORDINALITY AS t(a, ord)) AS steps
         FROM records_json r
         WHERE ${where} AND jsonb_typeof(r.record->'attempts'->'items') = 'array' AND jsonb_array_length(r.record->'attempts'->'items') > 1
       )
       SELECT steps, count(*) AS requests, array_agg(DISTINCT tenant_id ORDER BY tenant_id) AS tenants,
              (array_agg(event_id ORDER BY occurred_at, event_id))[1] AS example_event_id
       FROM c GROUP BY steps ORDER BY requests DESC, example_event_id LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  /** Failed attempts and failed outcomes by class, in one pass over the window. */
  async errorClasses(f: IncidentFilter, window: Period): Promise<ErrorClassRow[]> {
    const p = new SqlParams();
    const where = this.windowWhere(f, window, p);
    return this.db.query(
      `SELECT e.source, e.provider, e.error_class, count(*) AS count
       FROM records_json r CROSS JOIN LATERAL (
         SELECT 'attempt' AS source, a->>'provider' AS provider, COALESCE(a->>'error_class', 'unclassified') AS error_class
         FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.record->'attempts'->'items') = 'array' THEN r.record->'attempts'->'items' ELSE '[]'::jsonb END) AS a
         WHERE a->>'status' IN ('error', 'timeout')
         UNION ALL
         SELECT 'outcome', r.provider, COALESCE(r.record->'outcome'->>'error_class', r.outcome_status) WHERE ${FAILED_OUTCOME}
       ) AS e
       WHERE ${where}
       GROUP BY 1, 2, 3
       ORDER BY count DESC, source, error_class`,
      p.values,
    );
  }

  async timeline(f: IncidentFilter, window: Period): Promise<MinuteRow[]> {
    const p = new SqlParams();
    const where = this.windowWhere(f, window, p);
    return this.db.query(
      `SELECT ${isoMicros("date_bin('1 minute', r.occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')")} AS minute,
              count(*) AS requests, count(*) FILTER (WHERE ${AFFECTED}) AS affected,
              count(*) FILTER (WHERE r.fallback_used = 'true') AS fallbacks, count(*) FILTER (WHERE ${FAILED_OUTCOME}) AS errors,
              round(avg(${LATENCY}), 1) AS latency_avg_ms
       FROM records_json r WHERE ${where} GROUP BY 1 ORDER BY 1`,
      p.values,
    );
  }

  async affected(f: IncidentFilter, window: Period, limit: number): Promise<AffectedRow[]> {
    const p = new SqlParams();
    const where = this.windowWhere(f, window, p);
    return this.db.query(
      `SELECT r.event_id, ${isoMicros('r.occurred_at')} AS occurred_key, r.tenant_id, r.request_id, r.requested_model, r.provider, r.resolved_model, r.outcome_status, r.signals
       FROM records_json r WHERE ${where} AND ${AFFECTED}
       ORDER BY r.occurred_at, r.event_id LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  private windowWhere(f: IncidentFilter, w: Period, p: SqlParams): string {
    return `r.occurred_at >= ${p.add(w.from)} AND r.occurred_at < ${p.add(w.to)} AND ${this.where(f, p)}`;
  }

  private where(f: IncidentFilter, p: SqlParams): string {
    const out = [scopeCondition(f.scope, p)];
    const items = `r.record->'attempts'->'items'`;
    if (f.provider) {
      const v = p.add(f.provider);
      out.push(`(r.provider = ${v} OR ${items} @> jsonb_build_array(jsonb_build_object('provider', ${v}::text)))`);
    }
    if (f.model) {
      const v = p.add(f.model);
      out.push(`(r.requested_model = ${v} OR r.resolved_model = ${v} OR ${items} @> jsonb_build_array(jsonb_build_object('model', ${v}::text)))`);
    }
    if (f.region) {
      const v = p.add(f.region);
      out.push(`(r.region_served = ${v} OR ${items} @> jsonb_build_array(jsonb_build_object('region', ${v}::text)))`);
    }
    if (f.gateway) out.push(`r.gateway_id = ${p.add(f.gateway)}`);
    return out.join(' AND ');
  }
}

export interface Period {
  from: Date;
  to: Date;
}
