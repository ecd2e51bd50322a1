/**
 * The rows the ledger writes to `records`, encoded for COPY exactly as
 * LedgerAppendRepository.insertRecords encodes them (src/ledger/record-columns.ts
 * recordCopyValues, same columns, same copyLine, the record's canonical bytes), with ledger
 * positions and hashes made up beforehand: the raw ceiling writes the same bytes the pipeline
 * writes, with none of the work that computes them.
 */
import { copyLine } from '../../src/database/copy-text.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { RECORD_ROW_COLUMNS, recordCopyValues } from '../../src/ledger/record-columns.js';
import type { PreparedRecord } from '../../src/ledger/ledger-input.js';
import { prepareRecord } from '../../src/ledger/prepare-record.js';
import { sha256 } from './env.js';

export const RECORD_COLUMNS = RECORD_ROW_COLUMNS.join(', ');

/** One COPY text line for `record` as if stored at (shard, leaf) from (topic, partition, offset). */
export function recordCopyLine(
  record: CanonicalRecord,
  wire: Buffer,
  pos: { shard: number; leaf: number; topic: string; offset: number },
): string {
  return recordCopyRow(record, wire, pos).line;
}

/**
 * recordCopyLine and the stored record's prepared form (its summary and finding facts, as the
 * append takes them for the summaries). The content hash is the append's: the SHA-256 of the
 * record's canonical content form (prepareRecord), so a seeded row is what the append would store
 * for that record apart from its made-up ledger position, tenant chain link and leaf hash.
 */
export function recordCopyRow(
  record: CanonicalRecord,
  wire: Buffer,
  pos: { shard: number; leaf: number; topic: string; offset: number },
): { line: string; prepared: PreparedRecord } {
  const receivedAt = new Date().toISOString();
  const stored: CanonicalRecord = {
    ...record,
    received_at: receivedAt,
    source: {
      ...record.source,
      format: 'native',
      adapter_version: 'native/1',
      raw_sha256: sha256(wire).toString('hex'),
      topic: pos.topic,
      partition: pos.shard,
      offset: String(pos.offset),
    } as CanonicalRecord['source'],
  };
  const prepared = prepareRecord(String(pos.offset), stored);
  const line = copyLine(
    recordCopyValues({
      position: {
        shard: pos.shard,
        index: pos.leaf,
        tenant_id: stored.tenant_id,
        tenant_seq: pos.leaf,
        tenant_prev: pos.leaf === 0 ? null : sha256(`prev ${pos.leaf}`).toString('hex'),
      },
      record: prepared,
      leafHash: sha256(`leaf ${pos.leaf}`),
    }),
  );
  return { line, prepared };
}
