/**
 * Incident answers computed from summary rows (traffic-summary.ts): who was hit, through which
 * chains, with which errors, at what cost and latency, minute by minute. Pure; the caller
 * fetches the rows of a period (the stored rows of its minutes, one per shard and key) and this
 * module never sees a record.
 *
 * Orderings are by code unit (not a database collation), so equal inputs give equal answers
 * wherever they are computed.
 */
import {
  LATENCY_BUCKET_BOUNDS_MS,
  epochMicros,
  mergeRows,
  addTraffic,
  type ChainStep,
  type SummaryRow,
  type TrafficCounts,
} from './traffic-summary.js';
import { addDecimals, divideDecimal, multiplyDecimal, subtractDecimals } from './exact-decimal.js';

export interface InvolvementFilter {
  /** Served it or was tried in the attempt chain. */
  provider?: string;
  /** Requested alias, served model or a tried model. */
  model?: string;
  /** Served there or was tried there. */
  region?: string;
}

export function involves(row: SummaryRow, f: InvolvementFilter): boolean {
  const chain = row.chain ?? [];
  if (f.provider !== undefined && row.provider !== f.provider && !chain.some((s) => s.provider === f.provider))
    return false;
  if (
    f.model !== undefined &&
    row.requested_model !== f.model &&
    row.resolved_model !== f.model &&
    !chain.some((s) => s.model === f.model)
  )
    return false;
  if (f.region !== undefined && row.region_served !== f.region && !chain.some((s) => s.region === f.region))
    return false;
  return true;
}

export interface Percentile {
  /** Interpolated inside its bucket (the open last bucket gives its lower bound). */
  value: number;
  /** The bucket the true value lies in, in ms: [from, to), `to` null for the open last bucket. */
  bucket: [number, number | null];
}

export interface PeriodTotals {
  requests: number;
  affected: number;
  fallbacks: number;
  errors: number;
  latencyAvg: number | null;
  p50: Percentile | null;
  p95: Percentile | null;
}

export function periodTotals(rows: SummaryRow[]): PeriodTotals {
  const t = zeroTraffic();
  const buckets = new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);
  for (const r of rows) {
    addTraffic(t, r);
    r.latency_buckets.forEach((n, i) => (buckets[i] += n));
  }
  return {
    requests: t.requests,
    affected: t.affected,
    fallbacks: t.fallbacks,
    errors: t.errors,
    latencyAvg: averageLatency(t),
    p50: percentileFromBuckets(buckets, 0.5),
    p95: percentileFromBuckets(buckets, 0.95),
  };
}

/** The q-quantile of a fixed-bucket histogram, interpolated linearly inside its bucket. */
export function percentileFromBuckets(buckets: number[], q: number): Percentile | null {
  const n = buckets.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const rank = q * n;
  let before = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (buckets[i] > 0 && before + buckets[i] >= rank) {
      const from = i === 0 ? 0 : LATENCY_BUCKET_BOUNDS_MS[i - 1];
      const to = i < LATENCY_BUCKET_BOUNDS_MS.length ? LATENCY_BUCKET_BOUNDS_MS[i] : null;
      const value = to === null ? from : from + ((to - from) * (rank - before)) / buckets[i];
      return { value: round1(value), bucket: [from, to] };
    }
    before += buckets[i];
  }
  return null;
}

export interface TargetGroup {
  tenant_id: string;
  requested_model: string;
  provider: string | null;
  resolved_model: string | null;
  requests: number;
  affected: number;
  fallbacks: number;
  errors: number;
}

/** Tenant × alias × served target with at least one affected request, most affected first. */
export function affectedByTarget(rows: SummaryRow[]): TargetGroup[] {
  const groups = new Map<string, TargetGroup>();
  for (const r of rows) {
    const key = JSON.stringify([r.tenant_id, r.requested_model, r.provider, r.resolved_model]);
    const g = groups.get(key) ?? {
      tenant_id: r.tenant_id,
      requested_model: r.requested_model,
      provider: r.provider,
      resolved_model: r.resolved_model,
      requests: 0,
      affected: 0,
      fallbacks: 0,
      errors: 0,
    };
    g.requests += r.requests;
    g.affected += r.affected;
    g.fallbacks += r.fallbacks;
    g.errors += r.errors;
    groups.set(key, g);
  }
  return [...groups.values()]
    .filter((g) => g.affected > 0)
    .sort(
      (a, b) =>
        b.affected - a.affected ||
        cmp(a.tenant_id, b.tenant_id) ||
        cmp(a.requested_model, b.requested_model) ||
        cmp(a.provider, b.provider) ||
        cmp(a.resolved_model, b.resolved_model),
    );
}

export interface ChainGroup {
  steps: ChainStep[];
  requests: number;
  tenants: string[];
  example_event_id: string;
}

/** Distinct attempt chains of multi-attempt requests, most frequent first. */
export function fallbackChains(rows: SummaryRow[], limit: number): ChainGroup[] {
  const chains = new Map<string, ChainGroup & { firstAt: number }>();
  for (const r of rows) {
    if (!r.chain || r.chain.length < 2) continue;
    const key = JSON.stringify(r.chain);
    const at = epochMicros(r.first_at);
    const c = chains.get(key);
    if (!c) {
      chains.set(key, {
        steps: r.chain,
        requests: r.requests,
        tenants: [r.tenant_id],
        example_event_id: r.first_event_id,
        firstAt: at,
      });
      continue;
    }
    c.requests += r.requests;
    if (!c.tenants.includes(r.tenant_id)) c.tenants.push(r.tenant_id);
    if (at < c.firstAt || (at === c.firstAt && r.first_event_id < c.example_event_id)) {
      c.firstAt = at;
      c.example_event_id = r.first_event_id;
    }
  }
  return [...chains.values()]
    .sort((a, b) => b.requests - a.requests || cmp(a.example_event_id, b.example_event_id))
    .slice(0, limit)
    .map(({ steps, requests, tenants, example_event_id }) => ({
      steps,
      requests,
      tenants: [...tenants].sort(cmp),
      example_event_id,
    }));
}

export interface ErrorClassCount {
  source: 'attempt' | 'outcome';
  provider: string | null;
  error_class: string;
  count: number;
}

/** Failed attempts (error or timeout) and failed outcomes, by provider and class. */
export function errorClasses(rows: SummaryRow[]): ErrorClassCount[] {
  const counts = new Map<string, ErrorClassCount>();
  const add = (source: ErrorClassCount['source'], provider: string | null, errorClass: string, n: number) => {
    const key = JSON.stringify([source, provider, errorClass]);
    const c = counts.get(key) ?? { source, provider, error_class: errorClass, count: 0 };
    c.count += n;
    counts.set(key, c);
  };
  for (const r of rows) {
    for (const s of r.chain ?? []) {
      if (s.status === 'error' || s.status === 'timeout')
        add('attempt', s.provider, s.error_class ?? 'unclassified', r.requests);
    }
    if (r.outcome_status !== 'success')
      add('outcome', r.provider, r.outcome_error_class ?? r.outcome_status, r.requests);
  }
  return [...counts.values()].sort(
    (a, b) => b.count - a.count || cmp(a.source, b.source) || cmp(a.error_class, b.error_class),
  );
}

export interface MinutePoint {
  minute: string;
  requests: number;
  affected: number;
  fallbacks: number;
  errors: number;
  latency_avg_ms: number | null;
}

/** One point per minute that has requests, in time order. */
export function timeline(rows: SummaryRow[]): MinutePoint[] {
  const minutes = new Map<string, TrafficCounts>();
  for (const r of rows) {
    const m = minutes.get(r.minute) ?? zeroTraffic();
    addTraffic(m, r);
    minutes.set(r.minute, m);
  }
  return [...minutes.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .map(([minute, m]) => ({
      minute,
      requests: m.requests,
      affected: m.affected,
      fallbacks: m.fallbacks,
      errors: m.errors,
      latency_avg_ms: averageLatency(m),
    }));
}

function zeroTraffic(): TrafficCounts {
  return { requests: 0, affected: 0, fallbacks: 0, errors: 0, latency_n: 0, latency_sum_ms: 0 };
}

function averageLatency(t: TrafficCounts): number | null {
  return t.latency_n === 0 ? null : round1(t.latency_sum_ms / t.latency_n);
}

export interface CurrencyCost {
  currency: string;
  window: { requests: number; total: string | null; per_request: string | null };
  baseline: { requests: number; total: string | null; per_request: string | null };
  delta_per_request: string | null;
}

/** Cost per currency in the window and the baseline, exact decimals as text. */
export function costs(window: SummaryRow[], baseline: SummaryRow[]): CurrencyCost[] {
  const sums = (rows: SummaryRow[]) => {
    const out = new Map<string, { n: number; total: string }>();
    for (const r of rows) {
      if (r.currency === null || r.cost_n === 0) continue;
      const c = out.get(r.currency) ?? { n: 0, total: '0' };
      c.n += r.cost_n;
      c.total = addDecimals(c.total, r.cost_sum);
      out.set(r.currency, c);
    }
    return out;
  };
  const w = sums(window);
  const b = sums(baseline);
  return [...new Set([...w.keys(), ...b.keys()])].sort(cmp).map((currency) => {
    const wc = w.get(currency);
    const bc = b.get(currency);
    const wPer = wc ? divideDecimal(wc.total, wc.n) : null;
    const bPer = bc ? divideDecimal(bc.total, bc.n) : null;
    return {
      currency,
      window: { requests: wc?.n ?? 0, total: wc?.total ?? null, per_request: wPer },
      baseline: { requests: bc?.n ?? 0, total: bc?.total ?? null, per_request: bPer },
      delta_per_request: wc && bc ? differenceOfQuotients(wc.total, wc.n, bc.total, bc.n) : null,
    };
  });
}

/** a/m − b/n, rounded to 8 places, exactly: (a·n − b·m) / (m·n). */
function differenceOfQuotients(a: string, m: number, b: string, n: number): string | null {
  return divideDecimal(subtractDecimals(multiplyDecimal(a, n), multiplyDecimal(b, m)), m * n);
}

/** Rows of a filter's traffic, merged across shards (and any other split of the same key). */
export function rowsInvolving(rows: SummaryRow[], f: InvolvementFilter): SummaryRow[] {
  return mergeRows(rows.filter((r) => involves(r, f)));
}

/** Minutes holding affected requests, in order, until they hold `limit` of them. */
export function minutesToList(rows: SummaryRow[], limit: number): string[] {
  const byMinute = new Map<string, number>();
  for (const r of rows) if (r.affected > 0) byMinute.set(r.minute, (byMinute.get(r.minute) ?? 0) + r.affected);
  const out: string[] = [];
  let held = 0;
  for (const [minute, n] of [...byMinute].sort((a, b) => cmp(a[0], b[0]))) {
    if (held >= limit) break;
    out.push(minute);
    held += n;
  }
  return out;
}

function cmp(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
