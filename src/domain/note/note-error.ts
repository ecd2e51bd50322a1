/** Typed errors of C2SP signed notes. Codes are stable; messages are for people. */

import { AppError } from '../../common/app-error.js';

export type NoteErrorCode =
  /** Not a signed note: bad UTF-8, control characters, no blank line, a bad signature line. */
  | 'MALFORMED_NOTE'
  /** Empty, or containing a Unicode space or '+'. */
  | 'BAD_KEY_NAME'
  /** Not `<name>+<8 hex key ID>+<base64(type || key)>`, or the key ID is not the key's. */
  | 'BAD_VERIFIER_KEY'
  /** A signature type other than Ed25519 (0x01). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** Two verifiers share name and key ID: which one signed cannot be told. */
  | 'AMBIGUOUS_KEY'
  /** A signature by a known key does not verify: the whole note is rejected. */
  | 'BAD_SIGNATURE'
  /** No signature of the note is by a known key. */
  | 'UNVERIFIED_NOTE'
  /** The note text is not a tlog-checkpoint body (origin, tree size, base64 root hash). */
  | 'BAD_CHECKPOINT';

export class NoteError extends AppError {
  override readonly name = 'NoteError';

  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
  }
}
