/**
 * c2sp.org/tlog-proof@v1 (https://c2sp.org/tlog-proof): an offline-verifiable proof that an
 * entry is in a log, as text:
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64>            (optional, unauthenticated)
 *   index <leaf index>
 *   <base64 inclusion proof hash, leaf's sibling first>...
 *   <blank line>
 *   <checkpoint note, log signature and cosignatures>
 *
 * The ledger puts the entry's leaf input (docs/ledger-format.md §3) in `extra`, so the proof is
 * self-contained; it is trusted only because its hash is proven included.
 */
import { leafHash as hashLeaf, HASH_SIZE } from '../merkle/hasher.js';
import { verifyInclusion } from '../merkle/verifier.js';
import { decodeBase64, type NoteVerifier } from '../note/note-keys.js';
import { verifyCosignedCheckpoint, type CosignedCheckpoint, type WitnessPolicy } from './witness-policy.js';
import { WitnessError } from './witness-error.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  extra?: Buffer;
  index: number;
  inclusionProof: Buffer[];
  /** The checkpoint note, verbatim. */
  note: string;
}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${p.extra.toString('base64')}`);
  lines.push(`index ${p.index}`, ...p.inclusionProof.map((h) => h.toString('base64')));
  return `${lines.join('\n')}\n\n${p.note}`;
}

/** Parses a proof without verifying it. Throws BAD_PROOF. */
export function parseTlogProof(text: string): TlogProof {
  const bad = (why: string) => new WitnessError('BAD_PROOF', why);
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw bad('no blank line before the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  if (lines[0] !== TLOG_PROOF_HEADER) throw bad(`first line must be ${TLOG_PROOF_HEADER}`);
  let i = 1;
  let extra: Buffer | undefined;
  if (lines[i]?.startsWith('extra ')) {
    extra = decodeBase64(lines[i].slice(6));
    if (!extra) throw bad('extra is not standard base64');
    i++;
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[i] ?? '');
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw bad('expected "index <n>"');
  const inclusionProof = lines.slice(i + 1).map((l) => {
    const h = decodeBase64(l);
    if (!h || h.length !== HASH_SIZE) throw bad('an inclusion proof line is not the base64 of a 32-byte hash');
    return h;
  });
  return { ...(extra ? { extra } : {}), index: Number(m[1]), inclusionProof, note: text.slice(blank + 2) };
}

export interface VerifyTlogProofOptions {
  /** The log's note verifier keys. */
  logVerifiers: NoteVerifier[];
  policy: WitnessPolicy;
  /** The entry's leaf input; else the proof's `extra` is taken as the leaf input. */
  leafInput?: Uint8Array;
  /** Refuse checkpoints of any other origin. */
  origin?: string;
}

/**
 * Verifies a proof: the note's log signature (NoteError), the quorum of cosignatures
 * (QUORUM_NOT_MET), the origin (ORIGIN_MISMATCH), and that the leaf hash of the leaf input
 * is at `index` in the checkpoint's tree (MerkleProofError). Returns the checkpoint and the
 * leaf input it proved.
 */
export function verifyTlogProof(
  text: string,
  opts: VerifyTlogProofOptions,
): CosignedCheckpoint & { index: number; leafInput: Buffer } {
  const proof = parseTlogProof(text);
  const leafInput = opts.leafInput ? Buffer.from(opts.leafInput) : proof.extra;
  if (!leafInput) throw new WitnessError('BAD_PROOF', 'no leaf input: the proof has no extra and none was given');
  const cosigned = verifyCosignedCheckpoint(proof.note, opts.logVerifiers, opts.policy);
  if (opts.origin !== undefined && cosigned.checkpoint.origin !== opts.origin)
    throw new WitnessError('ORIGIN_MISMATCH', `checkpoint of ${cosigned.checkpoint.origin}, want ${opts.origin}`);
  verifyInclusion(
    hashLeaf(leafInput),
    proof.index,
    cosigned.checkpoint.treeSize,
    proof.inclusionProof,
    cosigned.checkpoint.rootHash,
  );
  return { ...cosigned, index: proof.index, leafInput };
}
