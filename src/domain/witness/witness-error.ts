/** Typed errors of cosignatures, witness policies, add-checkpoint bodies and tlog-proofs. */
import { AppError } from '../../common/app-error.js';

export type WitnessErrorCode =
  /** Not a cosigner verifier key `<name>+<hex key ID>+<base64(0x04 || key)>`, or its key ID is not its own. */
  | 'BAD_COSIGNER_KEY'
  /** A policy file line that is not `log`, `witness` or `quorum` as documented, or an impossible quorum. */
  | 'BAD_POLICY'
  /** Fewer valid cosignatures by the policy's witnesses than its quorum. */
  | 'QUORUM_NOT_MET'
  /** An add-checkpoint request body that is not `old N`, proof lines, a blank line and a note. */
  | 'BAD_REQUEST'
  /** Not a c2sp.org/tlog-proof@v1 text. */
  | 'BAD_PROOF'
  /** The proof's checkpoint is not of the expected origin. */
  | 'ORIGIN_MISMATCH';

export class WitnessError extends AppError {
  override readonly name = 'WitnessError';
  override readonly status: number;

  constructor(
    readonly code: WitnessErrorCode,
    message: string,
  ) {
    super(message);
    this.status = code === 'BAD_REQUEST' || code === 'BAD_POLICY' ? 400 : 500;
  }
}
