import type { CanonicalRecord } from '../domain/record/canonical-record.js';

/**
 * What the ledger appends: one Kafka batch (or one HTTP request) decoded into records and
 * poison, in offset order. The ingest side produces it (src/ingest/decode-batch.ts); the
 * ledger owns the contract, so the ledger depends on nothing in ingest.
 */

export interface DecodedRecord {
  kind: 'record';
  offset: string;
  /** A valid canonical v1 record (validateRecord passed), received_at and source stamped. */
  record: CanonicalRecord;
}

/** A message that is not a record: quarantined and dead-lettered with its reason. */
export interface Poison {
  kind: 'poison';
  offset: string;
  reasonCode: string;
  reason: string;
  /** The original bytes with secrets masked. */
  payload: Buffer;
  headers: Record<string, string | undefined>;
  eventId?: string;
}

export type DecodedItem = DecodedRecord | Poison;
