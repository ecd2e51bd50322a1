/**
 * checkpoints.jsonl: every line a checkpoint signed by one of the keys, the lines of a shard
 * in increasing tree size, each linked to the one before by a consistency proof, and the last
 * one the shard's anchor named in the manifest. The roots it proves are what the inclusion
 * proofs of records and neighbours are checked against.
 */
import { JwsVerificationError, verifyCheckpoint, type Checkpoint } from '../../checkpoint/checkpoint-jws.js';
import { MerkleProofError } from '../../merkle/errors.js';
import { verifyConsistency } from '../../merkle/verifier.js';
import type { ArchiveEntry, FileDigest } from '../bundle-archive.js';
import { checkpointLineDefect, FILE, type CheckpointLine } from '../bundle-format.js';
import type { BundleContext, ShardState } from './bundle-context.js';
import { fail } from './bundle-problem.js';
import { hexBytes, parseCanonical } from './bundle-parse.js';
import { RootTable, type PackedRoots } from './root-table.js';

type LinePlace = { file: string; line: number };

/** The root of each verified checkpoint, by shard and tree size. */
export interface CheckpointRoots {
  rootAt(shard: number, treeSize: number): Buffer | undefined;
  /** Every root read so far, packed for a worker. */
  packedRoots(): PackedRoots;
}

export class CheckpointsCheck implements CheckpointRoots {
  /** The kids that signed the checkpoints. */
  readonly kids = new Set<string>();
  private readonly roots = RootTable.empty();

  constructor(private readonly ctx: BundleContext) {}

  rootAt(shard: number, treeSize: number): Buffer | undefined {
    return this.roots.get(shard, treeSize);
  }

  packedRoots(): PackedRoots {
    return this.roots.packed();
  }

  async read(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    this.ctx.requireManifest(FILE.checkpoints);
    let lineNo = 0;
    let prevShard = -1;
    for await (const bytes of this.ctx.linesOf(entry, digest, FILE.checkpoints)) {
      lineNo++;
      const where = { file: FILE.checkpoints, line: lineNo };
      const line = parseLine(bytes, where);
      const shard = this.ctx.shards.get(line.shard);
      if (!shard)
        fail({
          code: 'CHECKPOINT_ORDER',
          ...where,
          message: `checkpoint of shard ${line.shard}, which the manifest does not list`,
        });
      if (line.shard < prevShard) {
        const message = `shard ${line.shard} after shard ${prevShard}: lines must be sorted by shard, then tree_size`;
        fail({ code: 'CHECKPOINT_ORDER', ...where, message });
      }
      if (line.shard !== prevShard && prevShard >= 0) this.closeShard(prevShard, lineNo - 1);
      prevShard = line.shard;
      const cp = await this.verifyLine(line, where);
      const root = hexBytes(cp.root_hash);
      this.checkConsistency(shard!, line, root, where);
      shard!.lastCheckpointSize = line.tree_size;
      shard!.lastCheckpointRoot = root;
      shard!.anchorTimestamp = cp.timestamp;
      this.roots.set(line.shard, line.tree_size, root);
      this.ctx.counts.checkpoints++;
    }
    if (prevShard >= 0) this.closeShard(prevShard, lineNo);
    this.checkEnd(digest);
  }

  /** Every shard anchored, the count and the signing keys as the manifest says, the file's hash. */
  private checkEnd(digest: FileDigest): void {
    const m = this.ctx.manifest!;
    for (const s of this.ctx.shards.values()) {
      if (s.lastCheckpointSize === undefined) {
        const message = `no checkpoint for shard ${s.manifest.shard}, which the manifest lists`;
        fail({ code: 'ANCHOR_MISMATCH', file: FILE.checkpoints, message });
      }
    }
    const counted = this.ctx.counts.checkpoints;
    if (counted !== m.counts.checkpoints) {
      const expected = `${m.counts.checkpoints} (manifest)`;
      fail({
        code: 'COUNT_MISMATCH',
        file: FILE.checkpoints,
        expected,
        found: `${counted}`,
        message: 'number of checkpoints',
      });
    }
    const kids = [...this.kids].sort();
    if (kids.join() !== [...m.key_ids.checkpoints].sort().join()) {
      fail({
        code: 'BAD_MANIFEST',
        file: FILE.manifest,
        expected: kids.join(', '),
        found: m.key_ids.checkpoints.join(', '),
        message: 'key_ids.checkpoints does not list the keys that signed the checkpoints',
      });
    }
    this.ctx.checkFileDigest(FILE.checkpoints, digest);
  }

  private async verifyLine(line: CheckpointLine, where: LinePlace): Promise<Checkpoint> {
    try {
      const expect = { origin: this.ctx.manifest!.origin, shard: line.shard };
      const cp = await verifyCheckpoint(line.jws, this.ctx.jwks!, expect);
      if (cp.tree_size !== line.tree_size) {
        fail({
          code: 'CHECKPOINT_INVALID',
          ...where,
          expected: `tree_size ${line.tree_size}`,
          found: `tree_size ${cp.tree_size}`,
          message: 'the signed checkpoint is for another tree size than its line says',
        });
      }
      this.kids.add(JSON.parse(Buffer.from(line.jws.split('.')[0], 'base64url').toString('utf8')).kid as string);
      return cp;
    } catch (e) {
      if (e instanceof JwsVerificationError) {
        const source = this.ctx.keySource;
        const why = e.code === 'UNKNOWN_KID' ? `it is signed by a key that is not in ${source}` : e.message;
        const which = `checkpoint of shard ${line.shard} at tree_size ${line.tree_size}`;
        fail({ code: 'CHECKPOINT_INVALID', ...where, message: `${which} does not verify: ${why} (${e.code})` });
      }
      throw e;
    }
  }

  /** The line follows the shard's previous checkpoint line and extends its tree. */
  private checkConsistency(shard: ShardState, line: CheckpointLine, root: Buffer, where: LinePlace): void {
    const prev = shard.lastCheckpointSize ?? null;
    if (line.prev_tree_size !== prev) {
      fail({
        code: 'CHECKPOINT_ORDER',
        ...where,
        expected: `prev_tree_size ${prev}`,
        found: `prev_tree_size ${line.prev_tree_size}`,
        message: `prev_tree_size must be the tree_size of the shard's previous checkpoint line`,
      });
    }
    if (prev === null) {
      if (line.consistency_proof.length !== 0) {
        fail({ code: 'CONSISTENCY_INVALID', ...where, message: "a shard's first checkpoint has no consistency proof" });
      }
      return;
    }
    if (line.tree_size <= prev) {
      fail({
        code: 'CHECKPOINT_ORDER',
        ...where,
        expected: `tree_size > ${prev}`,
        found: `${line.tree_size}`,
        message: `checkpoints of shard ${line.shard} must have increasing tree sizes`,
      });
    }
    try {
      verifyConsistency(prev, line.tree_size, line.consistency_proof.map(hexBytes), shard.lastCheckpointRoot!, root);
      this.ctx.counts.consistency_proofs++;
    } catch (e) {
      if (e instanceof MerkleProofError) {
        const proof = `consistency proof of shard ${line.shard} from tree_size ${prev} to ${line.tree_size}`;
        const why = `${e.message} (${e.code}); the later tree does not extend the earlier one`;
        const message = `${proof} does not verify: ${why}`;
        fail({ code: 'CONSISTENCY_INVALID', ...where, message });
      }
      throw e;
    }
  }

  /** The last checkpoint of a shard is its anchor. */
  private closeShard(shard: number, lineNo: number): void {
    const s = this.ctx.shards.get(shard)!;
    if (s.lastCheckpointSize !== s.manifest.tree_size) {
      fail({
        code: 'ANCHOR_MISMATCH',
        file: FILE.checkpoints,
        line: lineNo,
        expected: `tree_size ${s.manifest.tree_size} (manifest)`,
        found: `tree_size ${s.lastCheckpointSize}`,
        message: `the last checkpoint of shard ${shard} must be the anchor the manifest names`,
      });
    }
  }
}

function parseLine(bytes: Buffer, where: LinePlace): CheckpointLine {
  const value = parseCanonical(bytes, where.file, where.line);
  const defect = checkpointLineDefect(value);
  if (defect !== null) fail({ code: 'BAD_LINE', ...where, message: defect });
  return value as CheckpointLine;
}
