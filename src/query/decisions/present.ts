import type { Attempt } from '../../domain/record/canonical-record.js';
import type { DecisionDetailRow, DecisionListRow, DecisionRow } from './decisions.repository.js';

/** Response shapes of the decision endpoints: column rows in, API JSON out. Pure. */

export function links(eventId: string) {
  const id = encodeURIComponent(eventId);
  return { self: `/v1/decisions/${id}`, explain: `/v1/decisions/${id}/explain`, receipt: `/v1/records/${id}/receipt` };
}

export function presentSummary(r: DecisionRow) {
  return {
    event_id: r.event_id,
    occurred_at: r.occurred_key,
    tenant_id: r.tenant_id,
    gateway_id: r.gateway_id,
    request_id: r.request_id,
    trace_id: r.trace_id,
    requested_model: r.requested_model,
    resolved_model: r.resolved_model,
    provider: r.provider,
    region_served: r.region_served,
    fallback_used:
      r.fallback_used === null ? null : r.fallback_used === 'unknown' ? 'unknown' : r.fallback_used === 'true',
    cache_status: r.cache_status,
    outcome_status: r.outcome_status,
    signals: r.signals,
    links: links(r.event_id),
  };
}

/** A list item: the summary and the attempt chain in brief (who was tried, where, with what result). */
export function presentListItem(r: DecisionListRow) {
  return {
    ...presentSummary(r),
    attempts: {
      completeness: r.attempts?.completeness ?? 'none',
      items: (r.attempts?.items ?? []).map((a) => ({
        index: a.index,
        provider: a.provider ?? null,
        model: a.model ?? null,
        region: a.region ?? null,
        status: a.status ?? null,
        error_class: a.error_class ?? null,
      })),
    },
  };
}

export function presentDetail(r: DecisionDetailRow) {
  return {
    ...presentSummary(r),
    received_at: r.received_key,
    ledger: { shard: r.shard, leaf_index: Number(r.leaf_index) },
    record: r.record,
  };
}

export interface ChainStep extends Attempt {
  event_id: string;
  occurred_at: string;
  /** Position in the whole chain of the request or trace, across events. */
  step: number;
}

/**
 * Every event of a request or trace, oldest first, and the attempt chain across them: a
 * gateway that retries at the client level emits one event per try, each with its own
 * attempts, and the responder wants them as one sequence.
 */
export function presentChain(rows: DecisionDetailRow[]) {
  const chain: ChainStep[] = [];
  for (const r of rows) {
    for (const a of r.record.attempts?.items ?? [])
      chain.push({ step: chain.length + 1, event_id: r.event_id, occurred_at: r.occurred_key, ...a });
  }
  const incomplete = rows.filter((r) => r.record.attempts?.completeness !== 'full').map((r) => r.event_id);
  return {
    tenant_ids: [...new Set(rows.map((r) => r.tenant_id))],
    events: rows.map((r) => ({
      ...presentSummary(r),
      attempts: r.record.attempts ?? { completeness: 'none' },
      routing: r.record.routing ?? null,
      outcome: r.record.outcome,
      latency: r.record.latency ?? null,
      cost: r.record.cost ?? null,
    })),
    attempt_chain: chain,
    /** Events whose gateway did not report every attempt: the chain may be missing steps there. */
    incomplete_chain_events: incomplete,
  };
}
