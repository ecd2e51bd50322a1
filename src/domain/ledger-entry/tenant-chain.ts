/**
 * One link of a tenant's chain (docs/ledger-format.md §10): an entry follows the tenant's
 * previous entry in the same shard when its tenant_seq is one more, its tenant_prev is that
 * entry's leaf hash, and it lies later in the log. Every verifier checks links here, so the
 * bundle verifier, the full ledger verification and verifyTenantChain name the same fault
 * with the same code.
 */
import type { LedgerEntry } from './ledger-entry.js';

/** What is wrong with a link, in the order the parts are checked. */
export type TenantChainFault =
  /** tenant_seq jumps forward: entries of the tenant are missing. */
  | 'SEQ_GAP'
  /** tenant_seq repeats or goes back: entries are duplicated or out of order. */
  | 'OUT_OF_ORDER'
  /** tenant_prev is not the leaf hash of the previous entry. */
  | 'PREV_MISMATCH'
  /** The entry does not lie after the previous one in the log. */
  | 'INDEX_NOT_INCREASING';

/** The entry a link points back to. */
export interface ChainPredecessor {
  tenant_seq: number;
  /** Lowercase hex leaf hash. */
  leaf_hash: string;
  index: number;
}

export interface TenantChainLinkBreak {
  code: TenantChainFault;
  expected: string;
  found: string;
  message: string;
}

export type ChainedEntry = Pick<LedgerEntry, 'tenant_id' | 'shard' | 'tenant_seq' | 'tenant_prev' | 'index'>;

/**
 * The first broken part of the link from `previous` to `entry` (tenant_seq, then tenant_prev,
 * then index), or null when it holds. `previous` null means `entry` starts the tenant's chain
 * in its shard: tenant_seq 0 and tenant_prev null.
 */
export function tenantChainLinkBreak(
  previous: ChainPredecessor | null,
  entry: ChainedEntry,
): TenantChainLinkBreak | null {
  return seqBreak(previous, entry) ?? prevBreak(previous, entry) ?? indexBreak(previous, entry);
}

function seqBreak(previous: ChainPredecessor | null, entry: ChainedEntry): TenantChainLinkBreak | null {
  const next = previous ? previous.tenant_seq + 1 : 0;
  if (entry.tenant_seq === next) return null;
  const seqs = { expected: `tenant_seq ${next}`, found: `tenant_seq ${entry.tenant_seq}` };
  const after = previous ? `after tenant_seq ${previous.tenant_seq}` : 'at the start of its chain';
  if (entry.tenant_seq > next) {
    const missing = entry.tenant_seq - next;
    const whose = `tenant ${entry.tenant_id} in shard ${entry.shard}`;
    return { code: 'SEQ_GAP', ...seqs, message: `${missing} record(s) of ${whose} are missing ${after}` };
  }
  const message = `tenant_seq ${entry.tenant_seq} comes ${after}: records are duplicated or out of order`;
  return { code: 'OUT_OF_ORDER', ...seqs, message };
}

function prevBreak(previous: ChainPredecessor | null, entry: ChainedEntry): TenantChainLinkBreak | null {
  const expected = previous ? previous.leaf_hash : null;
  if (entry.tenant_prev === expected) return null;
  const message = previous
    ? 'the record does not link to the previous record of the chain'
    : 'the first record of the chain links to nothing';
  return { code: 'PREV_MISMATCH', expected: `tenant_prev ${expected}`, found: `${entry.tenant_prev}`, message };
}

function indexBreak(previous: ChainPredecessor | null, entry: ChainedEntry): TenantChainLinkBreak | null {
  if (!previous || entry.index > previous.index) return null;
  const message = 'the chain goes backwards in the log';
  return { code: 'INDEX_NOT_INCREASING', expected: `index > ${previous.index}`, found: `${entry.index}`, message };
}
