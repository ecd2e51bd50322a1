/**
 * The tlog-witness add-checkpoint exchange (https://c2sp.org/tlog-witness), pure: the request
 * body, the witness's decision on it, and the response's cosignature lines.
 *
 * Request body: "old <size>\n", zero to 63 base64 consistency-proof lines, "\n", the checkpoint
 * note. Answers: 200 with cosignature lines; 400 malformed or old size > checkpoint size; 403 no
 * trusted log signature; 404 unknown origin; 409 (body "<known size>\n", text/x.tlog.size) old
 * size is not the size the witness last cosigned, or the same size with another root; 422 the
 * consistency proof does not verify.
 */
import { MerkleProofError } from '../merkle/errors.js';
import { HASH_SIZE } from '../merkle/hasher.js';
import { verifyConsistency } from '../merkle/verifier.js';
import { NoteError } from '../note/note-error.js';
import { decodeBase64, type NoteSigner, type NoteVerifier } from '../note/note-keys.js';
import { parseNote, verifyNote, type NoteSignature } from '../note/signed-note.js';
import { parseCheckpoint, type TlogCheckpoint } from '../note/tlog-checkpoint.js';
import { WitnessError } from './witness-error.js';

export const MAX_PROOF_LINES = 63;
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';
const EM_DASH = '\u2014';

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Buffer[];
  /** The checkpoint as a signed note, signature lines included. */
  note: string;
}

export function formatAddCheckpointRequest(req: AddCheckpointRequest): string {
  if (req.proof.length > MAX_PROOF_LINES) throw new WitnessError('BAD_REQUEST', 'too many consistency proof lines');
  return `old ${req.oldSize}\n${req.proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${req.note}`;
}

/** Parses an add-checkpoint body. Throws BAD_REQUEST (the witness answers 400). */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const bad = (why: string) => new WitnessError('BAD_REQUEST', why);
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw bad('no blank line before the checkpoint');
  const lines = body.slice(0, blank).split('\n');
  const m = /^old (0|[1-9][0-9]*)$/.exec(lines[0]);
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw bad('first line must be "old <size>"');
  const proofLines = lines.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) throw bad(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = proofLines.map((l) => {
    const h = decodeBase64(l);
    if (!h || h.length !== HASH_SIZE) throw bad('a consistency proof line is not the base64 of a 32-byte hash');
    return h;
  });
  return { oldSize: Number(m[1]), proof, note: body.slice(blank + 2) };
}

/** What a witness last cosigned for one origin. */
export interface WitnessedHead {
  size: number;
  root: Buffer;
}

export type AddCheckpointDecision =
  | { status: 200; checkpoint: TlogCheckpoint; text: string; head: WitnessedHead }
  | { status: 400 | 403 | 404 | 422; reason: string }
  | { status: 409; reason: string; knownSize: number };

/**
 * The witness's decision on a request, given the log keys it trusts per origin and what it last
 * cosigned for that origin (undefined: never). On 200 the caller must persist `head` for the
 * origin, atomically with having read `known`, before answering.
 */
export function decideAddCheckpoint(
  body: string,
  logKeys: (origin: string) => NoteVerifier[] | undefined,
  known: (origin: string) => WitnessedHead | undefined,
): AddCheckpointDecision {
  let req: AddCheckpointRequest;
  let checkpoint: TlogCheckpoint;
  try {
    req = parseAddCheckpointRequest(body);
    checkpoint = parseCheckpoint(parseNote(req.note).text);
  } catch (e) {
    if (e instanceof WitnessError || e instanceof NoteError) return { status: 400, reason: e.message };
    throw e;
  }
  const verifiers = logKeys(checkpoint.origin);
  if (!verifiers || verifiers.length === 0) return { status: 404, reason: `unknown origin ${checkpoint.origin}` };
  let text: string;
  try {
    text = verifyNote(req.note, verifiers).text;
  } catch (e) {
    if (e instanceof NoteError) return { status: 403, reason: e.message };
    throw e;
  }
  if (req.oldSize > checkpoint.treeSize)
    return { status: 400, reason: `old size ${req.oldSize} exceeds the checkpoint size ${checkpoint.treeSize}` };
  const head = known(checkpoint.origin);
  const knownSize = head?.size ?? 0;
  if (req.oldSize !== knownSize)
    return { status: 409, reason: `old size ${req.oldSize} is not the cosigned size ${knownSize}`, knownSize };
  const next = { size: checkpoint.treeSize, root: checkpoint.rootHash };
  if (req.oldSize === 0) {
    if (req.proof.length > 0) return { status: 400, reason: 'a consistency proof from size 0 must be empty' };
    return { status: 200, checkpoint, text, head: next };
  }
  if (req.oldSize === checkpoint.treeSize && !head!.root.equals(checkpoint.rootHash))
    return { status: 409, reason: `size ${knownSize} was cosigned with another root hash`, knownSize };
  try {
    verifyConsistency(req.oldSize, checkpoint.treeSize, req.proof, head!.root, checkpoint.rootHash);
  } catch (e) {
    if (e instanceof MerkleProofError) return { status: 422, reason: `consistency proof: ${e.message}` };
    throw e;
  }
  return { status: 200, checkpoint, text, head: next };
}

/** The 200 response body: one note signature line per cosigner. */
export function formatCosignatureLines(text: string, cosigners: NoteSigner[]): string {
  const bytes = Buffer.from(text, 'utf8');
  return cosigners
    .map((c) => {
      const sig = c.sign(bytes);
      const raw = Buffer.alloc(4 + sig.length);
      raw.writeUInt32BE(c.keyId >>> 0, 0);
      sig.copy(raw, 4);
      return `${EM_DASH} ${c.name} ${raw.toString('base64')}\n`;
    })
    .join('');
}

/** The signature lines of a 200 response, parsed (not verified). Throws BAD_REQUEST. */
export function parseCosignatureLines(text: string, body: string): NoteSignature[] {
  if (body === '' || !body.startsWith(EM_DASH))
    throw new WitnessError('BAD_REQUEST', 'response is not signature lines');
  try {
    return parseNote(`${text}\n${body}`).signatures;
  } catch (e) {
    throw new WitnessError('BAD_REQUEST', `response: ${(e as Error).message}`);
  }
}
