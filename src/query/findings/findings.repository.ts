import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../auth/principal.js';
import { isoMicros, scopeCondition, SqlParams } from '../common/sql.js';
import type { TimeWindow } from '../common/time-window.js';
import type { AliasTargetRow } from './alias-history.js';
import { COST_BIAS_MIN_DISCOUNT, type CheaperTargetRow, type CohortRow, type ConcentrationRow } from './cost-bias.js';
import type { ServedVersionRow } from './evaluation-drift.js';
import { mergeAliasTargets, mergeSignalGroups, samplesOf, splitAtHours } from './summary-window.js';
import { FLAGGED_ROWS } from '../../ledger/finding-summary-sql.js';

export interface FindingScope {
  scope: TenantScope;
  window: TimeWindow;
  alias?: string;
}

/** Grouped rows of one signal, ready to word as findings. */
export interface SignalGroupRow {
  tenant_id: string;
  alias: string;
  requests: number;
  first_seen: string;
  last_seen: string;
  sample_event_ids: string[];
  [key: string]: unknown;
}

export interface CoverageRow {
  gateway_id: string;
  gateway_kind: string;
  events: number;
  cache_answers: number;
  unknown_attempts: number;
  missing_version: number;
  missing_region: number;
}

/** How a signal finding groups finding_hours rows `s` (flagged rows carrying `signal`). */
interface SummaryGroups {
  signal: 'silent_substitution' | 'residency_violation' | 'policy_bypass';
  /** What it groups by, as select-list items. */
  columns: string[];
  /** A join of each row to more rows to group by (named in `columns`). */
  join?: string;
}

const SAMPLES = 5;
/** Count, first and last sighting and the first few event ids of a group of rows named `t`. */
const seen = (
  t: string,
) => `count(*)::int AS requests, ${isoMicros(`min(${t}.occurred_at)`)} AS first_seen, ${isoMicros(`max(${t}.occurred_at)`)} AS last_seen,
  (array_agg(${t}.event_id ORDER BY ${t}.occurred_at, ${t}.event_id))[1:${SAMPLES}] AS sample_event_ids`;
const SEEN = seen('r');
/** Primary resolutions only: what the alias points at, not what an outage or the cache made of it. */
const PRIMARY = `r.resolved_model IS NOT NULL AND COALESCE(r.fallback_used, '') <> 'true' AND NOT (r.signals && ARRAY['cache_hit', 'silent_substitution']::text[])`;
const VERSION = `COALESCE(r.record->'model_version'->>'version', r.record->'model_version'->>'deployment_id')`;
const ATTEMPT_ITEMS = `CASE WHEN jsonb_typeof(r.record->'attempts'->'items') = 'array' THEN r.record->'attempts'->'items' ELSE '[]'::jsonb END`;

const FIRST_ATTEMPT = `r.record->'attempts'->'items'->0`;
/** A bad outcome: not a success, retried, or escalated past the first target. */
const BAD = `(r.outcome_status <> 'success' OR COALESCE((r.record->>'retries')::int, 0) > 0
                  OR (jsonb_array_length(${ATTEMPT_ITEMS}) > 1
                      AND (r.resolved_model IS DISTINCT FROM ${FIRST_ATTEMPT}->>'model' OR r.provider IS DISTINCT FROM ${FIRST_ATTEMPT}->>'provider')))`;
const TOKENS = `(COALESCE((r.record->'usage'->>'input_tokens')::numeric, 0) + COALESCE((r.record->'usage'->>'output_tokens')::numeric, 0))`;
const PRICE_DRIVEN = `(concat_ws(' ', r.record->'routing'->>'reason', r.record->'routing'->>'rule_id') ~* '(price|cheap|cost)')`;

/** prices (CTE) → `premium` (the priciest target per tenant, alias and currency) and `cheap_targets`. */
const cheapTargetCtes = (p: SqlParams) => `premium AS (
         SELECT DISTINCT ON (tenant_id, alias, currency) tenant_id, alias, currency, provider AS premium_provider, model AS premium_model, per_1k AS premium_per_1k
         FROM prices WHERE per_1k IS NOT NULL ORDER BY tenant_id, alias, currency, per_1k DESC, provider, model
       ), cheap_targets AS (
         SELECT pr.*, pm.premium_provider, pm.premium_model, pm.premium_per_1k
         FROM prices pr JOIN premium pm ON pm.tenant_id = pr.tenant_id AND pm.alias = pr.alias AND pm.currency = pr.currency
         WHERE pr.per_1k < pm.premium_per_1k * ${p.add(1 - COST_BIAS_MIN_DISCOUNT)}::numeric
       )`;

/** Rows with summary samples (jsonb array of sample-key arrays, or null) as sample event ids. */
function withSamples<T>(rows: Array<Record<string, unknown>>): T[] {
  return rows.map(
    ({ samples, ...r }) => ({ ...r, sample_event_ids: samplesOf((samples as string[][] | null) ?? []) }) as T,
  );
}

/** Summary rows of finding_hours named `s`, as the signal findings' group values. */
const summarySeen = (
  s: string,
) => `sum(${s}.requests)::int AS requests, ${isoMicros(`min(${s}.first_at)`)} AS first_seen,
  ${isoMicros(`max(${s}.last_at)`)} AS last_seen, jsonb_agg(${s}.samples) AS samples`;
const SUMMARY_SEEN = summarySeen('s');
/** PRIMARY over finding_hours: its rows hold the same columns and signals. */
const SUMMARY_PRIMARY = PRIMARY.replaceAll('r.', 's.');

/**
 * SQL of the findings, within the caller's tenant scope. Alias history, silent degradation,
 * residency, policy bypass and coverage read finding_hours (per-hour summaries the append
 * writes) for the whole hours of their window and the records only for the partial hours at
 * its ends (summary-window.ts); the other findings are recomputed from records over their
 * window. Signal findings select records through the GIN index on signals; aggregates run
 * over the window through the time indexes.
 */
@Injectable()
export class FindingsRepository {
  /** Off: every answer from records alone (the summaries' equivalence test compares both). */
  readSummaries = true;

  constructor(private readonly db: DataSource) {}

  async silentDegradation(f: FindingScope): Promise<SignalGroupRow[]> {
    return this.signalGroups(f, (g) => this.silentDegradationFromRecords(g), {
      signal: 'silent_substitution',
      columns: [
        's.tenant_id',
        's.requested_model AS alias',
        's.first_provider',
        's.first_model',
        's.provider',
        's.resolved_model AS model',
        's.fallback_used',
        's.notice',
      ],
    });
  }

  async residencyViolations(f: FindingScope): Promise<SignalGroupRow[]> {
    return this.signalGroups(f, (g) => this.residencyFromRecords(g), {
      signal: 'residency_violation',
      columns: [
        's.tenant_id',
        's.requested_model AS alias',
        's.region_served',
        's.region_required AS required',
        's.provider',
        `s.fallback_used = 'true' AS on_fallback_path`,
      ],
    });
  }

  /** One row per required check that did not run, split by whether a fallback path was taken. */
  async policyBypasses(f: FindingScope): Promise<SignalGroupRow[]> {
    return this.signalGroups(f, (g) => this.policyBypassesFromRecords(g), {
      signal: 'policy_bypass',
      columns: [
        's.tenant_id',
        's.requested_model AS alias',
        'c->>0 AS check_name',
        'c->>1 AS result',
        `s.fallback_used = 'true' AS on_fallback_path`,
        's.provider',
      ],
      // A record naming a check twice counts twice, as the records' CROSS JOIN does.
      join: 'CROSS JOIN LATERAL jsonb_array_elements(s.bypassed_checks) AS c',
    });
  }

  /**
   * Per tenant, alias and target: sightings from `since` (a look-back before the window, so
   * a target already served before the window is not mistaken for a new one) up to the end.
   */
  async aliasTargets(f: FindingScope, since: Date): Promise<AliasTargetRow[]> {
    const parts = this.readSummaries
      ? splitAtHours({ from: since, to: f.window.to })
      : { head: { from: since, to: f.window.to }, hours: null, tail: null };
    const [head, hours, tail] = await Promise.all([
      parts.head ? this.aliasTargetsFromRecords(f, parts.head) : [],
      parts.hours ? this.aliasTargetsFromSummaries(f, parts.hours) : [],
      parts.tail ? this.aliasTargetsFromRecords(f, parts.tail) : [],
    ]);
    return mergeAliasTargets([head, hours, tail]);
  }

  private async aliasTargetsFromSummaries(f: FindingScope, hours: TimeWindow): Promise<AliasTargetRow[]> {
    const p = new SqlParams();
    return this.db.query(
      `SELECT s.tenant_id, s.requested_model AS alias, s.provider, s.resolved_model AS model, s.version,
              sum(s.requests)::int AS requests, ${isoMicros('min(s.first_at)')} AS first_seen, ${isoMicros('max(s.last_at)')} AS last_seen,
              (array_agg(s.first_event_id ORDER BY s.first_at, s.first_event_id))[1] AS first_event_id,
              bool_or(s.load_balanced) AS load_balanced
       FROM finding_hours s WHERE ${this.summaryWhere(f, hours, p)} AND ${SUMMARY_PRIMARY}
       GROUP BY 1, 2, 3, 4, 5`,
      p.values,
    );
  }

  private async silentDegradationFromRecords(f: FindingScope): Promise<SignalGroupRow[]> {
    const p = new SqlParams();
    return this.db.query(
      `SELECT r.tenant_id, r.requested_model AS alias,
              r.record->'attempts'->'items'->0->>'provider' AS first_provider, r.record->'attempts'->'items'->0->>'model' AS first_model,
              r.provider, r.resolved_model AS model, r.fallback_used, r.record->'disclosure'->>'model_substituted_notice' AS notice, ${SEEN}
       FROM records_json r WHERE ${this.where(f, p)} AND r.signals @> ARRAY['silent_substitution']::text[]
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
      p.values,
    );
  }

  private async residencyFromRecords(f: FindingScope): Promise<SignalGroupRow[]> {
    const p = new SqlParams();
    return this.db.query(
      `SELECT r.tenant_id, r.requested_model AS alias, r.region_served, r.record->'region'->'required' AS required,
              r.provider, r.fallback_used = 'true' AS on_fallback_path, ${SEEN}
       FROM records_json r WHERE ${this.where(f, p)} AND r.signals @> ARRAY['residency_violation']::text[]
       GROUP BY 1, 2, 3, 4, 5, 6`,
      p.values,
    );
  }

  private async policyBypassesFromRecords(f: FindingScope): Promise<SignalGroupRow[]> {
    const p = new SqlParams();
    return this.db.query(
      `SELECT r.tenant_id, r.requested_model AS alias, c->>'name' AS check_name, c->>'result' AS result,
              r.fallback_used = 'true' AS on_fallback_path, r.provider, ${SEEN}
       FROM records_json r CROSS JOIN LATERAL jsonb_array_elements(r.record->'policy_checks') AS c
       WHERE ${this.where(f, p)} AND r.signals @> ARRAY['policy_bypass']::text[]
         AND c->>'required' = 'true' AND c->>'result' IN ('skipped', 'error')
       GROUP BY 1, 2, 3, 4, 5, 6`,
      p.values,
    );
  }

  private async aliasTargetsFromRecords(f: FindingScope, w: TimeWindow): Promise<AliasTargetRow[]> {
    const p = new SqlParams();
    const where = [
      `r.occurred_at >= ${p.add(w.from)}`,
      `r.occurred_at < ${p.add(w.to)}`,
      scopeCondition(f.scope, p),
      PRIMARY,
    ];
    if (f.alias !== undefined) where.push(`r.requested_model = ${p.add(f.alias)}`);
    return this.db.query(
      `SELECT r.tenant_id, r.requested_model AS alias, r.provider, r.resolved_model AS model, ${VERSION} AS version,
              count(*)::int AS requests, ${isoMicros('min(r.occurred_at)')} AS first_seen, ${isoMicros('max(r.occurred_at)')} AS last_seen,
              (array_agg(r.event_id ORDER BY r.occurred_at, r.event_id))[1] AS first_event_id,
              bool_or(r.record->'routing'->>'strategy' = 'loadbalance') AS load_balanced
       FROM records_json r WHERE ${where.join(' AND ')}
       GROUP BY 1, 2, 3, 4, 5`,
      p.values,
    );
  }

  /** Quality-objective traffic sent to a target markedly cheaper than the alias's priciest one. */
  async cheaperTargets(f: FindingScope): Promise<CheaperTargetRow[]> {
    if (this.readSummaries) return this.cheaperTargetsFromSummaries(f);
    const p = new SqlParams();
    return this.db.query(
      `WITH ${this.costCtes(f, p)}
       SELECT w.tenant_id, w.alias, w.provider, w.model, ct.currency, ct.per_1k::text AS per_1k,
              ct.premium_provider, ct.premium_model, ct.premium_per_1k::text AS premium_per_1k, ${seen('w')}
       FROM win w
       JOIN cheap_targets ct ON ct.tenant_id = w.tenant_id AND ct.alias = w.alias AND ct.provider = w.provider AND ct.model = w.model AND ct.currency = w.currency
       WHERE w.is_primary AND w.objective = 'quality'
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
      p.values,
    );
  }

  /** Decisions whose stated reason is price, per tenant and alias, with their top provider and the alternatives seen. */
  async priceConcentration(f: FindingScope): Promise<ConcentrationRow[]> {
    if (this.readSummaries) return this.priceConcentrationFromSummaries(f);
    const p = new SqlParams();
    return this.db.query(
      `WITH win AS MATERIALIZED (
         SELECT r.tenant_id, r.requested_model AS alias, r.provider, r.event_id, r.occurred_at,
                ${PRICE_DRIVEN} AS price_driven,
                ARRAY(SELECT a->>'provider' FROM jsonb_array_elements(${ATTEMPT_ITEMS}) AS a) AS tried
         FROM records_json r WHERE ${this.where(f, p)}
       ), pd AS (
         SELECT * FROM win WHERE price_driven AND provider IS NOT NULL
       ), top AS (
         SELECT DISTINCT ON (tenant_id, alias) tenant_id, alias, provider AS top_provider, count(*) OVER (PARTITION BY tenant_id, alias, provider)::int AS top_requests
         FROM pd ORDER BY tenant_id, alias, top_requests DESC, provider
       ), tot AS (
         SELECT tenant_id, alias, ${seen('pd')} FROM pd GROUP BY 1, 2
       ), alt AS (
         SELECT w.tenant_id, w.alias, count(DISTINCT x.provider)::int AS providers
         FROM win w JOIN tot ON tot.tenant_id = w.tenant_id AND tot.alias = w.alias
         CROSS JOIN LATERAL unnest(array_append(w.tried, w.provider)) AS x(provider)
         WHERE x.provider IS NOT NULL GROUP BY 1, 2
       )
       SELECT tot.tenant_id, tot.alias, top.top_provider, top.top_requests, tot.requests AS price_driven_requests, COALESCE(alt.providers, 0) AS providers_available,
              tot.first_seen, tot.last_seen, tot.sample_event_ids
       FROM tot JOIN top USING (tenant_id, alias) LEFT JOIN alt USING (tenant_id, alias)`,
      p.values,
    );
  }

  /**
   * Per tenant, alias and task category: requests, bad outcomes (error, retry, escalation
   * past the first target), and how many started on a cheap target; plus the alias totals
   * the category is compared against.
   */
  async cohorts(f: FindingScope): Promise<CohortRow[]> {
    if (this.readSummaries) return this.cohortsFromSummaries(f);
    const p = new SqlParams();
    return this.db.query(
      `WITH ${this.costCtes(f, p)}, classified AS (
         SELECT w.*, EXISTS (SELECT 1 FROM cheap_targets ct WHERE ct.tenant_id = w.tenant_id AND ct.alias = w.alias
                                                          AND ct.provider = w.first_provider AND ct.model = w.first_model) AS cheap
         FROM win w WHERE NOT w.cached AND EXISTS (SELECT 1 FROM cheap_targets ct WHERE ct.tenant_id = w.tenant_id AND ct.alias = w.alias)
       ), alias_totals AS (
         SELECT tenant_id, alias, count(*)::int AS alias_requests, (count(*) FILTER (WHERE bad))::int AS alias_bad FROM classified GROUP BY 1, 2
       )
       SELECT c.tenant_id, c.alias, c.category, count(*)::int AS requests, (count(*) FILTER (WHERE c.bad))::int AS bad,
              (count(*) FILTER (WHERE c.cheap))::int AS cheap_requests, (count(*) FILTER (WHERE c.cheap AND c.bad))::int AS cheap_bad,
              t.alias_requests, t.alias_bad,
              ${isoMicros('min(c.occurred_at) FILTER (WHERE c.cheap)')} AS first_seen, ${isoMicros('max(c.occurred_at) FILTER (WHERE c.cheap)')} AS last_seen,
              COALESCE((array_agg(c.event_id ORDER BY c.occurred_at, c.event_id) FILTER (WHERE c.cheap AND c.bad))[1:${SAMPLES}], '{}') AS sample_event_ids
       FROM classified c JOIN alias_totals t ON t.tenant_id = c.tenant_id AND t.alias = c.alias
       GROUP BY c.tenant_id, c.alias, c.category, t.alias_requests, t.alias_bad`,
      p.values,
    );
  }

  /** Served versions per task category, for aliases that have evaluations applying to the tenant. */
  async servedVersions(f: FindingScope, since: Date): Promise<ServedVersionRow[]> {
    if (this.readSummaries) return this.servedVersionsFromSummaries(f, since);
    const p = new SqlParams();
    const from = p.add(f.window.from);
    const where = [
      `r.occurred_at >= ${p.add(since)}`,
      `r.occurred_at < ${p.add(f.window.to)}`,
      scopeCondition(f.scope, p),
      PRIMARY,
      `EXISTS (SELECT 1 FROM evaluations e WHERE e.alias = r.requested_model AND (e.tenant_id IS NULL OR e.tenant_id = r.tenant_id))`,
    ];
    if (f.alias !== undefined) where.push(`r.requested_model = ${p.add(f.alias)}`);
    const inWindow = `r.occurred_at >= ${from}`;
    return this.db.query(
      `SELECT r.tenant_id, r.requested_model AS alias, COALESCE(r.record->'task'->>'category', '(none)') AS category,
              r.provider, r.resolved_model AS model, ${VERSION} AS version,
              (count(*) FILTER (WHERE ${inWindow}))::int AS requests, ${isoMicros('min(r.occurred_at)')} AS first_seen_ever,
              ${isoMicros(`min(r.occurred_at) FILTER (WHERE ${inWindow})`)} AS first_seen, ${isoMicros(`max(r.occurred_at) FILTER (WHERE ${inWindow})`)} AS last_seen,
              COALESCE((array_agg(r.event_id ORDER BY r.occurred_at, r.event_id) FILTER (WHERE ${inWindow}))[1:${SAMPLES}], '{}') AS sample_event_ids
       FROM records_json r WHERE ${where.join(' AND ')}
       GROUP BY 1, 2, 3, 4, 5, 6`,
      p.values,
    );
  }

  /** Per gateway and gateway kind (the service folds kinds). */
  async coverage(f: FindingScope & { gateway?: string }): Promise<CoverageRow[]> {
    const parts = this.readSummaries ? splitAtHours(f.window) : { head: f.window, hours: null, tail: null };
    const [head, hours, tail] = await Promise.all([
      parts.head ? this.coverageFromRecords({ ...f, window: parts.head }) : [],
      parts.hours ? this.coverageFromSummaries(f, parts.hours) : [],
      parts.tail ? this.coverageFromRecords({ ...f, window: parts.tail }) : [],
    ]);
    const out = new Map<string, CoverageRow>();
    for (const r of [...head, ...hours, ...tail]) {
      const key = JSON.stringify([r.gateway_id, r.gateway_kind]);
      const have = out.get(key);
      if (!have) out.set(key, { ...r });
      else {
        have.events += r.events;
        have.cache_answers += r.cache_answers;
        have.unknown_attempts += r.unknown_attempts;
        have.missing_version += r.missing_version;
        have.missing_region += r.missing_region;
      }
    }
    return [...out.values()];
  }

  private async coverageFromSummaries(
    f: FindingScope & { gateway?: string },
    hours: TimeWindow,
  ): Promise<CoverageRow[]> {
    const p = new SqlParams();
    const where = [this.summaryWhere(f, hours, p)];
    if (f.gateway !== undefined) where.push(`s.gateway_id = ${p.add(f.gateway)}`);
    const has = (x: string) => `s.signals @> ARRAY['${x}']::text[]`;
    return this.db.query(
      `SELECT s.gateway_id, s.gateway_kind, sum(s.requests)::int AS events,
              COALESCE(sum(s.requests) FILTER (WHERE ${has('cache_hit')}), 0)::int AS cache_answers,
              COALESCE(sum(s.requests) FILTER (WHERE ${has('unknown_attempts')}), 0)::int AS unknown_attempts,
              COALESCE(sum(s.requests) FILTER (WHERE ${has('missing_version')} AND NOT ${has('cache_hit')}), 0)::int AS missing_version,
              COALESCE(sum(s.requests) FILTER (WHERE ${has('missing_region')}), 0)::int AS missing_region
       FROM finding_hours s WHERE ${where.join(' AND ')}
       GROUP BY 1, 2`,
      p.values,
    );
  }

  /** Per gateway and gateway kind from records; hash-aggregated, so no sort of whole rows. */
  private async coverageFromRecords(f: FindingScope & { gateway?: string }): Promise<CoverageRow[]> {
    const p = new SqlParams();
    const where = [this.where(f, p)];
    if (f.gateway !== undefined) where.push(`r.gateway_id = ${p.add(f.gateway)}`);
    const has = (s: string) => `r.signals @> ARRAY['${s}']::text[]`;
    return this.db.query(
      `SELECT r.gateway_id, COALESCE(r.record->'gateway'->>'kind', 'unknown') AS gateway_kind, count(*)::int AS events,
              (count(*) FILTER (WHERE ${has('cache_hit')}))::int AS cache_answers,
              (count(*) FILTER (WHERE ${has('unknown_attempts')}))::int AS unknown_attempts,
              (count(*) FILTER (WHERE ${has('missing_version')} AND NOT ${has('cache_hit')}))::int AS missing_version,
              (count(*) FILTER (WHERE ${has('missing_region')}))::int AS missing_region
       FROM records_json r WHERE ${where.join(' AND ')}
       GROUP BY 1, 2`,
      p.values,
    );
  }

  /**
   * A signal finding over its window: the records of the partial hours at its ends and the
   * summaries of the whole hours, merged (summary-window.ts).
   */
  private async signalGroups(
    f: FindingScope,
    fromRecords: (f: FindingScope) => Promise<SignalGroupRow[]>,
    summaryGroups: SummaryGroups,
  ): Promise<SignalGroupRow[]> {
    const parts = this.readSummaries ? splitAtHours(f.window) : { head: f.window, hours: null, tail: null };
    const [head, hours, tail] = await Promise.all([
      parts.head ? fromRecords({ ...f, window: parts.head }) : [],
      parts.hours
        ? this.signalGroupsFromSummaries(f, parts.hours, summaryGroups).then((rows) =>
            rows.map(({ samples, ...r }): SignalGroupRow => ({ ...r, sample_event_ids: samplesOf(samples) })),
          )
        : [],
      parts.tail ? fromRecords({ ...f, window: parts.tail }) : [],
    ]);
    return mergeSignalGroups([head, hours, tail]);
  }

  /** The flagged finding_hours rows of `g.signal` over whole hours, grouped by `g.columns`. */
  private async signalGroupsFromSummaries(
    f: FindingScope,
    hours: TimeWindow,
    g: SummaryGroups,
  ): Promise<Array<SignalGroupRow & { samples: string[][] }>> {
    const p = new SqlParams();
    return this.db.query(
      `SELECT ${g.columns.join(', ')}, ${SUMMARY_SEEN}
       FROM finding_hours s ${g.join ?? ''}
       WHERE ${this.summaryWhere(f, hours, p)} AND s.${FLAGGED_ROWS} AND s.signals @> ARRAY['${g.signal}']::text[]
       GROUP BY ${g.columns.map((_, i) => i + 1).join(', ')}`,
      p.values,
    );
  }

  /** The hours of `hours` within the caller's scope (and alias) over finding_hours `s`. */
  private summaryWhere(f: FindingScope, hours: TimeWindow, p: SqlParams): string {
    const out = [
      `s.hour >= ${p.add(hours.from)}`,
      `s.hour < ${p.add(hours.to)}`,
      scopeCondition(f.scope, p, 's.tenant_id'),
    ];
    if (f.alias !== undefined) out.push(`s.requested_model = ${p.add(f.alias)}`);
    return out.join(' AND ');
  }

  private where(f: FindingScope, p: SqlParams): string {
    const out = [
      `r.occurred_at >= ${p.add(f.window.from)}`,
      `r.occurred_at < ${p.add(f.window.to)}`,
      scopeCondition(f.scope, p),
    ];
    if (f.alias !== undefined) out.push(`r.requested_model = ${p.add(f.alias)}`);
    return out.join(' AND ');
  }

  /**
   * CTEs over the window: `win`, the records narrowed to what cost findings read (materialized
   * so sorts and joins handle ~150-byte rows, not whole records), `prices` (cost per 1k tokens
   * of each target per tenant and alias, primary resolutions only), `premium` (the priciest
   * target per tenant, alias and currency) and `cheap_targets` (targets at least
   * COST_BIAS_MIN_DISCOUNT cheaper than the premium one).
   */
  private costCtes(f: FindingScope, p: SqlParams): string {
    const first = `r.record->'attempts'->'items'->0`;
    return `win AS MATERIALIZED (
         SELECT r.event_id, r.occurred_at, r.tenant_id, r.requested_model AS alias, r.provider, r.resolved_model AS model,
                r.record->'cost'->>'currency' AS currency, (r.record->'cost'->>'amount')::numeric AS amount,
                ${TOKENS} AS tokens,
                r.record->'routing'->>'objective' AS objective, COALESCE(r.record->'task'->>'category', '(none)') AS category,
                COALESCE(${first}->>'provider', r.provider) AS first_provider, COALESCE(${first}->>'model', r.resolved_model) AS first_model,
                (${PRIMARY}) AS is_primary, r.signals @> ARRAY['cache_hit']::text[] AS cached,
                ${BAD} AS bad
         FROM records_json r WHERE ${this.where(f, p)}
       ), prices AS (
         SELECT tenant_id, alias, provider, model, currency, sum(amount) * 1000 / NULLIF(sum(tokens), 0) AS per_1k
         FROM win WHERE is_primary AND provider IS NOT NULL AND amount IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5
       ), ${cheapTargetCtes(p)}`;
  }

  /**
   * costCtes over cost_hours for the whole hours of the window and the records of its partial
   * hours: `win` holds both as cost rows (costGroups), `prices` sums their exact sums.
   */
  private costCtesFromSummaries(f: FindingScope, p: SqlParams): string {
    return `win AS MATERIALIZED (${this.costGroups(f, [{ window: f.window, inWindow: true }], p)}
       ), prices AS (
         SELECT tenant_id, alias, provider, model, currency, sum(amount_sum) * 1000 / NULLIF(sum(priced_tokens), 0) AS per_1k
         FROM win WHERE is_primary AND provider IS NOT NULL AND amount_sum IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5
       ), ${cheapTargetCtes(p)}`;
  }

  /**
   * The cost rows of the windows, as one UNION ALL: cost_hours rows for their whole hours, and
   * one row per record (its own cost row, computed as the records path computes each value) for
   * the partial hours at their ends. Each row says whether its window is `inWindow`.
   */
  private costGroups(f: FindingScope, windows: Array<{ window: TimeWindow; inWindow: boolean }>, p: SqlParams): string {
    const parts: string[] = [];
    for (const { window, inWindow } of windows) {
      if (window.from.getTime() >= window.to.getTime()) continue;
      const split = splitAtHours(window);
      for (const w of [split.head, split.tail])
        if (w) parts.push(this.costRowsOfRecords({ ...f, window: w }, inWindow, p));
      if (split.hours)
        parts.push(
          `SELECT s.tenant_id, s.requested_model AS alias, s.provider, s.resolved_model AS model, s.version, s.currency, s.objective,
                  s.category, s.first_provider, s.first_model, s.is_primary, s.cached, s.bad, s.price_driven, s.providers,
                  s.requests, s.amount_sum, s.priced_tokens, s.first_at, s.last_at, s.samples, ${inWindow} AS in_window
           FROM cost_hours s WHERE ${this.summaryWhere(f, split.hours, p)}`,
        );
    }
    // No window at all: no rows, of the right columns.
    if (parts.length === 0)
      parts.push(this.costRowsOfRecords({ ...f, window: { from: new Date(0), to: new Date(0) } }, true, p));
    return parts.join('\n         UNION ALL\n         ');
  }

  /** Each record of the window as a cost row of its own (cost_hours' columns, values as costCtes computes them). */
  private costRowsOfRecords(f: FindingScope, inWindow: boolean, p: SqlParams): string {
    const first = `r.record->'attempts'->'items'->0`;
    return `SELECT r.tenant_id, r.requested_model AS alias, r.provider, r.resolved_model AS model, ${VERSION} AS version,
                r.record->'cost'->>'currency' AS currency, r.record->'routing'->>'objective' AS objective,
                COALESCE(r.record->'task'->>'category', '(none)') AS category,
                COALESCE(${first}->>'provider', r.provider) AS first_provider, COALESCE(${first}->>'model', r.resolved_model) AS first_model,
                (${PRIMARY}) AS is_primary, r.signals @> ARRAY['cache_hit']::text[] AS cached, ${BAD} AS bad, ${PRICE_DRIVEN} AS price_driven,
                array_append(ARRAY(SELECT a->>'provider' FROM jsonb_array_elements(${ATTEMPT_ITEMS}) AS a), r.provider) AS providers,
                1::bigint AS requests, (r.record->'cost'->>'amount')::numeric AS amount_sum,
                CASE WHEN r.record->'cost'->>'amount' IS NOT NULL THEN ${TOKENS} END AS priced_tokens,
                r.occurred_at AS first_at, r.occurred_at AS last_at, ARRAY[${isoMicros('r.occurred_at')} || ' ' || r.event_id] AS samples,
                ${inWindow} AS in_window
         FROM records_json r WHERE ${this.where(f, p)}`;
  }

  private async cheaperTargetsFromSummaries(f: FindingScope): Promise<CheaperTargetRow[]> {
    const p = new SqlParams();
    const rows = await this.db.query(
      `WITH ${this.costCtesFromSummaries(f, p)}
       SELECT w.tenant_id, w.alias, w.provider, w.model, ct.currency, ct.per_1k::text AS per_1k,
              ct.premium_provider, ct.premium_model, ct.premium_per_1k::text AS premium_per_1k, ${summarySeen('w')}
       FROM win w
       JOIN cheap_targets ct ON ct.tenant_id = w.tenant_id AND ct.alias = w.alias AND ct.provider = w.provider AND ct.model = w.model AND ct.currency = w.currency
       WHERE w.is_primary AND w.objective = 'quality'
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
      p.values,
    );
    return withSamples(rows);
  }

  private async priceConcentrationFromSummaries(f: FindingScope): Promise<ConcentrationRow[]> {
    const p = new SqlParams();
    const rows = await this.db.query(
      `WITH win AS MATERIALIZED (${this.costGroups(f, [{ window: f.window, inWindow: true }], p)}
       ), pd AS (
         SELECT * FROM win WHERE price_driven AND provider IS NOT NULL
       ), top AS (
         SELECT DISTINCT ON (tenant_id, alias) tenant_id, alias, provider AS top_provider, top_requests
         FROM (SELECT tenant_id, alias, provider, sum(requests)::int AS top_requests FROM pd GROUP BY 1, 2, 3) AS per_provider
         ORDER BY tenant_id, alias, top_requests DESC, provider
       ), tot AS (
         SELECT tenant_id, alias, ${summarySeen('pd')} FROM pd GROUP BY 1, 2
       ), alt AS (
         SELECT w.tenant_id, w.alias, count(DISTINCT x.provider)::int AS providers
         FROM win w JOIN tot ON tot.tenant_id = w.tenant_id AND tot.alias = w.alias
         CROSS JOIN LATERAL unnest(w.providers) AS x(provider)
         WHERE x.provider IS NOT NULL GROUP BY 1, 2
       )
       SELECT tot.tenant_id, tot.alias, top.top_provider, top.top_requests, tot.requests AS price_driven_requests, COALESCE(alt.providers, 0) AS providers_available,
              tot.first_seen, tot.last_seen, tot.samples
       FROM tot JOIN top USING (tenant_id, alias) LEFT JOIN alt USING (tenant_id, alias)`,
      p.values,
    );
    return withSamples(rows);
  }

  private async cohortsFromSummaries(f: FindingScope): Promise<CohortRow[]> {
    const p = new SqlParams();
    const n = (filter: string) => `COALESCE(sum(requests) FILTER (WHERE ${filter}), 0)::int`;
    const rows = await this.db.query(
      `WITH ${this.costCtesFromSummaries(f, p)}, classified AS (
         SELECT w.*, EXISTS (SELECT 1 FROM cheap_targets ct WHERE ct.tenant_id = w.tenant_id AND ct.alias = w.alias
                                                          AND ct.provider = w.first_provider AND ct.model = w.first_model) AS cheap
         FROM win w WHERE NOT w.cached AND EXISTS (SELECT 1 FROM cheap_targets ct WHERE ct.tenant_id = w.tenant_id AND ct.alias = w.alias)
       ), alias_totals AS (
         SELECT tenant_id, alias, sum(requests)::int AS alias_requests, ${n('bad')} AS alias_bad FROM classified GROUP BY 1, 2
       )
       SELECT c.tenant_id, c.alias, c.category, sum(c.requests)::int AS requests, ${n('c.bad')} AS bad,
              ${n('c.cheap')} AS cheap_requests, ${n('c.cheap AND c.bad')} AS cheap_bad,
              t.alias_requests, t.alias_bad,
              ${isoMicros('min(c.first_at) FILTER (WHERE c.cheap)')} AS first_seen, ${isoMicros('max(c.last_at) FILTER (WHERE c.cheap)')} AS last_seen,
              jsonb_agg(c.samples) FILTER (WHERE c.cheap AND c.bad) AS samples
       FROM classified c JOIN alias_totals t ON t.tenant_id = c.tenant_id AND t.alias = c.alias
       GROUP BY c.tenant_id, c.alias, c.category, t.alias_requests, t.alias_bad`,
      p.values,
    );
    return withSamples(rows);
  }

  /** servedVersions over cost rows: the look-back [since, window start) and the window itself, each split at hours. */
  private async servedVersionsFromSummaries(f: FindingScope, since: Date): Promise<ServedVersionRow[]> {
    const p = new SqlParams();
    const win = this.costGroups(
      f,
      [
        { window: { from: since, to: f.window.from }, inWindow: false },
        { window: f.window, inWindow: true },
      ],
      p,
    );
    const rows = await this.db.query(
      `WITH win AS (${win})
       SELECT w.tenant_id, w.alias, w.category, w.provider, w.model, w.version,
              COALESCE(sum(w.requests) FILTER (WHERE w.in_window), 0)::int AS requests, ${isoMicros('min(w.first_at)')} AS first_seen_ever,
              ${isoMicros('min(w.first_at) FILTER (WHERE w.in_window)')} AS first_seen, ${isoMicros('max(w.last_at) FILTER (WHERE w.in_window)')} AS last_seen,
              jsonb_agg(w.samples) FILTER (WHERE w.in_window) AS samples
       FROM win w
       WHERE w.is_primary AND EXISTS (SELECT 1 FROM evaluations e WHERE e.alias = w.alias AND (e.tenant_id IS NULL OR e.tenant_id = w.tenant_id))
       GROUP BY 1, 2, 3, 4, 5, 6`,
      p.values,
    );
    return withSamples(rows);
  }
}
