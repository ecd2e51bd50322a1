/**
 * The rows the ledger writes to `records`, encoded for COPY exactly as
 * LedgerAppendRepository.insertRecords encodes them (src/ledger/record-columns.ts
 * recordCopyValues, same columns, the same binary tuples, the record's canonical bytes), with ledger
 * positions and hashes made up beforehand: the raw ceiling writes the same bytes the pipeline
 * writes, with none of the work that computes them.
 */
import { binaryCopyTuple } from '../../src/database/copy-binary.js';
import type { CopyValue } from '../../src/database/copy-text.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { RECORD_ROW_TYPE_LIST, recordCopyValues } from '../../src/ledger/record-columns.js';
import type { PreparedRecord } from '../../src/ledger/ledger-input.js';
import { prepareRecord } from '../../src/ledger/prepare-record.js';
import { sha256 } from './env.js';

/**
 * One COPY binary tuple for `record` as if stored at (shard, leaf) from (topic, partition, offset);
 * a body puts BINARY_COPY_HEADER before a run of them and BINARY_COPY_TRAILER after.
 */
export function recordCopyTuple(
  record: CanonicalRecord,
  wire: Buffer,
  pos: { shard: number; leaf: number; topic: string; offset: number },
): Buffer {
  return recordCopyRow(record, wire, pos).tuple;
}

/**
 * recordCopyTuple and the stored record's prepared form (its summary and finding facts, as the
 * append takes them for the summaries). The content hash is the append's: the SHA-256 of the
 * record's canonical content form (prepareRecord), so a seeded row is what the append would store
 * for that record apart from its made-up ledger position, tenant chain link and leaf hash.
 */
export function recordCopyRow(
  record: CanonicalRecord,
  wire: Buffer,
  pos: { shard: number; leaf: number; topic: string; offset: number },
): { tuple: Buffer; prepared: PreparedRecord } {
  const { values, prepared } = recordRowValues(record, wire, pos);
  return { tuple: binaryCopyTuple(values, RECORD_ROW_TYPE_LIST), prepared };
}

/** The `records` row values of recordCopyRow (recordCopyValues), before any COPY encoding. */
export function recordRowValues(
  record: CanonicalRecord,
  wire: Buffer,
  pos: { shard: number; leaf: number; topic: string; offset: number },
): { values: CopyValue[]; prepared: PreparedRecord } {
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
  const values = recordCopyValues({
    position: {
      shard: pos.shard,
      index: pos.leaf,
      tenant_id: stored.tenant_id,
      tenant_seq: pos.leaf,
      tenant_prev: pos.leaf === 0 ? null : sha256(`prev ${pos.leaf}`).toString('hex'),
    },
    record: prepared,
    leafHash: sha256(`leaf ${pos.leaf}`),
  });
  return { values, prepared };
}
