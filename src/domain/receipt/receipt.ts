/**
 * A record's receipt: the ledger entry, where it sits, the audit path, and the signed checkpoint
 * whose root the path leads to. Verifiable alone, with only the ledger's JWKS: the entry hashes
 * to the leaf, the leaf is at leaf_index in the tree of tree_size leaves, and that tree's root
 * is what the ledger signed. With a witness policy, also that k of its witnesses cosigned that
 * checkpoint: the cosignatures sign the checkpoint as a C2SP note body (origin, size, root), which
 * the verified JWS determines, so the receipt carries only their signature lines.
 */
import { verifyCheckpoint } from '../checkpoint/checkpoint-jws.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { Jwks } from '../checkpoint/signing-key.js';
import { ledgerEntryLeafHash, type LedgerEntry } from '../ledger-entry/ledger-entry.js';
import { verifyInclusion } from '../merkle/verifier.js';
import { formatCheckpoint, shardOrigin } from '../note/tlog-checkpoint.js';
import {
  assertQuorum,
  countCosignatures,
  parseSignatureLines,
  type CosignedCheckpoint,
  type WitnessPolicy,
} from '../witness/witness-policy.js';
import { AppError } from '../../common/app-error.js';

export interface Receipt {
  entry: LedgerEntry;
  /** Lowercase hex SHA-256(0x00 || canonical JSON of entry). */
  leaf_hash: string;
  shard: number;
  leaf_index: number;
  /** Size of the tree the proof and the checkpoint are about (>= leaf_index + 1). */
  tree_size: number;
  /** Lowercase hex RFC 6962 audit path, leaf's sibling first. */
  inclusion_proof: string[];
  /** Compact JWS of the checkpoint for (shard, tree_size). */
  checkpoint: string;
  /**
   * Optional: witnesses' cosignatures (c2sp.org/tlog-cosignature) of this checkpoint as a note,
   * each a note signature line `— <witness name> <base64>` without its newline. The note text
   * they sign is `<origin>/shard/<shard>\n<tree_size>\n<base64 root_hash>\n` of the JWS payload.
   */
  cosignatures?: string[];
}

export type ReceiptVerificationErrorCode =
  /** Not a receipt: missing or unknown fields, wrong types, non-lowercase-hex hashes. */
  | 'BAD_RECEIPT'
  /** leaf_hash is not the hash of the entry. */
  | 'LEAF_HASH_MISMATCH'
  /** shard or leaf_index differ from the entry's own shard and index. */
  | 'POSITION_MISMATCH'
  /** The checkpoint is about another shard. */
  | 'SHARD_MISMATCH'
  /** The checkpoint is about another tree size. */
  | 'TREE_SIZE_MISMATCH';

export class ReceiptVerificationError extends AppError {
  override readonly name = 'ReceiptVerificationError';

  constructor(
    readonly code: ReceiptVerificationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyReceiptOptions {
  /** Reject receipts whose checkpoint names another ledger. */
  origin?: string;
  /** Require k of the policy's witnesses to have cosigned the checkpoint (QUORUM_NOT_MET). */
  witnessPolicy?: WitnessPolicy;
}

const RECEIPT_FIELDS = ['entry', 'leaf_hash', 'shard', 'leaf_index', 'tree_size', 'inclusion_proof', 'checkpoint'];
const OPTIONAL_FIELDS = ['cosignatures'];
const LOWER_HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * The verified checkpoint of `receipt`. Checks, in order (cheap before costly):
 *  1. the receipt is well-formed (BAD_RECEIPT);
 *  2. the entry is a valid ledger entry (LedgerEntryError) whose leaf hash is leaf_hash
 *     (LEAF_HASH_MISMATCH) and whose shard and index are the receipt's (POSITION_MISMATCH);
 *  3. the checkpoint JWS verifies against `jwks` (JwsVerificationError: signature, typ, kid,
 *     key window, canonical payload) and is about this shard and tree size (SHARD_MISMATCH,
 *     TREE_SIZE_MISMATCH);
 *  4. the inclusion proof leads from the leaf to the checkpoint's root (MerkleProofError);
 *  5. with a witness policy: at least k of its witnesses' cosignatures verify over the
 *     checkpoint's note text (NoteError MALFORMED_NOTE for a bad line, WitnessError
 *     QUORUM_NOT_MET naming how many valid of how many required).
 * Errors of the inner layers are thrown as they are; every one carries a stable `code`.
 */
export async function verifyReceipt(
  receipt: Receipt,
  jwks: Jwks,
  opts: VerifyReceiptOptions = {},
): Promise<{ checkpoint: Checkpoint; cosigned?: CosignedCheckpoint }> {
  assertReceiptShape(receipt);
  const leafHash = ledgerEntryLeafHash(receipt.entry);
  if (leafHash.toString('hex') !== receipt.leaf_hash) {
    throw new ReceiptVerificationError('LEAF_HASH_MISMATCH', 'leaf_hash is not the hash of the entry');
  }
  if (receipt.entry.shard !== receipt.shard || receipt.entry.index !== receipt.leaf_index) {
    throw new ReceiptVerificationError('POSITION_MISMATCH', 'shard/leaf_index differ from the entry shard/index');
  }
  const checkpoint = await verifyCheckpoint(receipt.checkpoint, jwks, { origin: opts.origin });
  if (checkpoint.shard !== receipt.shard) {
    throw new ReceiptVerificationError(
      'SHARD_MISMATCH',
      `checkpoint of shard ${checkpoint.shard}, receipt of shard ${receipt.shard}`,
    );
  }
  if (checkpoint.tree_size !== receipt.tree_size) {
    throw new ReceiptVerificationError(
      'TREE_SIZE_MISMATCH',
      `checkpoint of size ${checkpoint.tree_size}, receipt of size ${receipt.tree_size}`,
    );
  }
  const proof = receipt.inclusion_proof.map((h) => Buffer.from(h, 'hex'));
  verifyInclusion(leafHash, receipt.leaf_index, receipt.tree_size, proof, Buffer.from(checkpoint.root_hash, 'hex'));
  if (!opts.witnessPolicy) return { checkpoint };
  const text = formatCheckpoint({
    origin: shardOrigin(checkpoint.origin, checkpoint.shard),
    treeSize: checkpoint.tree_size,
    rootHash: Buffer.from(checkpoint.root_hash, 'hex'),
  });
  const signatures = parseSignatureLines(receipt.cosignatures ?? []);
  const cosigned = assertQuorum(countCosignatures(text, signatures, opts.witnessPolicy), opts.witnessPolicy);
  return { checkpoint, cosigned };
}

/**
 * The receipt of `entry` given its audit path in the tree of `treeSize` leaves and the
 * checkpoint JWS of that tree. Does not verify anything: call verifyReceipt for that.
 */
export function buildReceipt(
  entry: LedgerEntry,
  inclusionProof: Buffer[],
  treeSize: number,
  checkpoint: string,
): Receipt {
  return {
    entry,
    leaf_hash: ledgerEntryLeafHash(entry).toString('hex'),
    shard: entry.shard,
    leaf_index: entry.index,
    tree_size: treeSize,
    inclusion_proof: inclusionProof.map((h) => h.toString('hex')),
    checkpoint,
  };
}

function assertReceiptShape(receipt: Receipt): void {
  const bad = (why: string) => new ReceiptVerificationError('BAD_RECEIPT', why);
  if (receipt === null || typeof receipt !== 'object' || Array.isArray(receipt))
    throw bad('receipt must be a JSON object');
  const fields = Object.keys(receipt);
  const unknown = fields.filter((f) => !RECEIPT_FIELDS.includes(f) && !OPTIONAL_FIELDS.includes(f));
  const missing = RECEIPT_FIELDS.filter((f) => !fields.includes(f));
  if (unknown.length > 0 || missing.length > 0)
    throw bad(`fields: unknown [${unknown.join(', ')}], missing [${missing.join(', ')}]`);
  if (typeof receipt.leaf_hash !== 'string' || !LOWER_HEX_SHA256.test(receipt.leaf_hash))
    throw bad('leaf_hash must be 64 lowercase hex digits');
  for (const field of ['shard', 'leaf_index', 'tree_size'] as const) {
    if (!Number.isSafeInteger(receipt[field]) || receipt[field] < 0)
      throw bad(`${field} must be a non-negative safe integer`);
  }
  if (
    !Array.isArray(receipt.inclusion_proof) ||
    !receipt.inclusion_proof.every((h) => typeof h === 'string' && LOWER_HEX_SHA256.test(h))
  ) {
    throw bad('inclusion_proof must be an array of 64-digit lowercase hex hashes');
  }
  if (typeof receipt.checkpoint !== 'string') throw bad('checkpoint must be a compact JWS string');
  if (
    receipt.cosignatures !== undefined &&
    (!Array.isArray(receipt.cosignatures) || !receipt.cosignatures.every((l) => typeof l === 'string'))
  ) {
    throw bad('cosignatures must be an array of note signature lines');
  }
}
