import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../auth/principal.js';
import { isoMicros, scopeCondition, SqlParams } from '../common/sql.js';
import type { SummaryRow } from '../../domain/summary/traffic-summary.js';
import { summaryFromRow, summaryRowsAcrossShardsSql } from '../../ledger/summary-sql.js';

export interface IncidentFilter {
  scope: TenantScope;
  provider?: string;
  model?: string;
  region?: string;
  gateway?: string;
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
 * later one answers). The same rule as isAffected (src/domain/summary/traffic-summary.ts).
 */
const AFFECTED = `(r.fallback_used = 'true' OR r.outcome_status <> 'success'
  OR COALESCE((r.record->>'retries')::int, 0) > 0
  OR jsonb_path_exists(r.record, '$.attempts.items[*] ? (@.status == "error" || @.status == "timeout")'))`;

/**
 * Reads of incident reconstruction: summary rows of whole minutes (traffic_minutes) and the
 * affected requests themselves. The list
 * filters on what the record says about provider, model and region, including the attempt
 * chain: in an outage the failing provider appears only in attempts, not as the one that served.
 */
@Injectable()
export class IncidentsRepository {
  constructor(private readonly db: DataSource) {}

  /** Stored summary rows of the whole minutes in [from, to) (both minute-aligned), shards added together. */
  async summaryRows(f: IncidentFilter, period: Period): Promise<SummaryRow[]> {
    const p = new SqlParams();
    const where = [
      `t.minute >= ${p.add(period.from)}`,
      `t.minute < ${p.add(period.to)}`,
      scopeCondition(f.scope, p, 't.tenant_id'),
    ];
    if (f.gateway) where.push(`t.gateway_id = ${p.add(f.gateway)}`);
    // Only rows that may involve the provider, model or region: the rows `involves` keeps
    // (src/domain/summary/incident-rollup.ts) and no others, so fewer rows cross the wire; the
    // service still applies `involves` itself.
    const inChain = (member: string, value: string) =>
      `t.chain @> jsonb_build_array(jsonb_build_object('${member}', ${p.add(value)}::text))`;
    if (f.provider) where.push(`(t.provider = ${p.add(f.provider)} OR ${inChain('provider', f.provider)})`);
    if (f.model) {
      const m = p.add(f.model);
      where.push(`(t.requested_model = ${m} OR t.resolved_model = ${m} OR ${inChain('model', f.model)})`);
    }
    if (f.region) where.push(`(t.region_served = ${p.add(f.region)} OR ${inChain('region', f.region)})`);
    const rows: Array<Record<string, unknown>> = await this.db.query(
      summaryRowsAcrossShardsSql(where.join(' AND ')),
      p.values,
    );
    return rows.map(summaryFromRow);
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
      out.push(
        `(r.requested_model = ${v} OR r.resolved_model = ${v} OR ${items} @> jsonb_build_array(jsonb_build_object('model', ${v}::text)))`,
      );
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
