/** Inclusion proofs of records and neighbours, against the roots of checkpoints.jsonl. */
import { MerkleProofError } from '../../merkle/errors.js';
import type { InclusionRunVerifier } from '../../merkle/inclusion-run.js';
import { verifyInclusion } from '../../merkle/verifier.js';
import type { CheckpointRoots } from './checkpoints-check.js';
import { fail, type ProblemPlace } from './bundle-problem.js';
import { hexBytes } from './bundle-parse.js';

/** Where a leaf is claimed to be: leaf `index` of the shard's tree at a checkpoint's size. */
export interface LeafPosition {
  shard: number;
  index: number;
  treeSize: number;
}

/**
 * Fails unless `proof` shows `leaf` at `pos` in a checkpoint of checkpoints.jsonl; `run`
 * shares the work of consecutive leaves' proofs (same decisions as verifyInclusion).
 */
export function checkInclusion(
  roots: CheckpointRoots,
  leaf: Buffer,
  pos: LeafPosition,
  proof: string[],
  at: ProblemPlace,
  run?: InclusionRunVerifier,
): void {
  const { shard, index, treeSize } = pos;
  const checkpoint = `checkpoint (shard ${shard}, tree_size ${treeSize})`;
  const root = roots.rootAt(shard, treeSize);
  if (!root)
    fail({
      code: 'UNKNOWN_CHECKPOINT',
      ...at,
      message: `the proof cites a ${checkpoint} that is not in checkpoints.jsonl`,
    });
  try {
    if (run) run.verify(leaf, index, treeSize, proof, root!);
    else verifyInclusion(leaf, index, treeSize, proof.map(hexBytes), root!);
  } catch (e) {
    if (e instanceof MerkleProofError) {
      const message = `inclusion proof of leaf ${index} in ${checkpoint} does not verify: ${e.message} (${e.code})`;
      fail({ code: 'INCLUSION_INVALID', ...at, message });
    }
    throw e;
  }
}
