import { canonicalRecordForm } from '../domain/ledger-entry/ledger-entry.js';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import { summaryFactOf } from '../domain/summary/traffic-summary.js';
import { findingFactOf } from '../domain/summary/finding-summary.js';
import { costFactOf } from '../domain/summary/cost-summary.js';
import type { DecodedItem, PreparedRecord } from './ledger-input.js';
import { QUERY_COLUMN_NAMES, queryColumns } from './record-columns.js';

/**
 * Everything the append needs from one record, computed from ONE canonicalization
 * (canonicalRecordForm): no NestJS, no I/O, so a decode worker thread runs it beside decoding.
 * Throws what canonicalRecordForm throws for a record without a canonical form.
 */
export function prepareRecord(offset: string, record: CanonicalRecord): PreparedRecord {
  const form = canonicalRecordForm(record);
  const q = queryColumns(record);
  return {
    kind: 'prepared',
    offset,
    eventId: record.event_id,
    tenantId: record.tenant_id,
    json: form.json,
    contentSha256: form.contentSha256,
    queryValues: QUERY_COLUMN_NAMES.map((c) => q[c]),
    summary: summaryFactOf(record),
    findings: findingFactOf(record, q.signals),
    costs: costFactOf(record, q),
  };
}

/** The items with every record prepared (poison and prepared items as they are). */
export function prepareItems(items: DecodedItem[]): Array<Exclude<DecodedItem, { kind: 'record' }>> {
  return items.map((item) => (item.kind === 'record' ? prepareRecord(item.offset, item.record) : item));
}
