import { rowsParam } from './summary-param.js';
import { costKeyText, type CostRow } from '../domain/summary/cost-summary.js';
import { FINDING_SAMPLES } from '../domain/summary/finding-summary.js';

/**
 * SQL that adds cost summary rows (src/domain/summary/cost-summary.ts) into cost_hours, as
 * finding-summary-sql.ts does for finding_hours: one statement, the rows as one jsonb array,
 * per shard and found by the SHA-256 of the key text. Rows must have distinct keys
 * (summarizeCostFacts gives that).
 *
 * Every merge is exact and order-independent: counts and numeric sums add (a null sum is
 * "none"), first/last take the smaller/larger (occurred_at, event_id), samples keep the
 * FINDING_SAMPLES smallest sample keys in byte order.
 */
const KEY =
  'hour, tenant_id, requested_model, provider, resolved_model, version, currency, objective, category, first_provider, first_model, is_primary, cached, bad, price_driven, providers';
const VALUES = 'requests, amount_sum, priced_tokens, first_at, first_event_id, last_at, last_event_id, samples';
const RECORDSET = `key_sha256 text, hour timestamptz, tenant_id text, requested_model text, provider text, resolved_model text, version text,
  currency text, objective text, category text, first_provider text, first_model text, is_primary boolean, cached boolean, bad boolean,
  price_driven boolean, providers text[], requests bigint, amount_sum numeric, priced_tokens numeric, first_at timestamptz,
  first_event_id text, last_at timestamptz, last_event_id text, samples text[]`;

/** The upsert of one shard's rows: `shard` and `rows` name its parameters (e.g. "$1", "$28"). */
export function upsertCostSummariesSql(shard: string, rows: string): string {
  const earlier = '(EXCLUDED.first_at, EXCLUDED.first_event_id) < (t.first_at, t.first_event_id)';
  const later = '(EXCLUDED.last_at, EXCLUDED.last_event_id) > (t.last_at, t.last_event_id)';
  const add = (c: string) => `${c} = COALESCE(t.${c} + EXCLUDED.${c}, t.${c}, EXCLUDED.${c})`;
  return `INSERT INTO cost_hours AS t (shard, key_sha256, ${KEY}, ${VALUES})
    SELECT ${shard}::integer, decode(key_sha256, 'hex'), ${KEY}, ${VALUES} FROM jsonb_to_recordset(${rows}::jsonb) AS s(${RECORDSET})
    ON CONFLICT (shard, key_sha256) DO UPDATE SET
      requests = t.requests + EXCLUDED.requests,
      ${add('amount_sum')},
      ${add('priced_tokens')},
      first_at = CASE WHEN ${earlier} THEN EXCLUDED.first_at ELSE t.first_at END,
      first_event_id = CASE WHEN ${earlier} THEN EXCLUDED.first_event_id ELSE t.first_event_id END,
      last_at = CASE WHEN ${later} THEN EXCLUDED.last_at ELSE t.last_at END,
      last_event_id = CASE WHEN ${later} THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
      samples = ARRAY(SELECT x FROM unnest(t.samples || EXCLUDED.samples) AS x ORDER BY x COLLATE "C" LIMIT ${FINDING_SAMPLES})`;
}

/** The rows as the upsert's jsonb parameter. */
export function costRowsParam(rows: CostRow[]): string {
  return rowsParam(rows, costKeyText);
}

const iso = (c: string, f: string) => `to_char(${c} AT TIME ZONE 'UTC', '${f}')`;

/** Every column of cost_hours, as costRowFromRow reads them. */
export const COST_SELECT = `${iso('hour', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')} AS hour, ${KEY.replace('hour, ', '')}, requests,
  amount_sum::text AS amount_sum, priced_tokens::text AS priced_tokens,
  ${iso('first_at', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')} AS first_at, first_event_id,
  ${iso('last_at', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')} AS last_at, last_event_id, samples`;

export function costRowFromRow(r: Record<string, unknown>): CostRow {
  return { ...(r as unknown as CostRow), requests: Number(r.requests) };
}
