import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import type { SummaryFact } from '../domain/summary/traffic-summary.js';
import type { FindingFact } from '../domain/summary/finding-summary.js';
import type { CostFact } from '../domain/summary/cost-summary.js';
import type { CopyValue } from '../database/copy-text.js';

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

/**
 * A decoded record already turned into everything its append needs (prepareRecord): the
 * canonical text, the content hash, the query columns and its summary fact. The append never
 * reads the record object itself, so the work that needs it can run elsewhere — a decode
 * worker thread hands these over as plain data.
 */
export interface PreparedRecord {
  kind: 'prepared';
  offset: string;
  eventId: string;
  tenantId: string;
  /** canonicalJson(record): embedded in the leaf, stored as is. */
  json: string;
  /** contentHash(record): the deduplication key. */
  contentSha256: Buffer;
  /** The record's query columns, in QUERY_COLUMN_NAMES order (record-columns.ts). */
  queryValues: CopyValue[];
  summary: SummaryFact;
  /** Its finding summary key (finding-summary.ts); instant and event id are the summary fact's. */
  findings: FindingFact;
  /** Its cost summary fact (cost-summary.ts); instant and event id are the summary fact's. */
  costs: CostFact;
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

export type DecodedItem = DecodedRecord | PreparedRecord | Poison;
