import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import { appendLeaves } from '../domain/merkle/append.js';
import type { NodeId } from '../domain/merkle/append.js';
import { leafHash } from '../domain/merkle/hasher.js';
import {
  ledgerEntryBytesWithRecordJson,
  type CanonicalRecordForm,
  type LedgerEntry,
} from '../domain/ledger-entry/ledger-entry.js';

/**
 * Pure planning of one batch's append to a shard: given the shard's head and the heads of
 * the tenants in the batch, it returns every row to write. The repository writes them in
 * one transaction; nothing here touches the database (tessera's integrate, in spirit).
 */

export interface ShardHead {
  shard: number;
  treeSize: number;
  frontier: Buffer[];
}

export interface TenantHead {
  nextSeq: number;
  lastLeafHash: Buffer;
}

/** A record to append, canonicalized once (canonicalRecordForm). */
export interface FormedRecord {
  record: CanonicalRecord;
  form: CanonicalRecordForm;
}

export interface PlannedEntry {
  record: CanonicalRecord;
  /** canonicalJson(record): embedded in the leaf, stored as is. */
  recordJson: string;
  contentSha256: Buffer;
  entry: LedgerEntry;
  leafHash: Buffer;
}

export interface AppendPlan {
  entries: PlannedEntry[];
  nodes: Array<NodeId & { hash: Buffer }>;
  head: ShardHead & { root: Buffer };
  /** Only the tenants this batch touched, with their new heads. */
  tenantHeads: Map<string, TenantHead>;
}

/**
 * Precondition: `records` are new to the ledger (not yet stored, no duplicate event_id) and
 * in the order they must appear in the log.
 */
export function planAppend(
  head: ShardHead,
  tenantHeads: ReadonlyMap<string, TenantHead>,
  records: FormedRecord[],
): AppendPlan {
  const touched = new Map<string, TenantHead>();
  const entries: PlannedEntry[] = records.map(({ record, form }, i) => {
    const tenant = touched.get(record.tenant_id) ?? tenantHeads.get(record.tenant_id);
    const entry: LedgerEntry = {
      v: 1,
      shard: head.shard,
      index: head.treeSize + i,
      tenant_id: record.tenant_id,
      tenant_seq: tenant?.nextSeq ?? 0,
      tenant_prev: tenant ? tenant.lastLeafHash.toString('hex') : null,
      record,
    };
    const hash = leafHash(ledgerEntryBytesWithRecordJson(entry, form.json));
    touched.set(record.tenant_id, { nextSeq: entry.tenant_seq + 1, lastLeafHash: hash });
    return { record, recordJson: form.json, contentSha256: form.contentSha256, entry, leafHash: hash };
  });
  const appended = appendLeaves(
    { treeSize: head.treeSize, frontier: head.frontier },
    entries.map((e) => e.leafHash),
  );
  return {
    entries,
    nodes: appended.nodes,
    head: { shard: head.shard, treeSize: appended.treeSize, frontier: appended.frontier, root: appended.root },
    tenantHeads: touched,
  };
}
