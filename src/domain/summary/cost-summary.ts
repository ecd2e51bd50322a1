/**
 * Per-hour cost summaries: what the cost-bias findings and evaluation drift read instead of
 * every record of their window.
 *
 * One row per hour × what those answers group or filter by, each value as the records path
 * computes it from a record: tenant, alias, served provider/model, whether the record is a
 * primary resolution, cache answer, bad outcome or price-driven decision, and the providers it
 * served or tried (the alternatives price concentration counts). What only some answers read is
 * kept where they read it, so that ordinary traffic stays a few rows per alias and hour: version,
 * currency and objective on primary rows only (prices, served versions), category, first target
 * and bad outcome on rows not answered from cache (cohorts; primary rows are never cached).
 *
 * Values: the request count; on primary rows with a provider, the exact sum of the priced
 * records' amounts (decimal text, its scale the largest of theirs, as PostgreSQL's numeric sum
 * keeps it) and of their tokens; the first and last record by (occurred_at, event_id), and the
 * five earliest sample keys. All merge exactly whatever the order of the records.
 */
import { keyTextOf } from './key-text.js';
import { addDecimal, numericText, sumDecimalTexts } from './exact-decimal.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import type { Signal } from '../record/derive-signals.js';
import { FINDING_SAMPLES, hourOf, isoMicrosOf, sampleKey } from './finding-summary.js';
import { epochMicros } from './traffic-summary.js';
import { extendSpan, mergeSpan, type SpanAccumulator } from './record-span.js';

export interface CostKey {
  /** Start of the hour, ISO 8601 UTC with milliseconds. */
  hour: string;
  tenant_id: string;
  requested_model: string;
  provider: string | null;
  resolved_model: string | null;
  /** Primary rows only: model_version.version, else model_version.deployment_id. */
  version: string | null;
  /** Primary rows only. */
  currency: string | null;
  /** Primary rows only: routing.objective. */
  objective: string | null;
  /** Rows not answered from cache: task.category, '(none)' when not said. */
  category: string | null;
  /** Rows not answered from cache: the first attempt's provider and model, else the served ones. */
  first_provider: string | null;
  first_model: string | null;
  /** Resolved, no fallback, no cache answer, no silent substitution (the findings' PRIMARY). */
  is_primary: boolean;
  cached: boolean;
  /** Rows not answered from cache: not a success, retried, or escalated past the first target. */
  bad: boolean;
  /** routing.reason or rule_id speaks of price, cheap or cost. */
  price_driven: boolean;
  /** Providers the record tried or was served by, distinct, sorted. */
  providers: string[];
}

export interface CostCounts {
  requests: number;
  /** Primary rows with a provider: the sum of the priced records' amounts; else null. */
  amount_sum: string | null;
  /** ... and of those records' input + output tokens (decimal text); null with amount_sum. */
  priced_tokens: string | null;
  first_at: string;
  first_event_id: string;
  last_at: string;
  last_event_id: string;
  /** Up to FINDING_SAMPLES sample keys (sampleKey), ascending. */
  samples: string[];
}

export type CostRow = CostKey & CostCounts;

/**
 * What one record adds to its cost row. Plain data (it crosses a worker boundary); `amount` is
 * the record's cost.amount where the row sums it, else null, and `tokens` then its tokens.
 */
export interface CostFact {
  keyText: string;
  amount: string | null;
  tokens: number;
}

/** The record columns the key reads (record-columns.ts computes them once per record). */
export interface CostColumns {
  resolved_model: string | undefined;
  provider: string | undefined;
  fallback_used: string | undefined;
  outcome_status: string;
  signals: readonly Signal[];
}

const PRICE_WORDS = /price|cheap|cost/i;

export function costKeyOf(r: CanonicalRecord, q: CostColumns): CostKey {
  const signals = q.signals;
  const cached = signals.includes('cache_hit');
  const resolved = q.resolved_model ?? null;
  const provider = q.provider ?? null;
  const primary =
    resolved !== null && q.fallback_used !== 'true' && !cached && !signals.includes('silent_substitution');
  const items = r.attempts?.items ?? [];
  const first = items[0];
  const routing = r.routing;
  const reason = [routing?.reason, routing?.rule_id].filter((x) => x !== undefined).join(' ');
  const providers: string[] = [];
  for (const a of items) if (a.provider !== undefined && !providers.includes(a.provider)) providers.push(a.provider);
  if (provider !== null && !providers.includes(provider)) providers.push(provider);
  const bad =
    q.outcome_status !== 'success' ||
    (r.retries ?? 0) > 0 ||
    (items.length > 1 && (resolved !== (first.model ?? null) || provider !== (first.provider ?? null)));
  return {
    hour: hourOf(r.occurred_at),
    tenant_id: r.tenant_id,
    requested_model: r.requested_model,
    provider,
    resolved_model: resolved,
    version: primary ? (r.model_version?.version ?? r.model_version?.deployment_id ?? null) : null,
    currency: primary ? (r.cost?.currency ?? null) : null,
    objective: primary ? (routing?.objective ?? null) : null,
    category: cached ? null : (r.task?.category ?? '(none)'),
    first_provider: cached ? null : (first?.provider ?? provider),
    first_model: cached ? null : (first?.model ?? resolved),
    is_primary: primary,
    cached,
    bad: !cached && bad,
    price_driven: PRICE_WORDS.test(reason),
    providers: providers.length > 1 ? providers.sort() : providers,
  };
}

/**
 * CostKey's members in the order of its text form (checked by the compiler to be each member
 * exactly once; the order must not change: stored rows are keyed by a hash of the text).
 */
const COST_KEY_MEMBERS = Object.keys({
  hour: 0,
  tenant_id: 0,
  requested_model: 0,
  provider: 0,
  resolved_model: 0,
  version: 0,
  currency: 0,
  objective: 0,
  category: 0,
  first_provider: 0,
  first_model: 0,
  is_primary: 0,
  cached: 0,
  bad: 0,
  price_driven: 0,
  providers: 0,
} satisfies Record<keyof CostKey, 0>) as Array<keyof CostKey>;

const COST_KEY_TEXT = keyTextOf<CostKey>(COST_KEY_MEMBERS);

/** A stable text form of a key (member order fixed). */
export function costKeyText(k: CostKey): string {
  return COST_KEY_TEXT.text(k);
}

export function costKeyFromText(text: string): CostKey {
  return COST_KEY_TEXT.fromText(text);
}

export function costFactOf(r: CanonicalRecord, q: CostColumns): CostFact {
  const key = costKeyOf(r, q);
  const priced = key.is_primary && key.provider !== null && r.cost !== undefined;
  return {
    keyText: costKeyText(key),
    amount: priced ? r.cost!.amount : null,
    tokens: priced ? (r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0) : 0,
  };
}

interface Group extends SpanAccumulator {
  requests: number;
  /** The amounts' sum × 10^amountScale: a safe integer while it fits (no allocation per record), else `amountBig`. */
  amount: number;
  amountBig: bigint | null;
  amountScale: number;
  priced: boolean;
  tokens: number;
  /** The FINDING_SAMPLES smallest (µs, event id), ascending. */
  sampleUs: number[];
  sampleIds: string[];
}

/**
 * The cost rows of some records' facts, one per distinct key; `occurredAt` and `eventId` of
 * each record come beside its fact.
 */
export function summarizeCostFacts(
  facts: Iterable<{ fact: CostFact; occurredAt: string; eventId: string }>,
): CostRow[] {
  const rollup = new CostRollup();
  for (const { fact, occurredAt, eventId } of facts) rollup.add(fact, epochMicros(occurredAt), eventId);
  return rollup.rows();
}

/**
 * Cost rows accumulated record by record (as TrafficRollup: the caller gives each instant).
 * Samples are kept as the smallest few while going, not sorted at the end.
 */
export class CostRollup {
  private readonly groups = new Map<string, Group>();

  add(fact: CostFact, us: number, eventId: string): void {
    let g = this.groups.get(fact.keyText);
    if (!g) {
      g = {
        requests: 0,
        amount: 0,
        amountBig: null,
        amountScale: 0,
        priced: false,
        tokens: 0,
        firstUs: us,
        firstId: eventId,
        lastUs: us,
        lastId: eventId,
        sampleUs: [],
        sampleIds: [],
      };
      this.groups.set(fact.keyText, g);
    } else {
      extendSpan(g, us, eventId);
    }
    g.requests++;
    if (fact.amount !== null) {
      addAmount(g, fact.amount);
      g.priced = true;
      g.tokens += fact.tokens;
    }
    keepSmallest(g, us, eventId);
  }

  rows(): CostRow[] {
    const rows: CostRow[] = [];
    for (const [text, g] of this.groups) {
      // Onto the key object the text was parsed into: no spread of it (see TrafficRollup.rows).
      const row = costKeyFromText(text) as CostRow;
      row.requests = g.requests;
      row.amount_sum = g.priced ? numericText({ v: g.amountBig ?? BigInt(g.amount), scale: g.amountScale }) : null;
      row.priced_tokens = g.priced ? String(g.tokens) : null;
      row.first_at = isoMicrosOf(g.firstUs);
      row.first_event_id = g.firstId;
      row.last_at = isoMicrosOf(g.lastUs);
      row.last_event_id = g.lastId;
      row.samples = g.sampleUs.map((u, i) => sampleKey(u, g.sampleIds[i]));
      rows.push(row);
    }
    return rows;
  }
}

const POW10 = Array.from({ length: 37 }, (_, i) => 10 ** i);

/**
 * Adds a decimal text (the record schema's: -?digits(.digits)?, at most 18 + 18 digits) into the
 * group's sum exactly: as a scaled integer in a double while every step stays a safe integer
 * (amounts of a few significant digits: nearly always), else in a BigInt from then on.
 */
function addAmount(g: Group, d: string): void {
  const dot = d.indexOf('.');
  const scale = dot === -1 ? 0 : d.length - dot - 1;
  const digits = dot === -1 ? d : d.slice(0, dot) + d.slice(dot + 1);
  if (g.amountBig === null && digits.length <= 15) {
    let v = Number(digits);
    let sum = g.amount;
    if (scale > g.amountScale) sum *= POW10[scale - g.amountScale];
    else v *= POW10[g.amountScale - scale];
    if (Number.isSafeInteger(sum) && Number.isSafeInteger(v) && Number.isSafeInteger(sum + v)) {
      g.amount = sum + v;
      g.amountScale = Math.max(scale, g.amountScale);
      return;
    }
  }
  const acc = addDecimal({ v: g.amountBig ?? BigInt(g.amount), scale: g.amountScale }, { v: BigInt(digits), scale });
  g.amountBig = acc.v;
  g.amountScale = acc.scale;
}

/** Inserts (us, id) into the group's ascending samples if among the FINDING_SAMPLES smallest. */
function keepSmallest(g: Group, us: number, id: string): void {
  const n = g.sampleUs.length;
  if (n === FINDING_SAMPLES && (us > g.sampleUs[n - 1] || (us === g.sampleUs[n - 1] && id >= g.sampleIds[n - 1])))
    return;
  let i = n;
  while (i > 0 && (us < g.sampleUs[i - 1] || (us === g.sampleUs[i - 1] && id < g.sampleIds[i - 1]))) i--;
  g.sampleUs.splice(i, 0, us);
  g.sampleIds.splice(i, 0, id);
  if (n === FINDING_SAMPLES) {
    g.sampleUs.pop();
    g.sampleIds.pop();
  }
}

export function summarizeCostRecords(records: Iterable<CanonicalRecord>, columns: (r: CanonicalRecord) => CostColumns) {
  const facts = [];
  for (const r of records)
    facts.push({ fact: costFactOf(r, columns(r)), occurredAt: r.occurred_at, eventId: r.event_id });
  return summarizeCostFacts(facts);
}

/** Rows merged by key (e.g. the stored rows of several shards). */
export function mergeCostRows(rows: Iterable<CostRow>): CostRow[] {
  const out = new Map<string, CostRow>();
  const orNull = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : sumDecimalTexts(a, b));
  for (const r of rows) {
    const text = costKeyText(r);
    const have = out.get(text);
    if (!have) {
      out.set(text, { ...r, samples: [...r.samples] });
      continue;
    }
    have.requests += r.requests;
    have.amount_sum = orNull(have.amount_sum, r.amount_sum);
    have.priced_tokens = orNull(have.priced_tokens, r.priced_tokens);
    mergeSpan(have, r);
    have.samples = [...have.samples, ...r.samples]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, FINDING_SAMPLES);
  }
  return [...out.values()];
}
