import { Injectable } from '@nestjs/common';
import { verifyCheckpoint, type Checkpoint } from '../domain/checkpoint/checkpoint-jws.js';
import { consistencyProof, inclusionProof, type NodeReader } from '../domain/merkle/prover.js';
import type { Receipt } from '../domain/receipt/receipt.js';
import { ShardVerifier, type VerificationProblem } from '../domain/verification/shard-verifier.js';
import { LedgerReadRepository, type CheckpointRow } from './ledger-read.repository.js';
import { SigningKeyService } from './signing-key.service.js';

export class LedgerNotFoundError extends Error {
  readonly code = 'NOT_FOUND';
}
export class LedgerQueryError extends Error {
  readonly code = 'BAD_QUERY';
}

export interface VerificationReport {
  ok: boolean;
  shards: Array<{ shard: number; records: number; checkpoints: number; root: string }>;
  problems: VerificationProblem[];
  /** The first record (lowest shard, then lowest leaf) that differs, when one does. */
  first_problem?: VerificationProblem;
}

/** Records read per query during verification; bounds memory, not correctness. */
const VERIFY_CHUNK = 5000;

/** Read side of the ledger: receipts, checkpoints, proofs, JWKS and full verification. */
@Injectable()
export class LedgerService {
  constructor(
    private readonly repo: LedgerReadRepository,
    private readonly keys: SigningKeyService,
  ) {}

  jwks() {
    return this.keys.jwks();
  }

  /** Everything needed to verify one record offline: entry, inclusion proof, signed checkpoint. */
  async receipt(eventId: string): Promise<Receipt> {
    const row = await this.repo.entryByEventId(eventId);
    if (!row) throw new LedgerNotFoundError(`no record with event_id ${eventId}`);
    const cp = await this.repo.checkpointCovering(row.entry.shard, row.entry.index);
    if (!cp) throw new LedgerNotFoundError(`record ${eventId} is not yet covered by a signed checkpoint`);
    const proof = await inclusionProof(this.nodeReader(row.entry.shard), row.entry.index, cp.treeSize);
    return {
      entry: row.entry,
      leaf_hash: row.storedLeafHash.toString('hex'),
      shard: row.entry.shard,
      leaf_index: row.entry.index,
      tree_size: cp.treeSize,
      inclusion_proof: proof.map((h) => h.toString('hex')),
      checkpoint: cp.jws,
    };
  }

  async latestCheckpoints() {
    return (await this.repo.latestCheckpoints()).map(presentCheckpoint);
  }

  async checkpointHistory(shard: number, fromSize = 0, limit = 100) {
    return (await this.repo.checkpoints(shard, { minSize: fromSize, limit: Math.min(limit, 1000) })).map(presentCheckpoint);
  }

  async consistency(shard: number, from: number, to: number) {
    if (!(from > 0 && from <= to)) throw new LedgerQueryError('need 0 < from <= to');
    const head = (await this.repo.shards()).find((s) => s.shard === shard);
    if (!head || to > head.treeSize) throw new LedgerNotFoundError(`shard ${shard} has no tree of size ${to}`);
    const proof = await consistencyProof(this.nodeReader(shard), from, to);
    const [a, b] = await Promise.all([this.repo.checkpointAt(shard, from), this.repo.checkpointAt(shard, to)]);
    return {
      shard, from, to,
      proof: proof.map((h) => h.toString('hex')),
      from_checkpoint: a?.jws ?? null,
      to_checkpoint: b?.jws ?? null,
    };
  }

  /**
   * Full verification: recomputes every leaf hash from the stored records, every tree root
   * and tenant chain, checks every checkpoint signature and consistency proof, and compares
   * the stored Merkle nodes proofs are served from. Memory stays O(chunk + log n + tenants).
   */
  async verify(onProgress?: (shard: number, done: number, total: number) => void): Promise<VerificationReport> {
    const jwks = await this.keys.jwks();
    const report: VerificationReport = { ok: true, shards: [], problems: [] };
    for (const head of await this.repo.shards()) {
      const v = new ShardVerifier(head.shard);
      // One signed checkpoint per batch: a few thousand per shard even at millions of records.
      const checkpoints = await this.repo.checkpoints(head.shard, { limit: Number.MAX_SAFE_INTEGER });
      let next = 0;
      for (let pos = 0; pos < head.treeSize; ) {
        // Chunks end at checkpoint sizes so that each signed root can be compared exactly.
        const end = Math.min(head.treeSize, pos + VERIFY_CHUNK, checkpoints[next]?.treeSize ?? Infinity);
        v.addEntries(await this.repo.entries(head.shard, pos, end));
        await this.compareNodes(v);
        pos = end;
        for (; next < checkpoints.length && checkpoints[next].treeSize <= pos; next++) {
          v.checkCheckpoint(checkpoints[next], await checkSignature(checkpoints[next], jwks));
        }
        onProgress?.(head.shard, pos, head.treeSize);
      }
      for (; next < checkpoints.length; next++) v.checkCheckpoint(checkpoints[next], await checkSignature(checkpoints[next], jwks));
      if (!v.root.equals(head.rootHash) || v.size !== head.treeSize) {
        v.report({ code: 'HEAD_MISMATCH', message: `shard head says size ${head.treeSize} root ${head.rootHash.toString('hex')}; recomputed size ${v.size} root ${v.root.toString('hex')}` });
      }
      report.problems.push(...v.problems);
      report.shards.push({ shard: head.shard, records: v.size, checkpoints: checkpoints.length, root: v.root.toString('hex') });
    }
    report.ok = report.problems.length === 0;
    report.first_problem = firstProblem(report.problems);
    return report;
  }

  /** The stored nodes proofs are built from must equal the recomputed ones. */
  private async compareNodes(v: ShardVerifier): Promise<void> {
    const nodes = v.lastNodes;
    const stored = await this.repo.readNodes(v.shard, nodes);
    for (let i = 0; i < nodes.length; i++) {
      if (!stored[i]?.equals(nodes[i].hash)) {
        const n = nodes[i];
        v.report({ code: 'NODE_MISMATCH', leafIndex: n.index * 2 ** n.level, message: `stored Merkle node level ${n.level} index ${n.index} ${stored[i] ? 'differs from' : 'is missing; expected'} ${n.hash.toString('hex')}` });
        return;
      }
    }
  }

  private nodeReader(shard: number): NodeReader {
    return async (ids) => {
      const hashes = await this.repo.readNodes(shard, ids);
      return hashes.map((h, i) => {
        if (!h) throw new Error(`merkle node missing: shard ${shard} level ${ids[i].level} index ${ids[i].index}`);
        return h;
      });
    };
  }
}

async function checkSignature(cp: CheckpointRow, jwks: Awaited<ReturnType<SigningKeyService['jwks']>>): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const payload: Checkpoint = await verifyCheckpoint(cp.jws, jwks as never);
    if (payload.shard !== cp.shard || payload.tree_size !== cp.treeSize || payload.root_hash !== cp.rootHash.toString('hex')) {
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

/** Record-level problems first (they name a record), by shard then leaf. */
function firstProblem(problems: VerificationProblem[]): VerificationProblem | undefined {
  const withLeaf = problems.filter((p) => p.leafIndex !== undefined && p.eventId !== undefined);
  const pool = withLeaf.length ? withLeaf : problems;
  return [...pool].sort((a, b) => a.shard - b.shard || (a.leafIndex ?? 0) - (b.leafIndex ?? 0))[0];
}
