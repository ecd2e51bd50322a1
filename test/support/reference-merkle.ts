import { createHash } from 'node:crypto';
import { nodeHash } from '../../src/domain/merkle/hasher.js';
import { largestPowerOfTwoBelow } from '../../src/domain/merkle/range.js';

/**
 * The RFC 6962 definitions taken literally (§2.1 the tree hash, §2.1.1 the audit path), recursive
 * over leaf hashes: the reference the Merkle specs hold the real code to. Slow on purpose.
 */
export function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0];
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** PATH(m, D[n]); `root` computes subtree hashes (a memoizing wrapper of referenceRoot, say). */
export function referencePath(m: number, leaves: Buffer[], root = referenceRoot): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return m < k
    ? [...referencePath(m, leaves.slice(0, k), root), root(leaves.slice(k))]
    : [...referencePath(m - k, leaves.slice(k), root), root(leaves.slice(0, k))];
}
