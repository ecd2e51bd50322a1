import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from './auth.errors.js';
import { principalFromClaims, type Principal } from './principal.js';

/**
 * Asymmetric algorithms only. Listing them is what defeats `alg: none` and the HS256
 * "public key as HMAC secret" confusion: jose refuses any token whose header names another
 * algorithm before it looks at a key.
 */
export const ACCEPTED_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'];
/** Skew allowed between our clock and the issuer's on exp / nbf / iat. */
export const CLOCK_TOLERANCE_S = 30;

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Injected clock for tests; defaults to the wall clock. */
  now?: () => Date;
}

/** Verifies bearer tokens against a key set and turns their claims into a Principal. */
export class TokenVerifier {
  /** `keys` undefined: nothing can be verified (production without a JWKS) and every token is refused. */
  constructor(
    private readonly keys: JWTVerifyGetKey | undefined,
    private readonly opts: TokenVerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    if (!this.keys)
      throw new UnauthenticatedError('token verification is not configured (AUTH_JWKS_FILE or AUTH_JWKS_URL)');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ACCEPTED_ALGORITHMS,
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        // A token that never expires is a standing credential: refuse it.
        requiredClaims: ['exp'],
        currentDate: this.opts.now?.(),
      }));
    } catch (e) {
      throw new UnauthenticatedError(failureReason(e));
    }
    return principalFromClaims(payload);
  }
}

/** Why a token failed, in words safe to return (jose messages never echo the token). */
function failureReason(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) return `token claim "${e.claim}" rejected: ${e.reason}`;
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not accepted (EdDSA, ES256 or RS256 only)';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (e instanceof errors.JWKSNoMatchingKey) return 'no trusted key matches the token';
  if (e instanceof errors.JWKSMultipleMatchingKeys) return 'token header matches several trusted keys; set a kid';
  if (e instanceof errors.JOSEError) return `token is invalid: ${e.message}`;
  return 'token is invalid';
}
