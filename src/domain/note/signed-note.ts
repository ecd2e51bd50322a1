/**
 * C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank
 * line, then one or more lines `— <key name> <base64(4-byte big-endian key ID || signature)>`.
 * The text is what is signed, final newline included; the last blank line separates it from the
 * signatures (signature lines are never empty, so the text may hold blank lines of its own).
 */
import { NoteError } from './note-error.js';
import {
  assertKeyName,
  decodeBase64,
  hexKeyId,
  keyNameDefect,
  type AsyncNoteSigner,
  type NoteSigner,
  type NoteVerifier,
} from './note-keys.js';

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the key ID. */
  signature: Buffer;
}

export interface Note {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

export interface VerifiedNote extends Note {
  /** The signatures by known keys, all of which verified. */
  verified: NoteSignature[];
}

const EM_DASH = '\u2014';
/** The spec requires accepting at least 16; more is a note nobody should have to check. */
export const MAX_NOTE_SIGNATURES = 100;
/** Control characters other than newline are refused anywhere in a note. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

/** Parses a signed note without verifying anything. Throws MALFORMED_NOTE. */
export function parseNote(note: string | Uint8Array): Note {
  const text = typeof note === 'string' ? note : decodeUtf8(note);
  if (!text.isWellFormed()) throw malformed('note is not valid UTF-8');
  if (FORBIDDEN_CONTROL.test(text)) throw malformed('note contains a control character other than newline');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw malformed('note has no blank line before its signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (!block.endsWith('\n')) throw malformed('signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  return { text: body, signatures: lines.map(parseSignatureLine) };
}

/** The note text followed by a blank line and one line per signature. */
export function formatNote(note: Note): string {
  assertNoteText(note.text);
  if (note.signatures.length === 0) throw malformed('a signed note needs at least one signature');
  return `${note.text}\n${formatSignatureLines(note.signatures)}`;
}

/** Note signature lines `— <name> <base64(key ID || signature)>\n`, e.g. cosignatures to append to a note. */
export function formatSignatureLines(signatures: NoteSignature[]): string {
  return signatures
    .map((s) => {
      assertKeyName(s.name);
      const bytes = Buffer.alloc(4 + s.signature.length);
      bytes.writeUInt32BE(s.keyId >>> 0, 0);
      Buffer.from(s.signature).copy(bytes, 4);
      return `${EM_DASH} ${s.name} ${bytes.toString('base64')}\n`;
    })
    .join('');
}

/** signNote() with signers that sign asynchronously (a key outside the process). */
export async function signNoteAsync(text: string, signers: AsyncNoteSigner[]): Promise<string> {
  assertNoteText(text);
  const bytes = Buffer.from(text, 'utf8');
  const signatures = [];
  for (const s of signers)
    signatures.push({ name: s.name, keyId: s.keyId, signature: Buffer.from(await s.sign(bytes)) });
  return formatNote({ text, signatures });
}

/** `text` signed by every signer, as a note. */
export function signNote(text: string, signers: NoteSigner[]): string {
  assertNoteText(text);
  const bytes = Buffer.from(text, 'utf8');
  return formatNote({
    text,
    signatures: signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) })),
  });
}

/**
 * The note once verified against `verifiers`, as the spec says: signatures by unknown keys
 * (name and key ID not both matching a verifier) are ignored; a signature by a known key that
 * does not verify rejects the note (BAD_SIGNATURE); no verified signature at all rejects it
 * (UNVERIFIED_NOTE).
 */
export function verifyNote(note: string | Uint8Array, verifiers: NoteVerifier[]): VerifiedNote {
  const parsed = parseNote(note);
  const known = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const key = `${v.name} ${v.keyId}`;
    if (known.has(key)) throw new NoteError('AMBIGUOUS_KEY', `two verifiers for ${v.name}+${hexKeyId(v.keyId)}`);
    known.set(key, v);
  }
  const textBytes = Buffer.from(parsed.text, 'utf8');
  const verified: NoteSignature[] = [];
  for (const s of parsed.signatures) {
    const v = known.get(`${s.name} ${s.keyId}`);
    if (!v) continue;
    if (!v.verify(textBytes, s.signature))
      throw new NoteError('BAD_SIGNATURE', `signature by ${s.name}+${hexKeyId(s.keyId)} does not verify`);
    verified.push(s);
  }
  if (verified.length === 0) throw new NoteError('UNVERIFIED_NOTE', 'no signature of the note is by a known key');
  return { ...parsed, verified };
}

/** Throws MALFORMED_NOTE unless `text` can be the text of a note: ends in newline, no other control characters. */
export function assertNoteText(text: string): void {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw malformed('note text must end with a newline');
  if (!text.isWellFormed()) throw malformed('note text is not valid Unicode');
  if (FORBIDDEN_CONTROL.test(text)) throw malformed('note text contains a control character other than newline');
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(`${EM_DASH} `))
    throw malformed(`signature line must start with an em dash and a space: ${JSON.stringify(line.slice(0, 40))}`);
  const rest = line.slice(2);
  const space = rest.indexOf(' ');
  if (space < 0) throw malformed('signature line must be "— <name> <base64>"');
  const name = rest.slice(0, space);
  const defect = keyNameDefect(name);
  if (defect !== null) throw malformed(defect);
  const bytes = decodeBase64(rest.slice(space + 1));
  if (!bytes || bytes.length < 5) throw malformed(`signature by ${name} is not base64 of a key ID and a signature`);
  return { name, keyId: bytes.readUInt32BE(0), signature: Buffer.from(bytes.subarray(4)) };
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw malformed('note is not valid UTF-8');
  }
}

function malformed(message: string): NoteError {
  return new NoteError('MALFORMED_NOTE', message);
}
