import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import { deriveSignals, type Signal } from '../domain/record/derive-signals.js';
import type { EntryPosition } from '../domain/ledger-entry/ledger-entry.js';
import type { CopyValue } from '../database/copy-text.js';
import type { BinaryColumnType } from '../database/copy-binary.js';

/**
 * The `records` columns copied out of the record so that queries can filter and index them
 * (tenant/provider/model and time, request and trace ids, findings' signals). They are not part
 * of any leaf hash: the record is. Full verification checks that every stored row still
 * equals what its signed record says — otherwise a superuser could change what a query answers
 * without touching a hash. The one place that maps a record to its `records` row: the append
 * repository and the bench's ceiling both write rows through recordCopyValues.
 */
export interface QueryColumns {
  occurred_at: string;
  received_at: string;
  request_id: string;
  trace_id: string | undefined;
  gateway_id: string;
  requested_model: string;
  resolved_model: string | undefined;
  provider: string | undefined;
  region_served: string | undefined;
  fallback_used: string | undefined;
  cache_status: string | undefined;
  outcome_status: string;
  signals: Signal[];
  kafka_topic: string | undefined;
  kafka_partition: number | undefined;
  kafka_offset: string | undefined;
}

export const QUERY_COLUMN_NAMES = [
  'occurred_at',
  'received_at',
  'request_id',
  'trace_id',
  'gateway_id',
  'requested_model',
  'resolved_model',
  'provider',
  'region_served',
  'fallback_used',
  'cache_status',
  'outcome_status',
  'signals',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
] as const satisfies ReadonlyArray<keyof QueryColumns>;

export function queryColumns(r: CanonicalRecord): QueryColumns {
  return {
    occurred_at: r.occurred_at,
    received_at: r.received_at ?? r.occurred_at,
    request_id: r.request_id,
    trace_id: r.trace_id,
    gateway_id: r.gateway.id,
    requested_model: r.requested_model,
    resolved_model: r.resolved_model?.value,
    provider: r.provider,
    region_served: r.region?.served,
    fallback_used: r.fallback_used === undefined ? undefined : String(r.fallback_used),
    cache_status: r.cache?.status,
    outcome_status: r.outcome.status,
    signals: deriveSignals(r),
    kafka_topic: r.source.topic,
    kafka_partition: r.source.partition,
    kafka_offset: r.source.offset,
  };
}

/**
 * The first column whose stored value differs from the record's, or undefined. Values are
 * compared in one normal form: timestamps as instants, numbers and bigints as decimal text,
 * arrays element by element, null and absent alike.
 */
export function columnMismatch(
  record: CanonicalRecord,
  stored: Record<string, unknown>,
): { column: string; stored: string; expected: string } | undefined {
  let expected: QueryColumns;
  try {
    expected = queryColumns(record);
  } catch (e) {
    return { column: 'record', stored: 'a record without the required members', expected: (e as Error).message };
  }
  for (const column of QUERY_COLUMN_NAMES) {
    const isTime = column === 'occurred_at' || column === 'received_at';
    const want = normal(expected[column], isTime);
    const got = normal(stored[column], isTime);
    if (want !== got) return { column, stored: got ?? 'NULL', expected: want ?? 'NULL' };
  }
  return undefined;
}

function normal(v: unknown, isTime: boolean): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (isTime) {
    const t = v instanceof Date ? v.getTime() : Date.parse(String(v));
    return Number.isNaN(t) ? `invalid time ${String(v)}` : new Date(t).toISOString();
  }
  if (Array.isArray(v)) return JSON.stringify(v.map(String));
  return String(v);
}

/** One appended record: what its `records` row is made of. */
export interface RecordRowSource {
  position: EntryPosition;
  record: {
    eventId: string;
    /** canonicalJson(record): the bytes the leaf embeds, stored as they are. */
    json: string;
    contentSha256: Buffer;
    /** queryColumns(record) in QUERY_COLUMN_NAMES order. */
    queryValues: CopyValue[];
  };
  leafHash: Buffer;
}

/** The `records` columns, in the order recordCopyValues gives their values. */
export const RECORD_ROW_COLUMNS = [
  'event_id',
  'shard',
  'leaf_index',
  'tenant_id',
  'tenant_seq',
  'tenant_prev',
  'leaf_hash',
  'content_sha256',
  ...QUERY_COLUMN_NAMES,
  'record',
] as const;

/**
 * The type of each RECORD_ROW_COLUMNS column, as the migrations create it: COPY's binary format
 * sends every field in its type's own form (src/database/copy-binary.ts). A test holds this list
 * equal to the `records` table's columns.
 */
export const RECORD_ROW_TYPES: Readonly<Record<(typeof RECORD_ROW_COLUMNS)[number], BinaryColumnType>> = {
  event_id: 'text',
  shard: 'int4',
  leaf_index: 'int8',
  tenant_id: 'text',
  tenant_seq: 'int8',
  tenant_prev: 'bytea',
  leaf_hash: 'bytea',
  content_sha256: 'bytea',
  occurred_at: 'timestamptz',
  received_at: 'timestamptz',
  request_id: 'text',
  trace_id: 'text',
  gateway_id: 'text',
  requested_model: 'text',
  resolved_model: 'text',
  provider: 'text',
  region_served: 'text',
  fallback_used: 'text',
  cache_status: 'text',
  outcome_status: 'text',
  signals: 'text[]',
  kafka_topic: 'text',
  kafka_partition: 'int4',
  kafka_offset: 'int8',
  record: 'text',
};

/** RECORD_ROW_TYPES in RECORD_ROW_COLUMNS order. */
export const RECORD_ROW_TYPE_LIST: readonly BinaryColumnType[] = RECORD_ROW_COLUMNS.map((c) => RECORD_ROW_TYPES[c]);

/** The statement that COPYs `records` rows in binary, in RECORD_ROW_COLUMNS order, into `table`. */
export function recordsCopySql(table = 'records'): string {
  return `COPY ${table} (${RECORD_ROW_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`;
}

/** The values of one `records` row for COPY, in RECORD_ROW_COLUMNS order. */
export function recordCopyValues(row: RecordRowSource): CopyValue[] {
  const { position, record } = row;
  return [
    record.eventId,
    position.shard,
    position.index,
    position.tenant_id,
    position.tenant_seq,
    position.tenant_prev === null ? null : Buffer.from(position.tenant_prev, 'hex'),
    row.leafHash,
    record.contentSha256,
    ...record.queryValues,
    record.json,
  ];
}
