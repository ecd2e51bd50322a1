import { rowsParam } from './summary-param.js';
import { findingKeyText, FINDING_SAMPLES, type FindingRow } from '../domain/summary/finding-summary.js';

/**
 * SQL that adds finding summary rows (src/domain/summary/finding-summary.ts) into
 * finding_hours: one statement, the rows as one jsonb array, per shard and found by the
 * SHA-256 of the key text, like traffic_minutes (summary-sql.ts says why). Rows must have
 * distinct keys (summarizeFindingFacts gives that).
 *
 * Every merge is exact and order-independent: counts add, first/last take the smaller/larger
 * (occurred_at, event_id), samples keep the FINDING_SAMPLES smallest sample keys in byte order.
 */
/**
 * The predicate of flagged rows (those a signal finding reads), as the partial index
 * finding_hours_flagged states it: a query must carry this very text for the index to serve it.
 */
export const FLAGGED_ROWS = `signals && ARRAY['silent_substitution', 'residency_violation', 'policy_bypass']::text[]`;

const KEY =
  'hour, tenant_id, gateway_id, gateway_kind, requested_model, provider, resolved_model, version, fallback_used, load_balanced, signals, first_provider, first_model, notice, region_served, region_required, bypassed_checks';
const VALUES = 'requests, first_at, first_event_id, last_at, last_event_id, samples';
const RECORDSET = `key_sha256 text, hour timestamptz, tenant_id text, gateway_id text, gateway_kind text, requested_model text, provider text,
  resolved_model text, version text, fallback_used text, load_balanced boolean, signals text[], first_provider text, first_model text, notice text,
  region_served text, region_required jsonb, bypassed_checks jsonb, requests bigint, first_at timestamptz, first_event_id text,
  last_at timestamptz, last_event_id text, samples text[]`;

/** The upsert of one shard's rows: `shard` and `rows` name its parameters (e.g. "$1", "$27"). */
export function upsertFindingSummariesSql(shard: string, rows: string): string {
  const earlier = '(EXCLUDED.first_at, EXCLUDED.first_event_id) < (t.first_at, t.first_event_id)';
  const later = '(EXCLUDED.last_at, EXCLUDED.last_event_id) > (t.last_at, t.last_event_id)';
  return `INSERT INTO finding_hours AS t (shard, key_sha256, ${KEY}, ${VALUES})
    SELECT ${shard}::integer, decode(key_sha256, 'hex'), ${KEY}, ${VALUES} FROM jsonb_to_recordset(${rows}::jsonb) AS s(${RECORDSET})
    ON CONFLICT (shard, key_sha256) DO UPDATE SET
      requests = t.requests + EXCLUDED.requests,
      first_at = CASE WHEN ${earlier} THEN EXCLUDED.first_at ELSE t.first_at END,
      first_event_id = CASE WHEN ${earlier} THEN EXCLUDED.first_event_id ELSE t.first_event_id END,
      last_at = CASE WHEN ${later} THEN EXCLUDED.last_at ELSE t.last_at END,
      last_event_id = CASE WHEN ${later} THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
      samples = CASE WHEN cardinality(EXCLUDED.samples) = 0 THEN t.samples
        ELSE ARRAY(SELECT x FROM unnest(t.samples || EXCLUDED.samples) AS x ORDER BY x COLLATE "C" LIMIT ${FINDING_SAMPLES}) END`;
}

/** The rows as the upsert's jsonb parameter. */
export function findingRowsParam(rows: FindingRow[]): string {
  return rowsParam(rows, findingKeyText);
}

const iso = (c: string, f: string) => `to_char(${c} AT TIME ZONE 'UTC', '${f}')`;

/** Every column of finding_hours, as findingRowFromRow reads them. */
export const FINDING_SELECT = `${iso('hour', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')} AS hour, ${KEY.replace('hour, ', '')}, requests,
  ${iso('first_at', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')} AS first_at, first_event_id,
  ${iso('last_at', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')} AS last_at, last_event_id, samples`;

export function findingRowFromRow(r: Record<string, unknown>): FindingRow {
  return { ...(r as unknown as FindingRow), requests: Number(r.requests) };
}
