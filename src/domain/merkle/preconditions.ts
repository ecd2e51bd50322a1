/**
 * The position checks that proving and verifying share: a proof about a position the tree
 * cannot have is refused with the same code and message by both sides, before any hashing.
 */
import { MerkleProofError } from './errors.js';
import { assertCount } from './range.js';

/** Throws unless 0 <= index < size (BAD_TREE_SIZE, INDEX_OUT_OF_RANGE). */
export function assertIndexInTree(index: number, size: number): void {
  assertCount(index, 'index');
  assertCount(size, 'size');
  if (index >= size) throw new MerkleProofError('INDEX_OUT_OF_RANGE', `index ${index} is not below size ${size}`);
}

/**
 * Throws unless 0 < size1 <= size2 (BAD_TREE_SIZE, SIZE_DECREASED, EMPTY_TREE_CONSISTENCY):
 * a consistency proof from the empty tree proves nothing.
 */
export function assertConsistencySizes(size1: number, size2: number): void {
  assertCount(size1, 'size1');
  assertCount(size2, 'size2');
  if (size2 < size1) throw new MerkleProofError('SIZE_DECREASED', `size2 ${size2} < size1 ${size1}`);
  if (size1 === 0) {
    throw new MerkleProofError('EMPTY_TREE_CONSISTENCY', 'a consistency proof from the empty tree is meaningless');
  }
}
