import { appendLeaves, rootFromFrontier } from '../merkle/append.js';
import { EMPTY_ROOT } from '../merkle/hasher.js';
import { verifyConsistency } from '../merkle/verifier.js';
import { ledgerEntryLeafHash, type LedgerEntry } from '../ledger-entry/ledger-entry.js';
import { tenantChainLinkBreak, type ChainPredecessor, type TenantChainFault } from '../ledger-entry/tenant-chain.js';
import type { StoredNode } from '../merkle/range.js';

/**
 * Full, incremental verification of one shard from its stored rows: feed entries in leaf
 * order and checkpoints as their tree size is reached. Recomputes every leaf hash, every
 * tree root and every tenant chain link; needs O(log n) memory plus one hash per tenant.
 * The caller supplies the checkpoint signature check, so this stays free of key handling.
 */

export type VerificationProblemCode =
  | 'LEAF_HASH_MISMATCH'
  | 'LEAF_INDEX_GAP'
  | 'ENTRY_MISPLACED'
  /** A broken tenant chain link: the same codes as the bundle verifier (tenant-chain.ts). */
  | TenantChainFault
  | 'ROOT_MISMATCH'
  | 'CHECKPOINT_SIGNATURE_INVALID'
  | 'CHECKPOINT_BEYOND_TREE'
  | 'CONSISTENCY_PROOF_INVALID'
  | 'NODE_MISMATCH'
  | 'HEAD_MISMATCH'
  /** A query column (records.provider, occurred_at, ...) differs from the signed record. */
  | 'COLUMN_MISMATCH'
  /** A record outside the shard's tree (beyond its size, or in a shard without a tree). */
  | 'STRAY_RECORD'
  /** A stored Merkle node the tree cannot have. */
  | 'STRAY_NODE'
  /** Records beyond the latest signed checkpoint: every append signs one, so nobody signed these. */
  | 'UNSIGNED_RECORDS';

export interface VerificationProblem {
  code: VerificationProblemCode;
  shard: number;
  leafIndex?: number;
  eventId?: string;
  message: string;
}

export interface StoredEntryRow {
  eventId: string;
  entry: LedgerEntry;
  /** The leaf hash the database holds for this record (records.leaf_hash). */
  storedLeafHash: Buffer;
}

export interface StoredCheckpoint {
  treeSize: number;
  rootHash: Buffer;
  jws: string;
  prevTreeSize: number | null;
  consistencyProof: Buffer[];
}

export class ShardVerifier {
  private treeSize = 0;
  private frontier: Buffer[] = [];
  /** Each tenant's last entry so far: what its next entry must link to. */
  private readonly tenants = new Map<string, ChainPredecessor>();
  private readonly roots = new Map<number, Buffer>();
  /** The first problem found per kind of check; verification continues to count the rest. */
  readonly problems: VerificationProblem[] = [];
  /** Nodes created by the last addEntries call, for the caller to compare with stored ones. */
  lastNodes: StoredNode[] = [];

  constructor(readonly shard: number) {}

  get size(): number {
    return this.treeSize;
  }

  get root(): Buffer {
    return this.treeSize === 0 ? EMPTY_ROOT : rootFromFrontier(this.frontier);
  }

  /** Precondition: rows are in ascending leaf index order, continuing from the last call. */
  addEntries(rows: StoredEntryRow[]): void {
    const hashes: Buffer[] = [];
    for (const row of rows) {
      const expectedIndex = this.treeSize + hashes.length;
      const { entry } = row;
      if (entry.index !== expectedIndex) {
        this.report({
          code: 'LEAF_INDEX_GAP',
          leafIndex: expectedIndex,
          eventId: row.eventId,
          message: `expected leaf ${expectedIndex}, found leaf ${entry.index} (event ${row.eventId}): a record is missing or was inserted out of order`,
        });
      }
      if (
        entry.shard !== this.shard ||
        (entry.record && (entry.record as { event_id?: string }).event_id !== row.eventId)
      ) {
        this.report({
          code: 'ENTRY_MISPLACED',
          leafIndex: entry.index,
          eventId: row.eventId,
          message: `record ${row.eventId} claims shard ${entry.shard}, stored in shard ${this.shard}`,
        });
      }
      let leaf: Buffer;
      try {
        leaf = ledgerEntryLeafHash(entry);
      } catch (e) {
        // A record edited into something no longer canonical-able is a changed record too.
        this.report({
          code: 'LEAF_HASH_MISMATCH',
          leafIndex: entry.index,
          eventId: row.eventId,
          message: `record ${row.eventId} at leaf ${entry.index} is no longer a valid entry: ${(e as Error).message}`,
        });
        leaf = Buffer.alloc(32);
      }
      if (!leaf.equals(row.storedLeafHash)) {
        this.report({
          code: 'LEAF_HASH_MISMATCH',
          leafIndex: entry.index,
          eventId: row.eventId,
          message: `record ${row.eventId} at leaf ${entry.index} hashes to ${leaf.toString('hex')}, but the ledger stored ${row.storedLeafHash.toString('hex')}: its content was changed after it was appended`,
        });
      }
      this.checkTenantLink(row, leaf);
      hashes.push(leaf);
    }
    const appended = appendLeaves({ treeSize: this.treeSize, frontier: this.frontier }, hashes);
    this.treeSize = appended.treeSize;
    this.frontier = appended.frontier;
    this.lastNodes = appended.nodes;
    this.roots.set(this.treeSize, appended.root);
  }

  /**
   * Checks a checkpoint whose tree size has been reached. `signatureOk` is the result of
   * verifying its JWS (and that the signed payload names this shard, size and root).
   */
  checkCheckpoint(cp: StoredCheckpoint, signature: { ok: true } | { ok: false; reason: string }): void {
    if (cp.treeSize > this.treeSize) {
      this.report({
        code: 'CHECKPOINT_BEYOND_TREE',
        leafIndex: this.treeSize,
        message: `checkpoint at tree size ${cp.treeSize} but the shard holds only ${this.treeSize} records: leaf ${this.treeSize} and after are missing`,
      });
      return;
    }
    if (!signature.ok)
      this.report({
        code: 'CHECKPOINT_SIGNATURE_INVALID',
        message: `checkpoint at tree size ${cp.treeSize}: ${signature.reason}`,
      });
    const root = this.roots.get(cp.treeSize);
    if (!root) {
      // The caller feeds rows in chunks ending at checkpoint sizes; missing rows shift the ends.
      this.report({
        code: 'ROOT_MISMATCH',
        message: `the recomputed tree never had size ${cp.treeSize}, the size of a signed checkpoint: records are missing`,
      });
    } else if (!root.equals(cp.rootHash)) {
      this.report({
        code: 'ROOT_MISMATCH',
        message: `recomputed root at tree size ${cp.treeSize} is ${root.toString('hex')}, the signed checkpoint says ${cp.rootHash.toString('hex')}`,
      });
    }
    if (cp.prevTreeSize !== null && cp.prevTreeSize > 0) {
      try {
        verifyConsistency(
          cp.prevTreeSize,
          cp.treeSize,
          cp.consistencyProof,
          this.roots.get(cp.prevTreeSize) ?? Buffer.alloc(32),
          cp.rootHash,
        );
      } catch (e) {
        this.report({
          code: 'CONSISTENCY_PROOF_INVALID',
          message: `consistency proof ${cp.prevTreeSize}→${cp.treeSize}: ${(e as Error).message}`,
        });
      }
    }
  }

  /** Keeps roots only at sizes still needed (checkpoint sizes); call with the sizes to keep. */
  forgetRootsExcept(keep: Set<number>): void {
    for (const size of this.roots.keys()) if (!keep.has(size)) this.roots.delete(size);
  }

  private checkTenantLink(row: StoredEntryRow, leaf: Buffer): void {
    const { entry } = row;
    const broken = tenantChainLinkBreak(this.tenants.get(entry.tenant_id) ?? null, entry);
    if (broken) {
      const where = `tenant ${entry.tenant_id} chain broken at record ${row.eventId}`;
      this.report({
        code: broken.code,
        leafIndex: entry.index,
        eventId: row.eventId,
        message: `${where}: ${broken.message} (expected ${broken.expected}, found ${broken.found})`,
      });
    }
    this.tenants.set(entry.tenant_id, {
      tenant_seq: entry.tenant_seq,
      leaf_hash: leaf.toString('hex'),
      index: entry.index,
    });
  }

  report(p: Omit<VerificationProblem, 'shard'>): void {
    this.problems.push({ shard: this.shard, ...p });
  }
}
