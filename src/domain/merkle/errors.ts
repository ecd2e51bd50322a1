/**
 * Typed errors of the Merkle package. Codes are stable strings: the offline verifier prints
 * them and the HTTP layer maps them; messages are for people and may change.
 */

import { AppError } from '../../common/app-error.js';

export type MerkleProofErrorCode =
  /** A size or index is not a non-negative safe integer. */
  | 'BAD_TREE_SIZE'
  /** index >= size (inclusion) or the leaf is not in the tree. */
  | 'INDEX_OUT_OF_RANGE'
  /** size2 < size1 in a consistency proof. */
  | 'SIZE_DECREASED'
  /** A consistency proof from the empty tree was asked for or presented (it proves nothing). */
  | 'EMPTY_TREE_CONSISTENCY'
  /** A leaf hash or proof element is not exactly HASH_SIZE bytes. */
  | 'BAD_HASH_SIZE'
  /** A frontier does not have one hash per set bit of its tree size. */
  | 'BAD_FRONTIER'
  /** New tile hashes do not continue the stored right-edge tile (a tile is missing or damaged). */
  | 'TILE_GAP'
  /** The proof has more or fewer elements than the sizes imply. */
  | 'BAD_PROOF_LENGTH'
  /** The proof is well-formed but the recomputed root differs from the expected one. */
  | 'ROOT_MISMATCH';

export class MerkleProofError extends AppError {
  override readonly name = 'MerkleProofError';

  constructor(
    readonly code: MerkleProofErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type NodeReaderErrorCode =
  /** The reader returned a different number of hashes than ids asked for. */
  | 'READER_RESULT_LENGTH'
  /** The reader returned something that is not a HASH_SIZE-byte hash. */
  | 'READER_BAD_HASH';

/** A NodeReader broke its contract; the stored tree may be incomplete or corrupt. */
export class NodeReaderError extends AppError {
  override readonly name = 'NodeReaderError';

  constructor(
    readonly code: NodeReaderErrorCode,
    message: string,
  ) {
    super(message);
  }
}
