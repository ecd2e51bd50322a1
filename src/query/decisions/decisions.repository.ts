import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../auth/principal.js';
import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import type { Keyset } from '../common/cursor.js';
import { isoMicros, scopeCondition, SqlParams } from '../common/sql.js';

export interface DecisionRow {
  event_id: string;
  occurred_key: string;
  tenant_id: string;
  gateway_id: string;
  request_id: string;
  trace_id: string | null;
  requested_model: string;
  resolved_model: string | null;
  provider: string | null;
  region_served: string | null;
  fallback_used: string | null;
  cache_status: string | null;
  outcome_status: string;
  signals: string[];
}

/** A row of the decision list: the summary and the record's attempt chain (for the chain at a glance). */
export interface DecisionListRow extends DecisionRow {
  attempts: CanonicalRecord['attempts'] | null;
}

export interface DecisionDetailRow extends DecisionRow {
  shard: number;
  leaf_index: string;
  received_key: string;
  record: CanonicalRecord;
}

export interface DecisionFilter {
  from?: Date;
  to?: Date;
  gateway?: string;
  requestedModel?: string;
  resolvedModel?: string;
  provider?: string;
  region?: string;
  fallbackUsed?: string;
  cacheStatus?: string;
  outcome?: string;
  signal?: string;
  /** Keyset of the last row of the previous page (newest first). */
  after?: Keyset;
}

/**
 * Up to this many named tenants, a page walks each tenant's records. Each walk reads up to a page,
 * so the cost grows with the tenants named (50 tenants × 51 rows: 31-129 ms at 5M records, against
 * 1-4 ms for one walk of the time index): a wider scope is a larger share of all records, which one
 * walk of every tenant's records by time reaches sooner.
 */
const PER_TENANT_WALKS_MAX = 10;

/**
 * Signals with a partial (tenant_id, occurred_at) index of their own (migration 1764340000000):
 * the finding signals, absent from most tenants, whose walk of a tenant's records would
 * otherwise read its whole history.
 */
const INDEXED_SIGNALS: readonly string[] = ['silent_substitution', 'residency_violation', 'policy_bypass'];

const SUMMARY = `r.event_id, ${isoMicros('r.occurred_at')} AS occurred_key, r.tenant_id, r.gateway_id, r.request_id, r.trace_id,
  r.requested_model, r.resolved_model, r.provider, r.region_served, r.fallback_used, r.cache_status, r.outcome_status, r.signals`;
const DETAIL = `${SUMMARY}, r.shard, r.leaf_index, ${isoMicros('r.received_at')} AS received_key, r.record`;

/** SQL of the decision history. Every statement carries the tenant scope. */
@Injectable()
export class DecisionsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Newest first; keyset pagination on (occurred_at, event_id).
   *
   * Every plan walks an index in keyset order and stops once the page is full; the filters
   * other than time are checked on the rows walked (no index per filter: each costs ingest; the
   * gateway, below, is the one exception).
   * All tenants, or more than PER_TENANT_WALKS_MAX named: one walk of (occurred_at, event_id).
   * Fewer named tenants: one walk of (tenant_id, occurred_at) per tenant, each stopping after a
   * page, then the newest page of those (a finding signal walks that signal's partial index
   * instead). A single `tenant_id = ANY(...)` cannot walk the tenant index in time order: it walks
   * every tenant's records in time order, or (when the planner expects few matches) scans records
   * sequentially.
   *
   * A gateway filter may walk (gateway_id, occurred_at) instead, the planner's choice when the
   * gateway is rare in the scope. Any other filter value a tenant has few or no records of still
   * walks that tenant's whole history (or the from/to window): only an index leading with that
   * filter would stop sooner.
   */
  async list(scope: TenantScope, f: DecisionFilter, limit: number): Promise<DecisionListRow[]> {
    const p = new SqlParams();
    const where: string[] = [];
    if (f.from) where.push(`r.occurred_at >= ${p.add(f.from)}`);
    if (f.to) where.push(`r.occurred_at < ${p.add(f.to)}`);
    const equal: Array<[string, string | undefined]> = [
      ['r.gateway_id', f.gateway],
      ['r.requested_model', f.requestedModel],
      ['r.resolved_model', f.resolvedModel],
      ['r.provider', f.provider],
      ['r.region_served', f.region],
      ['r.fallback_used', f.fallbackUsed],
      ['r.cache_status', f.cacheStatus],
      ['r.outcome_status', f.outcome],
    ];
    for (const [column, value] of equal) if (value !== undefined) where.push(`${column} = ${p.add(value)}`);
    if (f.after)
      where.push(
        `(r.occurred_at, r.event_id) < (${p.add(f.after.occurredAt)}::timestamptz, ${p.add(f.after.eventId)}::text)`,
      );
    const order = 'ORDER BY r.occurred_at DESC, r.event_id DESC';
    const select = `SELECT ${SUMMARY}, r.record::jsonb -> 'attempts' AS attempts`;
    if (scope.kind === 'all' || scope.tenants.length > PER_TENANT_WALKS_MAX) {
      if (f.signal) where.push(`r.signals @> ARRAY[${p.add(f.signal)}::text]`);
      return this.db.query(
        `${select} FROM records r WHERE ${[scopeCondition(scope, p), ...where].join(' AND ')} ${order} LIMIT ${p.add(limit)}`,
        p.values,
      );
    }
    if (f.signal) where.push(tenantSignalCondition(f.signal, p));
    // The tenant is a parameter of each walk, so the tenant index yields its rows in time order.
    // The page's columns are worked out (JSON parsed) for its rows only, not every tenant's.
    const tenants = p.add(scope.tenants);
    const page = p.add(limit);
    return this.db.query(
      `${select} FROM (
         SELECT r.* FROM (SELECT DISTINCT unnest(${tenants}::text[])) AS s(tenant_id)
         CROSS JOIN LATERAL (
           SELECT r.* FROM records r WHERE ${['r.tenant_id = s.tenant_id', ...where].join(' AND ')} ${order} LIMIT ${page}
         ) r
         ${order} LIMIT ${page}
       ) r ${order}`,
      p.values,
    );
  }

  async byEventId(scope: TenantScope, eventId: string): Promise<DecisionDetailRow | undefined> {
    const p = new SqlParams();
    const rows: StoredDetailRow[] = await this.db.query(
      `SELECT ${DETAIL} FROM records r WHERE r.event_id = ${p.add(eventId)} AND ${scopeCondition(scope, p)}`,
      p.values,
    );
    return rows.map(parsed)[0];
  }

  /** Every event of one request, oldest first (a request may span tenants only if ids collide; all stay in scope). */
  async byRequestId(scope: TenantScope, requestId: string): Promise<DecisionDetailRow[]> {
    const p = new SqlParams();
    const rows: StoredDetailRow[] = await this.db.query(
      `SELECT ${DETAIL} FROM records r WHERE r.request_id = ${p.add(requestId)} AND ${scopeCondition(scope, p)} ORDER BY r.occurred_at, r.event_id`,
      p.values,
    );
    return rows.map(parsed);
  }

  async byTraceId(scope: TenantScope, traceId: string): Promise<DecisionDetailRow[]> {
    const p = new SqlParams();
    const rows: StoredDetailRow[] = await this.db.query(
      `SELECT ${DETAIL} FROM records r WHERE r.trace_id = ${p.add(traceId)} AND ${scopeCondition(scope, p)} ORDER BY r.occurred_at, r.event_id`,
      p.values,
    );
    return rows.map(parsed);
  }
}

/**
 * The signal condition of a tenant's walk. An indexed signal is written as the literal of its
 * partial index's predicate: a parameter matches it only in a plan made for the parameter's value,
 * not in a generic plan of a prepared statement. The literal comes from INDEXED_SIGNALS, never
 * from the request.
 */
function tenantSignalCondition(signal: string, p: SqlParams): string {
  const indexed = INDEXED_SIGNALS.find((s) => s === signal);
  return indexed ? `r.signals @> ARRAY['${indexed}']::text[]` : `r.signals @> ARRAY[${p.add(signal)}::text]`;
}

/** A detail row as stored: the record is its canonical JSON text. */
type StoredDetailRow = Omit<DecisionDetailRow, 'record'> & { record: string };

function parsed(row: StoredDetailRow): DecisionDetailRow {
  return { ...row, record: JSON.parse(row.record) as CanonicalRecord };
}
