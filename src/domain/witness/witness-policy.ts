/**
 * A witness policy: which logs and witnesses are trusted, and how many witnesses (k of n) must
 * have cosigned a checkpoint before a client relies on it. The text format, one item per line
 * (`#` starts a comment), after the Sigsum policy file but with C2SP verifier keys:
 *
 *   log <log note verifier key, type 0x01>                    (optional, repeatable)
 *   witness <cosigner verifier key, type 0x04> [<submission URL prefix>]
 *   quorum <k>                                                 (default: every witness)
 *
 * A witness's name is its key name. URLs are only needed by the log that submits checkpoints;
 * an offline verifier ignores them.
 */
import { parseVerifierKey, type NoteVerifier } from '../note/note-keys.js';
import { NoteError } from '../note/note-error.js';
import { parseNote, verifyNote, type NoteSignature } from '../note/signed-note.js';
import { parseCheckpoint, type TlogCheckpoint } from '../note/tlog-checkpoint.js';
import { parseCosignerKey, type CosignerVerifier } from './cosignature.js';
import { WitnessError } from './witness-error.js';

export interface PolicyWitness {
  name: string;
  verifier: CosignerVerifier;
  /** Submission prefix: `<url>/add-checkpoint` is where checkpoints are sent. */
  url?: string;
}

export interface WitnessPolicy {
  logs: Array<NoteVerifier & { vkey: string }>;
  witnesses: PolicyWitness[];
  quorum: number;
}

export const EMPTY_POLICY: WitnessPolicy = { logs: [], witnesses: [], quorum: 0 };

/** Parses a policy text. Throws BAD_POLICY naming the line. */
export function parseWitnessPolicy(text: string): WitnessPolicy {
  const logs: WitnessPolicy['logs'] = [];
  const witnesses: PolicyWitness[] = [];
  let quorum: number | undefined;
  text.split('\n').forEach((raw, i) => {
    const bad = (why: string) => new WitnessError('BAD_POLICY', `policy line ${i + 1}: ${why}`);
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [keyword, ...args] = line.split(/\s+/);
    try {
      if (keyword === 'log' && args.length === 1) {
        logs.push({ ...parseVerifierKey(args[0]), vkey: args[0] });
      } else if (keyword === 'witness' && (args.length === 1 || args.length === 2)) {
        const verifier = parseCosignerKey(args[0]);
        if (witnesses.some((w) => w.name === verifier.name)) throw bad(`witness ${verifier.name} is listed twice`);
        if (args[1] !== undefined && !/^https?:\/\/\S+$/.test(args[1])) throw bad('URL must be http(s)');
        witnesses.push({ name: verifier.name, verifier, url: args[1]?.replace(/\/+$/, '') });
      } else if (keyword === 'quorum' && args.length === 1 && quorum === undefined) {
        if (!/^(0|[1-9][0-9]{0,3})$/.test(args[0])) throw bad('quorum must be a count');
        quorum = Number(args[0]);
      } else {
        throw bad(`expected "log <vkey>", "witness <vkey> [url]" or one "quorum <k>", got ${JSON.stringify(line)}`);
      }
    } catch (e) {
      if (e instanceof WitnessError && e.code === 'BAD_POLICY') throw e;
      throw bad((e as Error).message);
    }
  });
  const k = quorum ?? witnesses.length;
  if (k > witnesses.length)
    throw new WitnessError('BAD_POLICY', `quorum ${k} exceeds the ${witnesses.length} witnesses`);
  return { logs, witnesses, quorum: k };
}

export interface CosignedCheckpoint {
  checkpoint: TlogCheckpoint;
  /** The note text (the checkpoint body). */
  text: string;
  /** Names of the policy's witnesses whose cosignature verified. */
  cosigners: string[];
  /** Names of the policy's witnesses with a cosignature line that does not verify. */
  invalid: string[];
  /** cosigners.length >= quorum */
  satisfied: boolean;
}

/**
 * Verifies a checkpoint note against the log verifiers (at least one valid log signature,
 * none invalid: NoteError) and counts the cosignatures of the policy's witnesses. A bad
 * cosignature is reported in `invalid` and not counted, rather than rejecting the note: one
 * broken witness must not make every checkpoint unusable. Does not enforce the quorum.
 */
export function evaluateCosignatures(
  note: string | Uint8Array,
  logVerifiers: NoteVerifier[],
  policy: WitnessPolicy,
): CosignedCheckpoint {
  const verified = verifyNote(note, logVerifiers);
  return { ...countCosignatures(verified.text, verified.signatures, policy), text: verified.text };
}

/**
 * The cosignatures of the policy's witnesses among `signatures` on checkpoint note text `text`,
 * counted as evaluateCosignatures does. No log signature is looked at: for a checkpoint whose
 * body the log authenticated otherwise (a receipt's JWS restated as a note, docs/ledger-format.md
 * §9), since a cosignature signs the body alone.
 */
export function countCosignatures(
  text: string,
  signatures: NoteSignature[],
  policy: WitnessPolicy,
): CosignedCheckpoint {
  const checkpoint = parseCheckpoint(text);
  const bytes = Buffer.from(text, 'utf8');
  const cosigners: string[] = [];
  const invalid: string[] = [];
  for (const w of policy.witnesses) {
    const lines = signatures.filter((s) => s.name === w.name && s.keyId === w.verifier.keyId);
    if (lines.length === 0) continue;
    if (lines.some((s) => w.verifier.verify(bytes, s.signature))) cosigners.push(w.name);
    else invalid.push(w.name);
  }
  return { checkpoint, text, cosigners, invalid, satisfied: cosigners.length >= policy.quorum };
}

/**
 * Note signature lines (`— <name> <base64>`, without their newline) parsed as the signature
 * block of a note would be. Throws MALFORMED_NOTE.
 */
export function parseSignatureLines(lines: string[]): NoteSignature[] {
  if (lines.length === 0) return [];
  // One signature per element: a newline inside one would smuggle in lines (or end the block).
  if (lines.some((l) => typeof l !== 'string' || l.includes('\n')))
    throw new NoteError('MALFORMED_NOTE', 'a signature line must be a string without a newline');
  return parseNote(`x\n\n${lines.join('\n')}\n`).signatures;
}

/** evaluateCosignatures, then throws QUORUM_NOT_MET unless k of the policy's witnesses cosigned. */
export function verifyCosignedCheckpoint(
  note: string | Uint8Array,
  logVerifiers: NoteVerifier[],
  policy: WitnessPolicy,
): CosignedCheckpoint {
  return assertQuorum(evaluateCosignatures(note, logVerifiers, policy), policy);
}

/** Throws QUORUM_NOT_MET, naming how many valid cosignatures of how many required, unless satisfied. */
export function assertQuorum(result: CosignedCheckpoint, policy: WitnessPolicy): CosignedCheckpoint {
  if (!result.satisfied) {
    throw new WitnessError(
      'QUORUM_NOT_MET',
      `checkpoint ${result.checkpoint.origin} ${result.checkpoint.treeSize} has ${result.cosigners.length} valid cosignatures of the ${policy.quorum} required` +
        (result.invalid.length > 0 ? ` (invalid: ${result.invalid.join(', ')})` : ''),
    );
  }
  return result;
}
