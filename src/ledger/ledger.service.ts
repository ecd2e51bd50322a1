import { Injectable } from '@nestjs/common';
import { scopeIncludes, type TenantScope } from '../auth/principal.js';
import { verifyCheckpoint, type Checkpoint } from '../domain/checkpoint/checkpoint-jws.js';
import { consistencyProof, inclusionProof } from '../domain/merkle/prover.js';
import { TILE_HEIGHT } from '../domain/merkle/tiles.js';
import type { Receipt } from '../domain/receipt/receipt.js';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import { ShardVerifier, type StoredEntryRow, type VerificationProblem } from '../domain/verification/shard-verifier.js';
import { columnMismatch } from './record-columns.js';
import { LedgerReadRepository, type CheckpointRow } from './ledger-read.repository.js';
import { SigningKeyService } from './signing-key.service.js';
import { AppError } from '../common/app-error.js';
import { ReadDatabase, type ReadSource } from '../database/read-database.js';

export class LedgerNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  override readonly status = 404;
}
export class LedgerQueryError extends AppError {
  readonly code = 'BAD_QUERY';
  override readonly status = 400;
}

export interface VerificationReport {
  ok: boolean;
  shards: Array<{ shard: number; records: number; checkpoints: number; root: string }>;
  problems: VerificationProblem[];
  /** The first record (lowest shard, then lowest leaf) that differs, when one does. */
  first_problem?: VerificationProblem;
}

/**
 * Witnessing as a receipt sees it (implemented by TlogService, which a ledger without the C2SP
 * side does not have): which checkpoint a record's receipt uses, and that checkpoint's
 * cosignature lines.
 */
export interface ReceiptWitnessing {
  checkpointFor(shard: number, index: number): Promise<CheckpointRow | undefined>;
  cosignatureLines(checkpoint: CheckpointRow): Promise<string[]>;
}

/** Records read per query during verification; bounds memory, not correctness. */
const VERIFY_CHUNK = 5000;

/** An answer and the database it was read from. */
export interface SourcedRead<T> {
  value: T;
  source: ReadSource;
}

/**
 * Read side of the ledger: receipts, checkpoints, proofs, JWKS and full verification.
 *
 * With a read replica (DATABASE_READ_URL), checkpoint listings and verification read the
 * replica. Receipts and consistency proofs read it only when it already holds what they prove
 * (the record and a checkpoint covering it; the tree size asked for), else the primary: a record
 * just appended has a receipt at once, whatever the replica's lag.
 */
@Injectable()
export class LedgerService {
  /** The replica's reads, or the primary's when there is no replica. */
  private readonly read: LedgerReadRepository;
  private readonly replica: LedgerReadRepository | undefined;

  constructor(
    private readonly repo: LedgerReadRepository,
    private readonly keys: SigningKeyService,
    readDb: ReadDatabase,
  ) {
    this.replica = readDb.isReplica ? new LedgerReadRepository(readDb.db) : undefined;
    this.read = this.replica ?? repo;
  }

  jwks() {
    return this.keys.jwks();
  }

  /**
   * Everything needed to verify one record offline: entry, inclusion proof, signed checkpoint;
   * with `witnessing`, the checkpoint it chooses and that checkpoint's cosignatures.
   */
  async receipt(eventId: string, scope?: TenantScope, witnessing?: ReceiptWitnessing): Promise<Receipt> {
    return (await this.sourcedReceipt(eventId, scope, witnessing)).value;
  }

  /**
   * receipt(), and whether the replica or the primary answered. A witnessed receipt is read on the
   * primary: the cosignatures and the checkpoint the quorum cosigned are the primary's.
   */
  async sourcedReceipt(
    eventId: string,
    scope?: TenantScope,
    witnessing?: ReceiptWitnessing,
  ): Promise<SourcedRead<Receipt>> {
    // No stored event id holds U+0000 (validation refuses it), and PostgreSQL cannot even take it
    // as a parameter: answer 404 rather than let the query fail as a 500.
    if (eventId.includes('\u0000')) throw new LedgerNotFoundError('no record with that event_id');
    if (this.replica && !witnessing) {
      const r = await receiptFrom(this.replica, eventId, scope);
      if ('receipt' in r) return { value: r.receipt, source: 'replica' };
    }
    const r = await receiptFrom(this.repo, eventId, scope, witnessing);
    if ('receipt' in r) return { value: r.receipt, source: 'primary' };
    throw new LedgerNotFoundError(r.missing);
  }

  async latestCheckpoints() {
    return (await this.read.latestCheckpoints()).map(presentCheckpoint);
  }

  async checkpointHistory(shard: number, fromSize = 0, limit = 100) {
    return (await this.read.checkpoints(shard, { minSize: fromSize, limit: Math.min(limit, 1000) })).map(
      presentCheckpoint,
    );
  }

  async consistency(shard: number, from: number, to: number) {
    return (await this.sourcedConsistency(shard, from, to)).value;
  }

  /** consistency(), from the replica once its tree of the shard has reached `to`, else from the primary. */
  async sourcedConsistency(shard: number, from: number, to: number) {
    if (!(from > 0 && from <= to)) throw new LedgerQueryError('need 0 < from <= to');
    // The head, the nodes and the checkpoint at a size are committed together: a replica whose head
    // reached `to` holds all three.
    if (this.replica && (await headSize(this.replica, shard)) >= to)
      return { value: await consistencyFrom(this.replica, shard, from, to), source: 'replica' as const };
    if ((await headSize(this.repo, shard)) < to)
      throw new LedgerNotFoundError(`shard ${shard} has no tree of size ${to}`);
    return { value: await consistencyFrom(this.repo, shard, from, to), source: 'primary' as const };
  }

  /**
   * Full verification: recomputes every leaf hash from the stored records, every tree root
   * and tenant chain, checks every checkpoint signature and consistency proof, and compares
   * the stored Merkle nodes proofs are served from. Memory stays O(chunk + log n + tenants).
   */
  async verify(onProgress?: (shard: number, done: number, total: number) => void): Promise<VerificationReport> {
    const jwks = await this.keys.jwks();
    const report: VerificationReport = { ok: true, shards: [], problems: [] };
    for (const head of await this.read.shards()) {
      const v = new ShardVerifier(head.shard);
      // One signed checkpoint per batch: a few thousand per shard even at millions of records.
      const checkpoints = await this.read.checkpoints(head.shard, { limit: Number.MAX_SAFE_INTEGER });
      let next = 0;
      for (let pos = 0; pos < head.treeSize;) {
        // Chunks end at checkpoint sizes so that each signed root can be compared exactly.
        const end = Math.min(head.treeSize, pos + VERIFY_CHUNK, checkpoints[next]?.treeSize ?? Infinity);
        const chunk = await this.read.entriesWithColumns(head.shard, pos, end);
        v.addEntries(chunk.map((c) => c.row));
        compareColumns(v, chunk);
        await this.compareNodes(v, chunk);
        pos = end;
        for (; next < checkpoints.length && checkpoints[next].treeSize <= pos; next++) {
          v.checkCheckpoint(checkpoints[next], await checkSignature(checkpoints[next], jwks));
        }
        onProgress?.(head.shard, pos, head.treeSize);
      }
      for (; next < checkpoints.length; next++)
        v.checkCheckpoint(checkpoints[next], await checkSignature(checkpoints[next], jwks));
      if (!v.root.equals(head.rootHash) || v.size !== head.treeSize) {
        v.report({
          code: 'HEAD_MISMATCH',
          message: `shard head says size ${head.treeSize} root ${head.rootHash.toString('hex')}; recomputed size ${v.size} root ${v.root.toString('hex')}`,
        });
      }
      await this.checkOutsideTree(v, head.treeSize, checkpoints);
      report.problems.push(...v.problems);
      report.shards.push({
        shard: head.shard,
        records: v.size,
        checkpoints: checkpoints.length,
        root: v.root.toString('hex'),
      });
    }
    for (const u of await this.read.rowsOfUnknownShards()) {
      report.problems.push({
        code: 'STRAY_RECORD',
        shard: u.shard,
        leafIndex: u.leafIndex,
        eventId: u.eventId,
        message: `${u.what}${u.eventId ? ` ${u.eventId}` : ''} filed under shard ${u.shard}, which has no tree`,
      });
    }
    report.ok = report.problems.length === 0;
    report.first_problem = firstProblem(report.problems);
    return report;
  }

  /**
   * What a walk over leaves 0..size-1 cannot see: records and nodes outside the tree, and a tree
   * grown past its last signed checkpoint. Every append signs a checkpoint at the new size in the
   * same transaction, so a head beyond the latest checkpoint means rows nobody signed: records
   * appended, with the head and nodes rewritten to match, by someone without the signing key.
   */
  private async checkOutsideTree(v: ShardVerifier, treeSize: number, checkpoints: CheckpointRow[]): Promise<void> {
    const stray = await this.read.firstRecordOutsideTree(v.shard);
    if (stray) {
      v.report({
        code: 'STRAY_RECORD',
        leafIndex: stray.leafIndex,
        eventId: stray.eventId,
        message: `record ${stray.eventId} claims leaf ${stray.leafIndex}, outside the shard's tree of size ${stray.treeSize}: queries return it, no proof covers it`,
      });
    }
    const node = await this.read.firstNodeOutsideTree(v.shard);
    if (node) {
      v.report({
        code: 'STRAY_NODE',
        leafIndex: node.index * 2 ** node.level,
        message: `a stored Merkle tile holds node level ${node.level} index ${node.index}, outside the shard's tree of size ${treeSize} (it would block the append that reaches it)`,
      });
    }
    const signed = checkpoints.length ? checkpoints[checkpoints.length - 1].treeSize : 0;
    if (signed < treeSize) {
      const [first] = await this.read.entries(v.shard, signed, signed + 1);
      v.report({
        code: 'UNSIGNED_RECORDS',
        leafIndex: signed,
        eventId: first?.eventId,
        message: `the shard holds ${treeSize} records but its latest signed checkpoint covers ${signed}: records from leaf ${signed} on were never signed`,
      });
    }
  }

  /**
   * The stored Merkle data proofs are built from must equal the recomputed tree: every node at a
   * tile level (the hashes tiles hold, src/domain/merkle/tiles.ts) is compared with its tile.
   */
  private async compareNodes(v: ShardVerifier, chunk: Array<{ row: StoredEntryRow }>): Promise<void> {
    const nodes = v.lastNodes.filter((n) => n.level % TILE_HEIGHT === 0);
    const stored = await this.read.readNodes(v.shard, nodes);
    for (let i = 0; i < nodes.length; i++) {
      if (!stored[i]?.equals(nodes[i].hash)) {
        const n = nodes[i];
        const leafIndex = n.index * 2 ** n.level;
        // Name the record under the node's first leaf when this chunk holds it (a level-0 node always is).
        const eventId = chunk.find((c) => c.row.entry.index === leafIndex)?.row.eventId;
        v.report({
          code: 'NODE_MISMATCH',
          leafIndex,
          eventId,
          message: `stored Merkle node level ${n.level} index ${n.index} ${stored[i] ? 'differs from' : 'is missing; expected'} ${n.hash.toString('hex')}`,
        });
        return;
      }
    }
  }
}

/** A receipt from one database, or what it lacks (the record, in the caller's tenants; a checkpoint covering it). */
async function receiptFrom(
  repo: LedgerReadRepository,
  eventId: string,
  scope: TenantScope | undefined,
  witnessing?: ReceiptWitnessing,
): Promise<{ receipt: Receipt } | { missing: string }> {
  const row = await repo.entryByEventId(eventId);
  // Outside the caller's tenants a record does not exist: 404, so ids reveal nothing.
  if (!row || (scope && !scopeIncludes(scope, row.entry.tenant_id)))
    return { missing: `no record with event_id ${eventId}` };
  const cp = witnessing
    ? await witnessing.checkpointFor(row.entry.shard, row.entry.index)
    : await repo.checkpointCovering(row.entry.shard, row.entry.index);
  if (!cp) return { missing: `record ${eventId} is not yet covered by a signed checkpoint` };
  const proof = await inclusionProof(repo.nodeReader(row.entry.shard), row.entry.index, cp.treeSize);
  return {
    receipt: {
      entry: row.entry,
      leaf_hash: row.storedLeafHash.toString('hex'),
      shard: row.entry.shard,
      leaf_index: row.entry.index,
      tree_size: cp.treeSize,
      inclusion_proof: proof.map((h) => h.toString('hex')),
      checkpoint: cp.jws,
      ...(witnessing ? { cosignatures: await witnessing.cosignatureLines(cp) } : {}),
    },
  };
}

async function headSize(repo: LedgerReadRepository, shard: number): Promise<number> {
  return (await repo.shards()).find((s) => s.shard === shard)?.treeSize ?? 0;
}

/** Precondition: 0 < from <= to <= the shard's tree size in `repo`. */
async function consistencyFrom(repo: LedgerReadRepository, shard: number, from: number, to: number) {
  const proof = await consistencyProof(repo.nodeReader(shard), from, to);
  const [a, b] = await Promise.all([repo.checkpointAt(shard, from), repo.checkpointAt(shard, to)]);
  return {
    shard,
    from,
    to,
    proof: proof.map((h) => h.toString('hex')),
    from_checkpoint: a?.jws ?? null,
    to_checkpoint: b?.jws ?? null,
  };
}

async function checkSignature(
  cp: CheckpointRow,
  jwks: Awaited<ReturnType<SigningKeyService['jwks']>>,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const payload: Checkpoint = await verifyCheckpoint(cp.jws, jwks as never);
    if (
      payload.shard !== cp.shard ||
      payload.tree_size !== cp.treeSize ||
      payload.root_hash !== cp.rootHash.toString('hex')
    ) {
      return { ok: false, reason: 'the signed payload does not match the stored checkpoint row' };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

function presentCheckpoint(cp: CheckpointRow) {
  return {
    shard: cp.shard,
    tree_size: cp.treeSize,
    root_hash: cp.rootHash.toString('hex'),
    signed_at: cp.signedAt.toISOString(),
    kid: cp.kid,
    jws: cp.jws,
    prev_tree_size: cp.prevTreeSize,
    consistency_proof: cp.consistencyProof.map((h) => h.toString('hex')),
  };
}

/**
 * The problem at the lowest (shard, leaf): the first affected record. Problems that name a
 * record come first, then those that name only a position, then the rest.
 */
function firstProblem(problems: VerificationProblem[]): VerificationProblem | undefined {
  const named = problems.filter((p) => p.leafIndex !== undefined && p.eventId !== undefined);
  const placed = problems.filter((p) => p.leafIndex !== undefined);
  const pool = named.length ? named : placed.length ? placed : problems;
  return [...pool].sort((a, b) => a.shard - b.shard || (a.leafIndex ?? 0) - (b.leafIndex ?? 0))[0];
}

/** Query columns that no longer say what the signed record says (see record-columns.ts). */
function compareColumns(
  v: ShardVerifier,
  chunk: Array<{ row: StoredEntryRow; columns: Record<string, unknown> }>,
): void {
  for (const { row, columns } of chunk) {
    const m = columnMismatch(row.entry.record as CanonicalRecord, columns);
    if (m) {
      v.report({
        code: 'COLUMN_MISMATCH',
        leafIndex: row.entry.index,
        eventId: row.eventId,
        message: `record ${row.eventId} at leaf ${row.entry.index}: column ${m.column} holds ${m.stored} but the signed record says ${m.expected}: queries filtering on it would answer wrongly`,
      });
    }
  }
}
