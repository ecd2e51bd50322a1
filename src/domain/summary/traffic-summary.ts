/**
 * Per-minute traffic summaries: what incident reconstruction reads instead of every record.
 *
 * One row per minute × every dimension an incident groups or filters by (tenant, gateway,
 * requested alias, served provider/model/region, outcome, fallback, cost currency, and the
 * attempt chain), holding additive counts only: requests, affected, fallbacks, failures, cache
 * hits, latency sum and a fixed-bucket histogram, exact cost sum, and the earliest event as an
 * example. Additive means two summaries of disjoint record sets merge by adding, so the append
 * transaction adds each batch's rows to the stored ones and a window is the sum of its minutes.
 *
 * The attempt chain is part of the key because an outage shows in the attempts, not in who
 * served: "requests that tried openai" is answerable from rows only if each row knows its
 * chain. Chains are few (the distinct routes a gateway takes), so rows stay few.
 */
import type { CanonicalRecord } from '../record/canonical-record.js';
import { addDecimals, atScale, normalizedText, parseDecimal } from './exact-decimal.js';

/** Costs are summed at the record grammar's largest scale (18 fractional digits): every term is exact there. */
const COST_SCALE = 18;

/**
 * Upper bounds (exclusive) of the latency histogram's buckets, in ms; the last bucket is open.
 * A percentile read from it is known to within its bucket: answers give the bucket's bounds.
 */
export const LATENCY_BUCKET_BOUNDS_MS = [
  25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 30000, 60000,
] as const;
export const LATENCY_BUCKETS = LATENCY_BUCKET_BOUNDS_MS.length + 1;

/** One attempt of the chain as summaries keep it (null where the attempt does not say). */
export interface ChainStep {
  provider: string | null;
  model: string | null;
  region: string | null;
  status: string | null;
  error_class: string | null;
}

export interface SummaryKey {
  /** Start of the minute, ISO 8601 UTC with milliseconds. */
  minute: string;
  tenant_id: string;
  gateway_id: string;
  requested_model: string;
  provider: string | null;
  resolved_model: string | null;
  region_served: string | null;
  outcome_status: string;
  outcome_error_class: string | null;
  /** As the records column holds it: 'true', 'false', 'unknown', or null when not said. */
  fallback_used: string | null;
  currency: string | null;
  /** The attempts in order; null when the record has no attempt list. */
  chain: ChainStep[] | null;
}

export interface SummaryCounts {
  requests: number;
  /** Needed a fallback or a retry, did not succeed, or had a failed attempt. */
  affected: number;
  fallbacks: number;
  /** Outcome other than success. */
  errors: number;
  cache_hits: number;
  latency_n: number;
  latency_sum_ms: number;
  latency_buckets: number[];
  cost_n: number;
  /** Exact decimal text; "0" when no record of the row has a cost. */
  cost_sum: string;
  /** The earliest record (by occurred_at, then event_id): an example to open. */
  first_at: string;
  first_event_id: string;
}

export type SummaryRow = SummaryKey & SummaryCounts;

/** Whether an incident hurt this request (the same rule the affected-request list applies). */
export function isAffected(r: CanonicalRecord): boolean {
  if (r.fallback_used === true || r.outcome.status !== 'success' || (r.retries ?? 0) > 0) return true;
  const items = r.attempts?.items;
  return Array.isArray(items) && items.some((a) => a.status === 'error' || a.status === 'timeout');
}

/** The attempt chain as summaries key it. */
export function chainOf(r: CanonicalRecord): ChainStep[] | null {
  const items = r.attempts?.items;
  if (!Array.isArray(items)) return null;
  return items.map((a) => ({
    provider: a.provider ?? null,
    model: a.model ?? null,
    region: a.region ?? null,
    status: a.status ?? null,
    error_class: a.error_class ?? null,
  }));
}

export function minuteOf(timestamp: string): string {
  return minuteText(Date.parse(timestamp));
}

/**
 * The ISO 8601 text of the start of the `periodMs`-long period an instant (ms since the epoch)
 * falls in. Records of a batch fall in a few periods: each period's text is made once, not per
 * record.
 */
export function periodStartText(periodMs: number): (ms: number) => string {
  const texts = new Map<number, string>();
  return (ms) => {
    const start = ms - (((ms % periodMs) + periodMs) % periodMs);
    let text = texts.get(start);
    if (text === undefined) {
      if (texts.size >= 4096) texts.clear();
      text = new Date(start).toISOString();
      texts.set(start, text);
    }
    return text;
  };
}

const minuteText = periodStartText(60_000);

export function latencyBucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BUCKET_BOUNDS_MS.length && ms >= LATENCY_BUCKET_BOUNDS_MS[i]) i++;
  return i;
}

export function summaryKeyOf(r: CanonicalRecord): SummaryKey {
  return {
    minute: minuteOf(r.occurred_at),
    tenant_id: r.tenant_id,
    gateway_id: r.gateway.id,
    requested_model: r.requested_model,
    provider: r.provider ?? null,
    resolved_model: r.resolved_model?.value ?? null,
    region_served: r.region?.served ?? null,
    outcome_status: r.outcome.status,
    outcome_error_class: r.outcome.error_class ?? null,
    fallback_used: r.fallback_used === undefined ? null : String(r.fallback_used),
    currency: r.cost?.currency ?? null,
    chain: chainOf(r),
  };
}

/** A stable text form of a key, for grouping (member order fixed by summaryKeyOf). */
export function keyText(k: SummaryKey): string {
  return JSON.stringify([
    k.minute,
    k.tenant_id,
    k.gateway_id,
    k.requested_model,
    k.provider,
    k.resolved_model,
    k.region_served,
    k.outcome_status,
    k.outcome_error_class,
    k.fallback_used,
    k.currency,
    k.chain,
  ]);
}

/**
 * What one record adds to its summary row: its key and its additive values. Made per record
 * where the record is decoded (a decode worker, say), so that the append rolls up facts and
 * never needs the record object itself. Plain data: it crosses a worker boundary as it is.
 */
export interface SummaryFact {
  /** keyText of the record's key (summaryKeyOf): the key itself is read back from it once per row. */
  keyText: string;
  affected: boolean;
  fallback: boolean;
  error: boolean;
  cacheHit: boolean;
  latencyMs: number | undefined;
  /** The cost as its exact decimal text, when the record has one. */
  cost: string | undefined;
  occurredAt: string;
  eventId: string;
}

export function summaryFactOf(r: CanonicalRecord): SummaryFact {
  return {
    keyText: keyText(summaryKeyOf(r)),
    affected: isAffected(r),
    fallback: r.fallback_used === true,
    error: r.outcome.status !== 'success',
    cacheHit: r.cache?.status === 'hit' || r.cache?.status === 'semantic_hit',
    latencyMs: r.latency?.total_ms,
    cost: r.cost?.amount,
    occurredAt: r.occurred_at,
    eventId: r.event_id,
  };
}

/** The key keyText(key) was made from. */
export function keyFromText(text: string): SummaryKey {
  const [
    minute,
    tenant_id,
    gateway_id,
    requested_model,
    provider,
    resolved_model,
    region_served,
    outcome_status,
    outcome_error_class,
    fallback_used,
    currency,
    chain,
  ] = JSON.parse(text) as [string, string, string, string, ...Array<string | null>, ChainStep[] | null];
  return {
    minute,
    tenant_id,
    gateway_id,
    requested_model,
    provider,
    resolved_model,
    region_served,
    outcome_status: outcome_status as string,
    outcome_error_class,
    fallback_used,
    currency,
    chain,
  } as SummaryKey;
}

/** The summary rows of some records, one per distinct key, in first-seen order. */
export function summarizeRecords(records: Iterable<CanonicalRecord>): SummaryRow[] {
  const facts: SummaryFact[] = [];
  for (const r of records) facts.push(summaryFactOf(r));
  return summarizeFacts(facts);
}

/** summarizeRecords from the records' facts: the same rows. */
export function summarizeFacts(facts: Iterable<SummaryFact>): SummaryRow[] {
  const rollup = new TrafficRollup();
  for (const f of facts) rollup.add(f, epochMicros(f.occurredAt));
  return rollup.rows();
}

/**
 * Traffic rows accumulated record by record: `add` each record's fact with its instant (µs since
 * the epoch, computed once per record by the caller, who shares it between the roll-ups), then
 * `rows()` gives one row per distinct key in first-seen order. Accumulated in place (integers, a
 * scaled BigInt cost) and turned into rows once: this runs for every appended record, inside the
 * append transaction.
 */
export class TrafficRollup {
  private readonly groups = new Map<string, Accumulator>();

  add(f: SummaryFact, us: number): void {
    let acc = this.groups.get(f.keyText);
    if (!acc) {
      acc = {
        requests: 0,
        affected: 0,
        fallbacks: 0,
        errors: 0,
        cacheHits: 0,
        latencyN: 0,
        latencySum: 0,
        buckets: new Array<number>(LATENCY_BUCKETS).fill(0),
        costN: 0,
        cost: 0n,
        firstUs: us,
        firstAt: f.occurredAt,
        firstEventId: f.eventId,
      };
      this.groups.set(f.keyText, acc);
    }
    acc.requests++;
    if (f.affected) acc.affected++;
    if (f.fallback) acc.fallbacks++;
    if (f.error) acc.errors++;
    if (f.cacheHit) acc.cacheHits++;
    if (f.latencyMs !== undefined) {
      acc.latencyN++;
      acc.latencySum += f.latencyMs;
      acc.buckets[latencyBucket(f.latencyMs)]++;
    }
    if (f.cost !== undefined) {
      acc.costN++;
      acc.cost += atScale(parseDecimal(f.cost), COST_SCALE);
    }
    if (us < acc.firstUs || (us === acc.firstUs && f.eventId < acc.firstEventId)) {
      acc.firstUs = us;
      acc.firstAt = f.occurredAt;
      acc.firstEventId = f.eventId;
    }
  }

  rows(): SummaryRow[] {
    const rows: SummaryRow[] = [];
    for (const [text, g] of this.groups) {
      // The counts go onto the key object the text was parsed into (a fresh one): a spread of it
      // into a new object costs several times more per row, and small batches are mostly new rows.
      const row = keyFromText(text) as SummaryRow;
      row.requests = g.requests;
      row.affected = g.affected;
      row.fallbacks = g.fallbacks;
      row.errors = g.errors;
      row.cache_hits = g.cacheHits;
      row.latency_n = g.latencyN;
      row.latency_sum_ms = g.latencySum;
      row.latency_buckets = g.buckets;
      row.cost_n = g.costN;
      row.cost_sum = normalizedText({ v: g.cost, scale: COST_SCALE });
      row.first_at = g.firstAt;
      row.first_event_id = g.firstEventId;
      rows.push(row);
    }
    return rows;
  }
}

interface Accumulator {
  requests: number;
  affected: number;
  fallbacks: number;
  errors: number;
  cacheHits: number;
  latencyN: number;
  latencySum: number;
  buckets: number[];
  costN: number;
  cost: bigint;
  firstUs: number;
  firstAt: string;
  firstEventId: string;
}

/** The counts every roll-up adds: per key, per minute, per period. */
export type TrafficCounts = Pick<
  SummaryCounts,
  'requests' | 'affected' | 'fallbacks' | 'errors' | 'latency_n' | 'latency_sum_ms'
>;

export function addTraffic(a: TrafficCounts, b: TrafficCounts): void {
  a.requests += b.requests;
  a.affected += b.affected;
  a.fallbacks += b.fallbacks;
  a.errors += b.errors;
  a.latency_n += b.latency_n;
  a.latency_sum_ms += b.latency_sum_ms;
}

/** Adds `b` into `a` (same key). */
export function addCounts(a: SummaryCounts, b: SummaryCounts): void {
  addTraffic(a, b);
  a.cache_hits += b.cache_hits;
  for (let i = 0; i < a.latency_buckets.length; i++) a.latency_buckets[i] += b.latency_buckets[i] ?? 0;
  a.cost_n += b.cost_n;
  a.cost_sum = addDecimals(a.cost_sum, b.cost_sum);
  if (earlier(b, a)) {
    a.first_at = b.first_at;
    a.first_event_id = b.first_event_id;
  }
}

function earlier(
  b: Pick<SummaryCounts, 'first_at' | 'first_event_id'>,
  a: Pick<SummaryCounts, 'first_at' | 'first_event_id'>,
): boolean {
  const tb = epochMicros(b.first_at);
  const ta = epochMicros(a.first_at);
  return tb < ta || (tb === ta && b.first_event_id < a.first_event_id);
}

/** Microseconds since the epoch: PostgreSQL's precision, so both order records alike. */
export function epochMicros(timestamp: string): number {
  const fraction = /\.(\d+)/.exec(timestamp)?.[1] ?? '';
  return Math.floor(Date.parse(timestamp) / 1000) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/** Rows merged by key (counts added), e.g. the stored rows of several shards. */
export function mergeRows(rows: Iterable<SummaryRow>): SummaryRow[] {
  const out = new Map<string, SummaryRow>();
  for (const r of rows) {
    const text = keyText(r);
    const have = out.get(text);
    if (have) addCounts(have, r);
    else out.set(text, { ...r, latency_buckets: [...r.latency_buckets] });
  }
  return [...out.values()];
}
