import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isoMicros, SqlParams } from '../query/common/sql.js';
import type { TenantScope } from '../auth/principal.js';
import { scopeCondition } from '../query/common/sql.js';

/** One policy version of one tenant, clipped to the window: decisions in [from, to) are judged by it. */
export interface VersionSpan {
  tenant_id: string;
  version: number;
  from: Date;
  to: Date;
}

/** Decisions grouped by everything a policy rule reads of them (conformance.ts DecisionFacts). */
export interface FactsRow {
  tenant_id: string;
  policy_version: number;
  alias: string;
  category: string | null;
  provider: string | null;
  model: string | null;
  version: string | null;
  region_served: string | null;
  region_required: string[] | null;
  fallback_used: string | null;
  cache_status: string | null;
  checks: Array<{ name: string; result: string; required?: boolean }>;
  objective: string | null;
  notice: string | null;
  requests: number;
  first_seen: string;
  last_seen: string;
  sample_event_ids: string[];
}

export interface MinuteRow {
  tenant_id: string;
  policy_version: number;
  alias: string;
  minute: string;
  requests: number;
  fallbacks: number;
}

const SAMPLES = 5;
const CHECKS = `CASE WHEN jsonb_typeof(r.record->'policy_checks') = 'array' THEN r.record->'policy_checks' ELSE '[]'::jsonb END`;

/**
 * SQL of conformance. Each version span is one range of the (tenant_id, occurred_at) index: the
 * spans are joined as an unnest, so the planner walks the index once per span (a nested loop)
 * instead of reading the window's records of every tenant. Rows come back grouped by what the
 * rules read, so the answer grows with distinct routes, not with records.
 */
@Injectable()
export class ConformanceRepository {
  constructor(private readonly db: DataSource) {}

  async facts(spans: VersionSpan[], alias?: string): Promise<FactsRow[]> {
    if (spans.length === 0) return [];
    const p = new SqlParams();
    const pv = this.spans(spans, p);
    const aliasCond = alias === undefined ? '' : `AND r.requested_model = ${p.add(alias)}`;
    return this.db.query(
      `SELECT pv.tenant_id, pv.version AS policy_version, r.requested_model AS alias, r.record->'task'->>'category' AS category,
              r.provider, r.resolved_model AS model,
              COALESCE(r.record->'model_version'->>'version', r.record->'model_version'->>'deployment_id') AS version,
              r.region_served, r.record->'region'->'required' AS region_required, r.fallback_used, r.cache_status,
              (SELECT COALESCE(jsonb_agg(jsonb_build_object('name', c->>'name', 'result', c->>'result', 'required', c->'required')
                                         ORDER BY c->>'name', c->>'result'), '[]'::jsonb)
               FROM jsonb_array_elements(${CHECKS}) AS c) AS checks,
              r.record->'routing'->>'objective' AS objective, r.record->'disclosure'->>'model_substituted_notice' AS notice,
              count(*)::int AS requests, ${isoMicros('min(r.occurred_at)')} AS first_seen, ${isoMicros('max(r.occurred_at)')} AS last_seen,
              (array_agg(r.event_id ORDER BY r.occurred_at, r.event_id))[1:${SAMPLES}] AS sample_event_ids
       FROM ${pv}
       JOIN records_json r ON r.tenant_id = pv.tenant_id AND r.occurred_at >= pv.span_from AND r.occurred_at < pv.span_to
       WHERE TRUE ${aliasCond}
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14`,
      p.values,
    );
  }

  /** Requests and fallbacks per minute and alias from the per-minute summaries, for fallback-share windows. */
  async minutes(spans: VersionSpan[], alias?: string): Promise<MinuteRow[]> {
    if (spans.length === 0) return [];
    const p = new SqlParams();
    const pv = this.spans(spans, p);
    const aliasCond = alias === undefined ? '' : `AND t.requested_model = ${p.add(alias)}`;
    const rows: Array<Omit<MinuteRow, 'requests' | 'fallbacks'> & { requests: string; fallbacks: string }> =
      await this.db.query(
        `SELECT pv.tenant_id, pv.version AS policy_version, t.requested_model AS alias, ${isoMicros('t.minute')} AS minute,
                sum(t.requests)::text AS requests, sum(t.fallbacks)::text AS fallbacks
         FROM ${pv}
         JOIN traffic_minutes t ON t.tenant_id = pv.tenant_id AND t.minute >= date_trunc('minute', pv.span_from) AND t.minute < pv.span_to
         WHERE TRUE ${aliasCond}
         GROUP BY 1, 2, 3, t.minute ORDER BY 1, 3, t.minute`,
        p.values,
      );
    return rows.map((r) => ({ ...r, requests: Number(r.requests), fallbacks: Number(r.fallbacks) }));
  }

  /** Requests per tenant and alias of tenants with no policy in force, from the per-minute summaries. */
  async unpoliced(scope: TenantScope, from: Date, to: Date, policed: string[], alias?: string) {
    const p = new SqlParams();
    const where = [
      `t.minute >= date_trunc('minute', ${p.add(from)}::timestamptz)`,
      `t.minute < ${p.add(to)}`,
      scopeCondition(scope, p, 't.tenant_id'),
      `NOT (t.tenant_id = ANY(${p.add(policed)}::text[]))`,
    ];
    if (alias !== undefined) where.push(`t.requested_model = ${p.add(alias)}`);
    const rows: Array<{ tenant_id: string; alias: string; requests: string }> = await this.db.query(
      `SELECT t.tenant_id, t.requested_model AS alias, sum(t.requests)::text AS requests
       FROM traffic_minutes t WHERE ${where.join(' AND ')} GROUP BY 1, 2`,
      p.values,
    );
    return rows.map((r) => ({ ...r, requests: Number(r.requests) }));
  }

  private spans(spans: VersionSpan[], p: SqlParams): string {
    return `unnest(${p.add(spans.map((s) => s.tenant_id))}::text[], ${p.add(spans.map((s) => s.version))}::int[],
                   ${p.add(spans.map((s) => s.from))}::timestamptz[], ${p.add(spans.map((s) => s.to))}::timestamptz[])
            AS pv(tenant_id, version, span_from, span_to)`;
  }
}
