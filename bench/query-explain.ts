/**
 * EXPLAIN check of the query paths: seeds a throwaway database with synthetic
 * `records` rows (1M by default, generated in SQL), then EXPLAIN ANALYZEs the exact SQL the
 * query repositories issue and fails when a request, trace, incident or decisions query plans a
 * sequential scan of `records`. Findings, alias-history and coverage plans are reported too
 * (informational: findings aggregate whole windows by design).
 *
 *   node dist/bench/query-explain.js [--rows 1000000] [--keep] [--json PATH] [--plans]
 *   node dist/bench/query-explain.js --database-url URL   (explain an already seeded database)
 *
 * The bench runs `queryExplainHook` (`explainQueryPaths` on the pipeline's ledger); `runQueryExplain()`
 * does the whole thing. Exit code 1 when a must-not-seq-scan plan does.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { TenantScope } from '../src/auth/principal.js';
import { DecisionsRepository } from '../src/query/decisions/decisions.repository.js';
import { FindingsRepository } from '../src/query/findings/findings.repository.js';
import { IncidentsRepository } from '../src/query/incidents/incidents.repository.js';
import {
  summarizeStoredCosts,
  summarizeStoredFindings,
  summarizeStoredRecords,
} from '../src/ledger/summary-rebuild.js';
import { createTestDatabase } from '../test/support/test-database.js';
import type { BenchFigure, BenchHook, BenchHookContext } from './lib/hooks.js';

export const DEFAULT_ROWS = 1_000_000;
/** Synthetic traffic spans this many days, ending at SPAN_END. */
const SPAN_DAYS = 30;
const SPAN_END = Date.parse('2026-11-20T00:00:00.000Z');
const TENANTS = 50;
const SEED_CHUNK = 250_000;

export type QueryPath = 'request' | 'trace' | 'incident' | 'decisions' | 'findings' | 'alias-history' | 'coverage';
/** Paths that must never plan a sequential scan of records. */
export const NO_SEQ_SCAN: readonly QueryPath[] = ['request', 'trace', 'incident', 'decisions'];

export interface ExplainResult {
  name: string;
  path: QueryPath;
  mustAvoidSeqScan: boolean;
  seqScanOnRecords: boolean;
  indexes: string[];
  executionMs: number;
  plan: string;
}

export interface ExplainReport {
  rows: number;
  seedSeconds: number | null;
  ok: boolean;
  results: ExplainResult[];
}

/**
 * Inserts `rows` synthetic records in SQL: 50 tenants, 10 aliases, 6 providers, 5 gateways,
 * ~1.25 events per request, 90 % with a trace id, time-ordered over 30 days like a real
 * append-only ledger; ~3 % fallbacks with a two-step attempt chain, some residency
 * violations and skipped checks, cache hits, errors. Shapes follow the canonical record.
 */
export async function seedSyntheticRecords(
  pool: pg.Pool,
  rows = DEFAULT_ROWS,
  log: (m: string) => void = () => undefined,
): Promise<void> {
  const start = SPAN_END - SPAN_DAYS * 86_400_000;
  for (let from = 1; from <= rows; from += SEED_CHUNK) {
    const to = Math.min(rows, from + SEED_CHUNK - 1);
    await pool.query(
      `WITH g AS (
         SELECT i,
                'tenant-' || ((i * 7919) % ${TENANTS}) AS tenant,
                'alias-' || ((i / 3) % 10) AS alias,
                (ARRAY['openai','anthropic','azure','bedrock','vertex','mistral'])[1 + (i % 6)] AS provider,
                (ARRAY['us-east-1','eu-west-1','us-west-2','ap-south-1'])[1 + ((i / 11) % 4)] AS region,
                i % 29 = 0 AS fallback, i % 13 = 0 AS cached, i % 97 = 0 AS failed, i % 31 = 0 AS skipped_check,
                ((i * 7919) % ${TENANTS}) < 5 AS eu_only,
                to_timestamp(${start / 1000} + (i::float8 / $2) * ${SPAN_DAYS * 86400}) AS at,
                'req-' || (i * 4 / 5) AS request_id
         FROM generate_series($1::bigint, $3::bigint) AS i
       ), r AS (
         SELECT g.*, provider || '-model-' || (i % 3) AS model, provider || '-model-' || (i % 3) || '-2026-0' || (1 + (i / 100000) % 9) AS version
         FROM g
       )
       INSERT INTO records (event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, content_sha256, occurred_at, received_at,
                            request_id, trace_id, gateway_id, requested_model, resolved_model, provider, region_served, fallback_used, cache_status,
                            outcome_status, signals, record)
       SELECT 'syn-' || i, (i % 8)::int, i / 8, tenant, i, NULL, sha256(('l' || i)::bytea), sha256(('c' || i)::bytea), at, at + interval '40 ms',
              request_id, CASE WHEN i % 10 = 0 THEN NULL ELSE md5(request_id) END, 'gw-' || ((i / 7) % 5), alias,
              CASE WHEN failed THEN NULL ELSE model END, CASE WHEN failed THEN NULL ELSE provider END, region,
              fallback::text, CASE WHEN cached THEN 'hit' ELSE 'miss' END, CASE WHEN failed THEN 'error' ELSE 'success' END,
              array_remove(ARRAY[
                CASE WHEN fallback THEN 'fallback' END, CASE WHEN fallback THEN 'silent_substitution' END,
                CASE WHEN eu_only AND region <> 'eu-west-1' THEN 'residency_violation' END, CASE WHEN skipped_check THEN 'policy_bypass' END,
                CASE WHEN cached THEN 'cache_hit' END, CASE WHEN failed THEN 'error' END, CASE WHEN i % 17 = 0 THEN 'missing_version' END
              ], NULL),
              jsonb_strip_nulls(jsonb_build_object(
                'schema_version', '1', 'event_id', 'syn-' || i, 'occurred_at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'gateway', jsonb_build_object('id', 'gw-' || ((i / 7) % 5), 'kind', 'native'), 'tenant_id', tenant, 'request_id', request_id,
                'requested_model', alias, 'resolved_model', jsonb_build_object('value', model, 'asserted_by', 'gateway'), 'provider', provider,
                'model_version', CASE WHEN i % 17 = 0 THEN NULL ELSE jsonb_build_object('version', version) END,
                'region', jsonb_build_object('served', region, 'required', CASE WHEN eu_only THEN '["eu"]'::jsonb END),
                'routing', jsonb_build_object('strategy', CASE WHEN fallback THEN 'fallback' ELSE 'loadbalance' END, 'reason', 'weighted target',
                                              'objective', CASE WHEN i % 2 = 0 THEN 'quality' ELSE 'cost' END),
                'task', jsonb_build_object('category', (ARRAY['chat','code','summarization','extraction'])[1 + (i % 4)]),
                'attempts', jsonb_build_object('completeness', 'full', 'count', CASE WHEN fallback THEN 2 ELSE 1 END, 'items',
                  CASE WHEN fallback THEN jsonb_build_array(
                         jsonb_build_object('index', 0, 'provider', 'openai', 'model', 'gpt-4o', 'status', 'error', 'error_class', 'provider_unavailable', 'http_status', 503, 'latency_ms', 1200),
                         jsonb_build_object('index', 1, 'provider', provider, 'model', model, 'region', region, 'status', 'success', 'latency_ms', 300 + i % 700))
                       ELSE jsonb_build_array(jsonb_build_object('index', 0, 'provider', provider, 'model', model, 'region', region,
                                                                 'status', CASE WHEN failed THEN 'error' ELSE 'success' END, 'latency_ms', 300 + i % 700)) END),
                'fallback_used', fallback, 'retries', CASE WHEN fallback THEN 1 ELSE 0 END,
                'cache', jsonb_build_object('status', CASE WHEN cached THEN 'hit' ELSE 'miss' END),
                'usage', jsonb_build_object('input_tokens', 200 + i % 1800, 'output_tokens', 40 + i % 600),
                'latency', jsonb_build_object('total_ms', 300 + i % 2000),
                'cost', CASE WHEN failed THEN NULL ELSE jsonb_build_object('amount', to_char((200 + i % 1800) * 0.0000025 + (40 + i % 600) * 0.00001, 'FM0.00000000'), 'currency', 'USD') END,
                'policy_checks', jsonb_build_array(jsonb_build_object('name', 'pii-redaction', 'required', true, 'result', CASE WHEN skipped_check THEN 'skipped' ELSE 'pass' END)),
                'outcome', jsonb_build_object('status', CASE WHEN failed THEN 'error' ELSE 'success' END),
                'source', jsonb_build_object('format', 'native', 'raw_sha256', encode(sha256(('r' || i)::bytea), 'hex'))
              ))::text
       FROM r`,
      [from, rows, to],
    );
    log(`seeded ${to.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} records`);
  }
  // Bulk SQL bypasses the append, so the per-minute summaries are built here, as the migration does.
  await summarizeStoredRecords(async (sql, params) => (await pool.query(sql, params)).rows);
  log('summarized the records into traffic_minutes');
  await summarizeStoredFindings(async (sql, params) => (await pool.query(sql, params)).rows);
  log('summarized the records into finding_hours');
  await summarizeStoredCosts(async (sql, params) => (await pool.query(sql, params)).rows);
  log('summarized the records into cost_hours');
  await pool.query('VACUUM ANALYZE records');
  await pool.query('VACUUM ANALYZE traffic_minutes');
  await pool.query('VACUUM ANALYZE finding_hours');
  await pool.query('VACUUM ANALYZE cost_hours');
}

/**
 * A DataSource stand-in that records the SQL a repository issues instead of running it (all of
 * it: a finding over summaries issues one statement per part of its window).
 */
function capturing(): { db: DataSource; take: () => Array<{ sql: string; params: unknown[] }> } {
  let issued: Array<{ sql: string; params: unknown[] }> = [];
  const db = {
    query: async (sql: string, params: unknown[] = []) => {
      issued.push({ sql, params });
      return [];
    },
  } as unknown as DataSource;
  return {
    db,
    take: () => {
      if (issued.length === 0) throw new Error('the repository issued no SQL');
      const all = issued;
      issued = [];
      return all;
    },
  };
}

/**
 * EXPLAIN (ANALYZE) of every query-path statement, with parameters drawn from the data
 * (a real request id, trace id and tenants). Works on any database holding records.
 */
export async function explainQueryPaths(pool: pg.Pool): Promise<ExplainResult[]> {
  const sample = (
    await pool.query<{
      request_id: string;
      trace_id: string;
      tenant_id: string;
      requested_model: string;
      occurred_at: Date;
      max_at: Date;
    }>(
      `SELECT r.request_id, r.trace_id, r.tenant_id, r.requested_model, r.occurred_at, (SELECT max(occurred_at) FROM records) AS max_at
     FROM records r WHERE r.trace_id IS NOT NULL ORDER BY r.occurred_at DESC OFFSET (SELECT count(*) / 2 FROM records) LIMIT 1`,
    )
  ).rows[0];
  if (!sample) throw new Error('no records to explain against');
  const tenants = (
    await pool.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM records ORDER BY 1 LIMIT 12')
  ).rows.map((r) => r.tenant_id);
  const all: TenantScope = { kind: 'all' };
  const one: TenantScope = { kind: 'tenants', tenants: [sample.tenant_id] };
  const some: TenantScope = { kind: 'tenants', tenants: tenants.slice(0, 3) };
  const many: TenantScope = { kind: 'tenants', tenants };
  const mid = sample.occurred_at.getTime();
  const hour = { from: new Date(mid - 1_800_000), to: new Date(mid + 1_800_000) };
  const hourMinutes = {
    from: new Date(Math.ceil(hour.from.getTime() / 60_000) * 60_000),
    to: new Date(Math.floor(hour.to.getTime() / 60_000) * 60_000),
  };
  const day = { from: new Date(mid - 43_200_000), to: new Date(mid + 43_200_000) };
  const month = {
    from: new Date(sample.max_at.getTime() - 30 * 86_400_000),
    to: new Date(sample.max_at.getTime() + 1),
  };

  const c = capturing();
  const decisions = new DecisionsRepository(c.db);
  const incidents = new IncidentsRepository(c.db);
  const findings = new FindingsRepository(c.db);
  const cases: Array<[string, QueryPath, () => Promise<unknown>]> = [
    ['request (one tenant)', 'request', () => decisions.byRequestId(one, sample.request_id)],
    ['request (all tenants)', 'request', () => decisions.byRequestId(all, sample.request_id)],
    ['trace (one tenant)', 'trace', () => decisions.byTraceId(one, sample.trace_id)],
    ['trace (all tenants)', 'trace', () => decisions.byTraceId(all, sample.trace_id)],
    ['decision by id', 'request', () => decisions.byEventId(one, 'syn-1')],
    ...(
      [
        ['all tenants, provider', { scope: all, provider: 'openai' }],
        ['one tenant', { scope: one }],
        ['3 tenants, model+region', { scope: some, model: sample.requested_model, region: 'us-east-1' }],
      ] as const
    ).flatMap(([label, f]): Array<[string, QueryPath, () => Promise<unknown>]> => [
      [`incident summary rows, whole minutes (${label})`, 'incident', () => incidents.summaryRows(f, hourMinutes)],
      [`incident affected (${label})`, 'incident', () => incidents.affected(f, hour, 100)],
    ]),
    ['decisions page (all tenants)', 'decisions', () => decisions.list(all, {}, 51)],
    [
      'decisions page (one tenant, after cursor)',
      'decisions',
      () => decisions.list(one, { after: { occurredAt: sample.occurred_at.toISOString(), eventId: 'syn-0' } }, 51),
    ],
    [
      'decisions page (3 tenants, signal)',
      'decisions',
      () => decisions.list(some, { signal: 'residency_violation' }, 51),
    ],
    [
      'decisions page (all, provider+window)',
      'decisions',
      () => decisions.list(all, { provider: 'anthropic', from: day.from, to: day.to }, 51),
    ],
    ['decisions page (one tenant, gateway)', 'decisions', () => decisions.list(one, { gateway: 'gw-3' }, 51)],
    ['decisions page (3 tenants, gateway)', 'decisions', () => decisions.list(some, { gateway: 'gw-3' }, 51)],
    [
      'decisions page (3 tenants, gateway, after cursor)',
      'decisions',
      () =>
        decisions.list(
          some,
          { gateway: 'gw-3', after: { occurredAt: sample.occurred_at.toISOString(), eventId: 'syn-0' } },
          51,
        ),
    ],
    ['decisions page (all tenants, gateway)', 'decisions', () => decisions.list(all, { gateway: 'gw-3' }, 51)],
    ['decisions page (12 tenants, gateway)', 'decisions', () => decisions.list(many, { gateway: 'gw-3' }, 51)],
    [
      'decisions page (one tenant, signal)',
      'decisions',
      () => decisions.list(one, { signal: 'residency_violation' }, 51),
    ],
    [
      'decisions page (3 tenants, signal cache_hit)',
      'decisions',
      () => decisions.list(some, { signal: 'cache_hit' }, 51),
    ],
    [
      'decisions page (all tenants, signal)',
      'decisions',
      () => decisions.list(all, { signal: 'residency_violation' }, 51),
    ],
    [
      'decisions page (3 tenants, model+outcome+window)',
      'decisions',
      () =>
        decisions.list(
          some,
          { requestedModel: sample.requested_model, outcome: 'error', from: day.from, to: day.to },
          51,
        ),
    ],
    [
      'incident summary rows (all tenants, gateway)',
      'incident',
      () => incidents.summaryRows({ scope: all, gateway: 'gw-3' }, hourMinutes),
    ],
    [
      'findings silent degradation (24 h, all)',
      'findings',
      () => findings.silentDegradation({ scope: all, window: day }),
    ],
    [
      'findings residency (31 d, one tenant)',
      'findings',
      () => findings.residencyViolations({ scope: one, window: month }),
    ],
    ['findings policy bypass (24 h, all)', 'findings', () => findings.policyBypasses({ scope: all, window: day })],
    [
      'findings alias targets (24 h + 30 d look-back, one tenant)',
      'findings',
      () => findings.aliasTargets({ scope: one, window: day }, month.from),
    ],
    ['findings cheaper targets (24 h, all)', 'findings', () => findings.cheaperTargets({ scope: all, window: day })],
    [
      'findings price concentration (24 h, all)',
      'findings',
      () => findings.priceConcentration({ scope: all, window: day }),
    ],
    ['findings cohorts (24 h, all)', 'findings', () => findings.cohorts({ scope: all, window: day })],
    [
      'findings served versions (24 h + look-back, one tenant)',
      'findings',
      () => findings.servedVersions({ scope: one, window: day }, month.from),
    ],
    [
      'alias history (30 d, one alias, one tenant)',
      'alias-history',
      () => findings.aliasTargets({ scope: one, window: month, alias: sample.requested_model }, month.from),
    ],
    [
      'alias history (30 d, one alias, all tenants)',
      'alias-history',
      () => findings.aliasTargets({ scope: all, window: month, alias: sample.requested_model }, month.from),
    ],
    ['coverage (24 h, all)', 'coverage', () => findings.coverage({ scope: all, window: day })],
    // One tenant over 30 days (the < 2 s target), with the per-hour summaries and from records alone.
    ...[true, false].flatMap((summaries): Array<[string, QueryPath, () => Promise<unknown>]> => {
      const how = summaries ? 'summaries' : 'records only';
      const read =
        <T>(q: () => Promise<T>) =>
        async () => {
          findings.readSummaries = summaries;
          try {
            return await q();
          } finally {
            findings.readSummaries = true;
          }
        };
      const f = { scope: one, window: month };
      return [
        [
          `alias history (30 d, one alias, one tenant; ${how})`,
          'alias-history',
          read(() => findings.aliasTargets({ ...f, alias: sample.requested_model }, month.from)),
        ],
        [
          `findings alias targets (30 d + 30 d look-back, one tenant; ${how})`,
          'findings',
          read(() => findings.aliasTargets(f, new Date(month.from.getTime() - 30 * 86_400_000))),
        ],
        [
          `findings silent degradation (30 d, one tenant; ${how})`,
          'findings',
          read(() => findings.silentDegradation(f)),
        ],
        [`findings residency (30 d, one tenant; ${how})`, 'findings', read(() => findings.residencyViolations(f))],
        [`findings policy bypass (30 d, one tenant; ${how})`, 'findings', read(() => findings.policyBypasses(f))],
        [`coverage (30 d, one tenant; ${how})`, 'coverage', read(() => findings.coverage(f))],
        [`findings cheaper targets (30 d, one tenant; ${how})`, 'findings', read(() => findings.cheaperTargets(f))],
        [
          `findings price concentration (30 d, one tenant; ${how})`,
          'findings',
          read(() => findings.priceConcentration(f)),
        ],
        [`findings cohorts (30 d, one tenant; ${how})`, 'findings', read(() => findings.cohorts(f))],
        [
          `findings served versions (30 d + 30 d look-back, one tenant; ${how})`,
          'findings',
          read(() => findings.servedVersions(f, new Date(month.from.getTime() - 30 * 86_400_000))),
        ],
      ];
    }),
    ['coverage (24 h, one gateway)', 'coverage', () => findings.coverage({ scope: all, window: day, gateway: 'gw-3' })],
  ];
  const out: ExplainResult[] = [];
  for (const [name, path, issue] of cases) {
    await issue();
    // Statements of one call run one after the other here (the repository runs them at once).
    const plans: string[] = [];
    for (const { sql, params } of c.take()) {
      const res = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
      plans.push(res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
    }
    const plan = plans.join('\n----\n');
    out.push({
      name,
      path,
      mustAvoidSeqScan: NO_SEQ_SCAN.includes(path),
      seqScanOnRecords: /Seq Scan on records\b/.test(plan),
      indexes: [
        ...new Set(
          [...plan.matchAll(/(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)/g)].map(
            (m) => m[1],
          ),
        ),
      ].sort(),
      executionMs: [...plan.matchAll(/Execution Time: ([\d.]+) ms/g)].reduce((t, m) => t + Number(m[1]), 0),
      plan,
    });
  }
  return out;
}

/** Creates a database, migrates, seeds `rows` records, explains every path, drops it (unless keep). */
export async function runQueryExplain(
  opts: { rows?: number; keep?: boolean; log?: (m: string) => void } = {},
): Promise<ExplainReport> {
  const log = opts.log ?? (() => undefined);
  const rows = opts.rows ?? DEFAULT_ROWS;
  const db = await createTestDatabase('rl_explain');
  try {
    const t0 = Date.now();
    await seedSyntheticRecords(db.pool, rows, log);
    const seedSeconds = (Date.now() - t0) / 1000;
    const results = await explainQueryPaths(db.pool);
    return { rows, seedSeconds, ok: results.every((r) => !(r.mustAvoidSeqScan && r.seqScanOnRecords)), results };
  } finally {
    if (!opts.keep) {
      await db.drop();
    } else {
      await db.pool.end();
      log(`kept database ${db.name}`);
    }
  }
}

export const queryExplainHook: BenchHook = {
  section: 'query plans: EXPLAIN ANALYZE of the query paths',
  source: 'bench/query-explain.ts',
  run: explainOnLedger,
};

/**
 * One EXPLAIN ANALYZE per query on the pipeline's ledger, one line per query path: its slowest
 * query, and whether any scans records. Single executions, not p50/p99: the lookup latency
 * figures come from bench/hooks/query.ts.
 */
async function explainOnLedger(ctx: BenchHookContext): Promise<BenchFigure[]> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  try {
    const results = await explainQueryPaths(pool);
    const paths = [...new Set(results.map((r) => r.path))];
    return paths.map((path) => {
      const rs = results.filter((r) => r.path === path);
      const slowest = rs.reduce((a, b) => (b.executionMs > a.executionMs ? b : a));
      const scans = rs.filter((r) => r.seqScanOnRecords).length;
      const must = rs.some((r) => r.mustAvoidSeqScan);
      return {
        name: `${path}: slowest of ${rs.length} queries`,
        value: slowest.executionMs,
        unit: 'ms',
        pass: must ? scans === 0 : undefined,
        note: `${slowest.name}; ${scans === 0 ? 'no sequential scan of records' : `${scans} scan records sequentially`}${must ? ' (must not)' : ''}; fastest ${Math.min(...rs.map((r) => r.executionMs)).toFixed(2)} ms; one EXPLAIN ANALYZE each`,
      };
    });
  } finally {
    await pool.end();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
      plans: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
    },
  });
  let rows = values.rows ? Number(values.rows.replace(/_/g, '')) : DEFAULT_ROWS;
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer`);
  let report: ExplainReport;
  if (values['database-url']) {
    const pool = new pg.Pool({ connectionString: values['database-url'], max: 2 });
    try {
      rows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM records')).rows[0].n);
      const results = await explainQueryPaths(pool);
      report = {
        rows,
        seedSeconds: null,
        ok: results.every((r) => !(r.mustAvoidSeqScan && r.seqScanOnRecords)),
        results,
      };
    } finally {
      await pool.end();
    }
  } else {
    report = await runQueryExplain({ rows, keep: values.keep, log: (m) => process.stderr.write(`${m}\n`) });
  }
  process.stdout.write(
    `EXPLAIN ANALYZE over ${rows.toLocaleString('en-US')} records${report.seedSeconds === null ? '' : ` (seeded in ${report.seedSeconds.toFixed(0)} s)`}\n\n`,
  );
  for (const r of report.results) {
    const verdict = r.seqScanOnRecords ? (r.mustAvoidSeqScan ? 'SEQ SCAN (not allowed)' : 'seq scan') : 'index';
    process.stdout.write(
      `${verdict.padEnd(22)} ${r.executionMs.toFixed(1).padStart(9)} ms  ${r.name}  [${r.indexes.join(', ') || 'no index'}]\n`,
    );
    if (values.plans || (r.mustAvoidSeqScan && r.seqScanOnRecords))
      process.stdout.write(`${r.plan.replace(/^/gm, '    ')}\n`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
  process.stdout.write(
    report.ok
      ? '\nOK: no sequential scan of records on the request, trace, incident and decisions paths\n'
      : '\nFAIL: a request, trace, incident or decisions query scans records sequentially\n',
  );
  return report.ok ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`query-explain failed: ${e.stack ?? e.message}\n`);
      process.exit(2);
    },
  );
}
