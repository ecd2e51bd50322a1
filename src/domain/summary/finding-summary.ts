/**
 * Per-hour finding summaries: what alias history and the signal and coverage findings read
 * instead of every record of their window.
 *
 * One row per hour × what those answers group or filter by: tenant, gateway (and its kind),
 * requested alias, served provider/model/version, fallback, whether a loadbalance strategy
 * routed it, and the signals the findings test. What only a flagged record needs is kept on
 * flagged rows only, so ordinary traffic stays a few rows per alias and hour: the first
 * attempted target and the disclosure notice (silent_substitution), the served and required
 * regions (residency_violation), the required checks that did not run (policy_bypass).
 *
 * Values: the request count, the first and the last record by (occurred_at, event_id), and on
 * flagged rows the five earliest event ids (findings list them as samples). All merge exactly
 * whatever the order of the records: counts add, first/last are a min/max, samples are the
 * five smallest of the union.
 */
import { keyTextOf } from './key-text.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import { deriveSignals, type Signal } from '../record/derive-signals.js';
import { epochMicros, periodStartText } from './traffic-summary.js';
import { extendSpan, mergeSpan, type SpanAccumulator } from './record-span.js';

/** Signals a finding summary keys on, in deriveSignals order. */
export const FINDING_SIGNALS = [
  'silent_substitution',
  'residency_violation',
  'policy_bypass',
  'cache_hit',
  'unknown_attempts',
  'missing_version',
  'missing_region',
] as const satisfies readonly Signal[];

/** Flagged rows keep this many of their earliest event ids. */
export const FINDING_SAMPLES = 5;

export interface FindingKey {
  /** Start of the hour, ISO 8601 UTC with milliseconds. */
  hour: string;
  tenant_id: string;
  gateway_id: string;
  /** gateway.kind, 'unknown' when not said. */
  gateway_kind: string;
  requested_model: string;
  provider: string | null;
  resolved_model: string | null;
  /** model_version.version, else model_version.deployment_id. */
  version: string | null;
  /** As the records column holds it: 'true', 'false', 'unknown', or null when not said. */
  fallback_used: string | null;
  /** routing.strategy = loadbalance; null when no strategy is said. */
  load_balanced: boolean | null;
  /** The record's signals among FINDING_SIGNALS. */
  signals: string[];
  /** silent_substitution rows only: the first attempt's provider and model, and the notice. */
  first_provider: string | null;
  first_model: string | null;
  notice: string | null;
  /** residency_violation rows only. */
  region_served: string | null;
  region_required: string[] | null;
  /** policy_bypass rows only: [name, result] of each required check skipped or errored, in order. */
  bypassed_checks: Array<[string | null, string]> | null;
}

export interface FindingCounts {
  requests: number;
  first_at: string;
  first_event_id: string;
  last_at: string;
  last_event_id: string;
  /** Flagged rows: up to FINDING_SAMPLES sample keys (sampleKey), ascending. Others: empty. */
  samples: string[];
}

export type FindingRow = FindingKey & FindingCounts;

/** What one record adds to its finding row. Plain data (it crosses a worker boundary). */
export interface FindingFact {
  keyText: string;
}

const FLAGGED: readonly string[] = ['silent_substitution', 'residency_violation', 'policy_bypass'];

export function isFlagged(signals: readonly string[]): boolean {
  return signals.some((s) => FLAGGED.includes(s));
}

export function findingKeyOf(r: CanonicalRecord, allSignals: readonly Signal[] = deriveSignals(r)): FindingKey {
  const signals = FINDING_SIGNALS.filter((s) => allSignals.includes(s));
  const silent = signals.includes('silent_substitution');
  const residency = signals.includes('residency_violation');
  const bypass = signals.includes('policy_bypass');
  const first = r.attempts?.items?.[0];
  const notice = r.disclosure?.model_substituted_notice;
  const strategy = r.routing?.strategy;
  return {
    hour: hourOf(r.occurred_at),
    tenant_id: r.tenant_id,
    gateway_id: r.gateway.id,
    gateway_kind: r.gateway.kind ?? 'unknown',
    requested_model: r.requested_model,
    provider: r.provider ?? null,
    resolved_model: r.resolved_model?.value ?? null,
    version: r.model_version?.version ?? r.model_version?.deployment_id ?? null,
    fallback_used: r.fallback_used === undefined ? null : String(r.fallback_used),
    load_balanced: strategy === undefined ? null : strategy === 'loadbalance',
    signals,
    first_provider: silent ? (first?.provider ?? null) : null,
    first_model: silent ? (first?.model ?? null) : null,
    notice: silent && notice !== undefined ? String(notice) : null,
    region_served: residency ? (r.region?.served ?? null) : null,
    region_required: residency ? (r.region?.required ?? null) : null,
    bypassed_checks: bypass
      ? (r.policy_checks ?? [])
          .filter((c) => c.required === true && (c.result === 'skipped' || c.result === 'error'))
          .map((c): [string | null, string] => [c.name ?? null, c.result])
      : null,
  };
}

/**
 * FindingKey's members in the order of its text form. Listed as an object so that the compiler
 * checks each member is there exactly once; the order must not change (stored rows are keyed by
 * a hash of the text).
 */
const FINDING_KEY_MEMBERS = Object.keys({
  hour: 0,
  tenant_id: 0,
  gateway_id: 0,
  gateway_kind: 0,
  requested_model: 0,
  provider: 0,
  resolved_model: 0,
  version: 0,
  fallback_used: 0,
  load_balanced: 0,
  signals: 0,
  first_provider: 0,
  first_model: 0,
  notice: 0,
  region_served: 0,
  region_required: 0,
  bypassed_checks: 0,
} satisfies Record<keyof FindingKey, 0>) as Array<keyof FindingKey>;

const FINDING_KEY_TEXT = keyTextOf<FindingKey>(FINDING_KEY_MEMBERS);

/** A stable text form of a key (member order fixed). */
export function findingKeyText(k: FindingKey): string {
  return FINDING_KEY_TEXT.text(k);
}

export function findingKeyFromText(text: string): FindingKey {
  return FINDING_KEY_TEXT.fromText(text);
}

export function findingFactOf(r: CanonicalRecord, signals?: readonly Signal[]): FindingFact {
  return { keyText: findingKeyText(findingKeyOf(r, signals)) };
}

const hourText = periodStartText(3_600_000);

export function hourOf(timestamp: string): string {
  return hourText(Date.parse(timestamp));
}

/** RFC 3339 UTC with exactly six fractional digits, from µs since the epoch (fixed width: sorts as text). */
export function isoMicrosOf(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/**
 * A sample as stored: the instant (fixed width) and the event id, so that sorting the text
 * (byte order, COLLATE "C") sorts by (occurred_at, event_id).
 */
export function sampleKey(us: number, eventId: string): string {
  return `${isoMicrosOf(us)} ${eventId}`;
}

/** The event id of a sample key. */
export function sampleEventId(sample: string): string {
  return sample.slice(sample.indexOf(' ') + 1);
}

/**
 * The finding rows of some records' facts, one per distinct key. `at` and `eventId` of each
 * record come beside its fact (the traffic summary's fact carries them already).
 */
export function summarizeFindingFacts(
  facts: Iterable<{ fact: FindingFact; occurredAt: string; eventId: string }>,
): FindingRow[] {
  const rollup = new FindingRollup();
  for (const { fact, occurredAt, eventId } of facts) rollup.add(fact, epochMicros(occurredAt), eventId);
  return rollup.rows();
}

interface FindingGroup extends SpanAccumulator {
  /** The key, parsed once when the group is made (whether it is flagged decides the samples). */
  key: FindingKey;
  requests: number;
  /** Flagged rows: every record's sample key (the smallest few are kept at the end). Others: null. */
  samples: string[] | null;
}

/** Finding rows accumulated record by record (as TrafficRollup: the caller gives each instant). */
export class FindingRollup {
  private readonly groups = new Map<string, FindingGroup>();

  add(fact: FindingFact, us: number, eventId: string): void {
    let g = this.groups.get(fact.keyText);
    if (!g) {
      const key = findingKeyFromText(fact.keyText);
      g = {
        key,
        requests: 0,
        firstUs: us,
        firstId: eventId,
        lastUs: us,
        lastId: eventId,
        samples: isFlagged(key.signals) ? [] : null,
      };
      this.groups.set(fact.keyText, g);
    } else {
      extendSpan(g, us, eventId);
    }
    g.requests++;
    if (g.samples) g.samples.push(sampleKey(us, eventId));
  }

  rows(): FindingRow[] {
    const rows: FindingRow[] = [];
    for (const g of this.groups.values()) {
      // Onto the group's own key object: no spread of it into a new one (see TrafficRollup.rows).
      const row = g.key as FindingRow;
      row.requests = g.requests;
      row.first_at = isoMicrosOf(g.firstUs);
      row.first_event_id = g.firstId;
      row.last_at = isoMicrosOf(g.lastUs);
      row.last_event_id = g.lastId;
      row.samples = g.samples ? smallest(g.samples) : [];
      rows.push(row);
    }
    return rows;
  }
}

export function summarizeFindingRecords(records: Iterable<CanonicalRecord>): FindingRow[] {
  const facts = [];
  for (const r of records) facts.push({ fact: findingFactOf(r), occurredAt: r.occurred_at, eventId: r.event_id });
  return summarizeFindingFacts(facts);
}

/** Rows merged by key (e.g. the stored rows of several shards). */
export function mergeFindingRows(rows: Iterable<FindingRow>): FindingRow[] {
  const out = new Map<string, FindingRow>();
  for (const r of rows) {
    const text = findingKeyText(r);
    const have = out.get(text);
    if (!have) {
      out.set(text, { ...r, samples: [...r.samples] });
      continue;
    }
    have.requests += r.requests;
    mergeSpan(have, r);
    have.samples = smallest([...have.samples, ...r.samples]);
  }
  return [...out.values()];
}

function smallest(samples: string[]): string[] {
  return samples.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, FINDING_SAMPLES);
}
