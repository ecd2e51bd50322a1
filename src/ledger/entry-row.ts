import type { LedgerEntry } from '../domain/ledger-entry/ledger-entry.js';

/** The stored columns a ledger entry is rebuilt from. */
export interface EntryDbRow {
  event_id: string;
  shard: number;
  leaf_index: string;
  tenant_id: string;
  tenant_seq: string;
  tenant_prev: Buffer | null;
  leaf_hash: Buffer;
  /** The record's canonical JSON as stored (text), or already parsed. */
  record: string | object;
}

/**
 * Rebuilds the ledger entry exactly as it was hashed, from the stored columns and record.
 * The one place that knows how a records row maps to a Merkle leaf input (verify, receipts
 * and exports all go through it).
 *
 * `parse: 'when-read'` parses a stored record text only when `record` is first read: the export
 * writes most entries from the stored text and never needs the object.
 */
export function entryFromRow(r: EntryDbRow, parse: 'now' | 'when-read' = 'now'): LedgerEntry {
  const entry = {
    v: 1 as const,
    shard: r.shard,
    index: Number(r.leaf_index),
    tenant_id: r.tenant_id,
    tenant_seq: Number(r.tenant_seq),
    tenant_prev: r.tenant_prev ? r.tenant_prev.toString('hex') : null,
  };
  const stored = r.record;
  if (typeof stored !== 'string') return { ...entry, record: stored };
  if (parse === 'now') return { ...entry, record: JSON.parse(stored) as object };
  let record: object | undefined;
  return Object.defineProperty(entry, 'record', {
    enumerable: true,
    get: () => (record ??= JSON.parse(stored) as object),
  }) as LedgerEntry;
}
