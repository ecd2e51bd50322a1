/**
 * The rows the ledger writes to `records`, encoded for COPY exactly as
 * LedgerAppendRepository.insertRecords encodes them (same columns, same copyLine), with
 * ledger positions and hashes made up beforehand: the raw ceiling writes the same bytes the
 * pipeline writes, with none of the work that computes them.
 */
import { copyLine } from '../../src/database/copy-text.js';
import { deriveSignals } from '../../src/domain/record/derive-signals.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { sha256 } from './env.js';

export const RECORD_COLUMNS = `event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, content_sha256,
  occurred_at, received_at, request_id, trace_id, gateway_id, requested_model, resolved_model, provider,
  region_served, fallback_used, cache_status, outcome_status, signals, record, kafka_topic, kafka_partition, kafka_offset`;

/** One COPY text line for `record` as if stored at (shard, leaf) from (topic, partition, offset). */
export function recordCopyLine(record: CanonicalRecord, wire: Buffer, pos: { shard: number; leaf: number; topic: string; offset: number }): string {
  const receivedAt = new Date().toISOString();
  const stored: CanonicalRecord = {
    ...record,
    received_at: receivedAt,
    source: { ...record.source, format: 'native', adapter_version: 'native/1', raw_sha256: sha256(wire).toString('hex'), topic: pos.topic, partition: pos.shard, offset: String(pos.offset) } as CanonicalRecord['source'],
  };
  const r = stored;
  return copyLine([
    r.event_id, pos.shard, pos.leaf, r.tenant_id, pos.leaf, pos.leaf === 0 ? null : sha256(`prev ${pos.leaf}`), sha256(`leaf ${pos.leaf}`), sha256(wire),
    r.occurred_at, receivedAt, r.request_id, r.trace_id, r.gateway.id, r.requested_model,
    r.resolved_model?.value, r.provider, r.region?.served,
    r.fallback_used === undefined ? null : String(r.fallback_used), r.cache?.status, r.outcome.status,
    deriveSignals(r), JSON.stringify(r), r.source.topic, r.source.partition, r.source.offset,
  ]);
}
