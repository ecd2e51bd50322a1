/**
 * Request and trace lookups and a one-hour incident reconstruction, p50/p99, through the same
 * repositories and service the API uses, on the bench's ledger topped up to --records rows.
 */
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import type { Principal, TenantScope } from '../../src/auth/principal.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { DecisionsRepository } from '../../src/query/decisions/decisions.repository.js';
import { IncidentsRepository } from '../../src/query/incidents/incidents.repository.js';
import { IncidentsService } from '../../src/query/incidents/incidents.service.js';
import type { BenchFigure, BenchHook, BenchHookContext } from '../lib/hooks.js';

/** The target for point lookups, set at 10M records (bench/README.md); here measured at --records. */
const LOOKUP_P99_TARGET_MS = 5;

export const queryHook: BenchHook = {
  section: 'query: request/trace lookup, 1-hour incident reconstruction',
  source: 'bench/hooks/query.ts',
  run: measureQueries,
};

async function measureQueries(ctx: BenchHookContext): Promise<BenchFigure[]> {
  const db = new DataSource({
    ...dataSourceOptions({ url: ctx.databaseUrl, poolSize: 2 }),
    applicationName: 'routing-ledger-query-bench',
  } as never);
  await db.initialize();
  try {
    const have = Number((await db.query('SELECT count(*) AS n FROM records'))[0].n);
    if (have < ctx.records) {
      ctx.log(`6. query: topping records up from ${have.toLocaleString('en')} to ${ctx.records.toLocaleString('en')}…`);
      await ctx.seedRecords(ctx.records - have);
    }
    await db.query('ANALYZE records');
    const rows = Number((await db.query('SELECT count(*) AS n FROM records'))[0].n);
    const n = ctx.quick ? 50 : 300;
    const samples: Array<{ request_id: string; trace_id: string; tenant_id: string; occurred_at: Date }> =
      await db.query(
        `SELECT request_id, trace_id, tenant_id, occurred_at FROM records TABLESAMPLE SYSTEM (2)
       WHERE trace_id IS NOT NULL ORDER BY random() LIMIT $1`,
        [n],
      );
    const decisions = new DecisionsRepository(db);
    const incidents = new IncidentsService(new IncidentsRepository(db), () => new Date());
    const scopeOf = (tenant: string): TenantScope => ({ kind: 'tenants', tenants: [tenant] });
    const admin: Principal = { subject: 'bench', roles: ['admin'], scope: { kind: 'all' } };

    const request = await timeEach(samples, (s) => decisions.byRequestId(scopeOf(s.tenant_id), s.request_id));
    const trace = await timeEach(samples, (s) => decisions.byTraceId(scopeOf(s.tenant_id), s.trace_id));
    const hourSamples = samples.slice(0, ctx.quick ? 5 : 30);
    const incident = await timeEach(hourSamples, (s) =>
      incidents.reconstruct(
        {
          from: new Date(s.occurred_at.getTime() - 1_800_000).toISOString(),
          to: new Date(s.occurred_at.getTime() + 1_800_000).toISOString(),
          provider: 'openai',
        } as never,
        admin,
      ),
    );

    const at = `${rows.toLocaleString('en')} records`;
    return [
      lookupFigure(`request lookup (GET /v1/requests/{id}), ${at}`, request),
      lookupFigure(`trace lookup (GET /v1/traces/{id}), ${at}`, trace),
      {
        name: `1-hour incident reconstruction (provider=openai, all tenants), ${at}`,
        value: pct(incident, 0.5),
        unit: 'ms p50',
        note: `p99 ${pct(incident, 0.99).toFixed(1)} ms over ${incident.length} windows`,
      },
    ];
  } finally {
    await db.destroy();
  }
}

function lookupFigure(name: string, ms: number[]): BenchFigure {
  const p99 = pct(ms, 0.99);
  return {
    name,
    value: p99,
    unit: 'ms p99',
    target: `p99 < ${LOOKUP_P99_TARGET_MS} ms`,
    pass: p99 < LOOKUP_P99_TARGET_MS,
    note: `p50 ${pct(ms, 0.5).toFixed(2)} ms over ${ms.length} lookups`,
  };
}

async function timeEach<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (const item of items) {
    const t0 = performance.now();
    await fn(item);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Nearest-rank percentile. */
function pct(ms: number[], q: number): number {
  if (ms.length === 0) return NaN;
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
