import { appendLeaves } from '../domain/merkle/append.js';
import type { NodeId } from '../domain/merkle/append.js';
import { ledgerEntryLeafHashWithRecordJson, type EntryPosition } from '../domain/ledger-entry/ledger-entry.js';
import type { PreparedRecord } from './ledger-input.js';

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

/** What planning reads of a prepared record. */
export type PlannableRecord = Pick<
  PreparedRecord,
  'eventId' | 'tenantId' | 'json' | 'contentSha256' | 'queryValues' | 'summary' | 'findings' | 'costs'
>;

export interface PlannedEntry {
  record: PlannableRecord;
  /** The entry around the record: its place in the shard and in its tenant's chain. */
  position: EntryPosition;
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
  records: PlannableRecord[],
): AppendPlan {
  const touched = new Map<string, TenantHead>();
  const entries: PlannedEntry[] = records.map((record, i) => {
    const tenant = touched.get(record.tenantId) ?? tenantHeads.get(record.tenantId);
    const position: EntryPosition = {
      shard: head.shard,
      index: head.treeSize + i,
      tenant_id: record.tenantId,
      tenant_seq: tenant?.nextSeq ?? 0,
      tenant_prev: tenant ? tenant.lastLeafHash.toString('hex') : null,
    };
    const hash = ledgerEntryLeafHashWithRecordJson(position, record.json);
    touched.set(record.tenantId, { nextSeq: position.tenant_seq + 1, lastLeafHash: hash });
    return { record, position, leafHash: hash };
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
