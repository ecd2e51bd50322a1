/**
 * What the bundle verifier reports: the first problem it finds, where it is, with a stable
 * code (docs/bundle-format.md §9). Every check stops the verification by throwing one.
 */
import { AppError } from '../../../common/app-error.js';
import type { TenantChainFault } from '../../ledger-entry/tenant-chain.js';

export type BundleProblemCode =
  | 'UNREADABLE_ARCHIVE'
  | 'UNEXPECTED_FILE'
  | 'MISSING_FILE'
  | 'FILE_OUT_OF_ORDER'
  | 'NOT_A_FILE'
  | 'FILE_TOO_LARGE'
  | 'FILE_HASH_MISMATCH'
  | 'FILE_SIZE_MISMATCH'
  | 'BAD_LINE'
  | 'NON_CANONICAL'
  | 'BAD_MANIFEST'
  | 'MANIFEST_SIGNATURE'
  | 'MANIFEST_MISMATCH'
  | 'BAD_JWKS'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_ORDER'
  | 'CONSISTENCY_INVALID'
  | 'ANCHOR_MISMATCH'
  | 'UNKNOWN_CHECKPOINT'
  /** checkpoint-notes.jsonl: a note that is not its shard's anchor, or does not verify. */
  | 'BAD_CHECKPOINT_NOTE'
  /** With a witness policy: an anchor without k valid cosignatures (or a bundle without notes). */
  | 'QUORUM_NOT_MET'
  | 'BAD_ENTRY'
  | 'WRONG_TENANT'
  | 'SHARD_ORDER'
  | 'LEAF_HASH_MISMATCH'
  | 'INCLUSION_INVALID'
  | 'PROOF_MISMATCH'
  | 'MISSING_PROOF'
  | 'EXTRA_PROOF'
  /** SEQ_GAP, OUT_OF_ORDER, PREV_MISMATCH, INDEX_NOT_INCREASING: as the ledger's own verification. */
  | TenantChainFault
  | 'BEYOND_ANCHOR'
  | 'RANGE_START_MISSING'
  | 'RANGE_END_MISSING'
  | 'SEGMENT_NOT_IN_RANGE'
  | 'NEIGHBOUR_IN_RANGE'
  | 'BAD_COMPLETENESS'
  | 'COUNT_MISMATCH';

/** The first problem found: where it is and what was expected there. */
export interface BundleProblem {
  code: BundleProblemCode;
  file?: string;
  /** 1-based line of `file`. */
  line?: number;
  /** event_id of the record concerned, when there is one. */
  record?: string;
  expected?: string;
  found?: string;
  message: string;
}

/** Where a problem is: a problem without its code and message. */
export type ProblemPlace = Omit<BundleProblem, 'code' | 'message'>;

export class BundleVerificationError extends AppError {
  override readonly name = 'BundleVerificationError';
  readonly code: BundleProblemCode;

  constructor(readonly problem: BundleProblem) {
    super(describeProblem(problem));
    this.code = problem.code;
  }
}

/** One line: "[CODE] file line N (record X): message (expected …, found …)". */
export function describeProblem(p: BundleProblem): string {
  const where = [p.file, p.line !== undefined ? `line ${p.line}` : undefined].filter(Boolean).join(' ');
  const record = p.record !== undefined ? ` (record ${p.record})` : '';
  const found = p.expected !== undefined || p.found !== undefined;
  const ef = found ? `; expected ${p.expected ?? '-'}, found ${p.found ?? '-'}` : '';
  return `[${p.code}] ${where}${record}${where || record ? ': ' : ''}${p.message}${ef}`;
}

/** Stops the verification at `problem`. */
export function fail(problem: BundleProblem): never {
  throw new BundleVerificationError(problem);
}
