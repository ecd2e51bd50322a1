/**
 * Compact JWS (RFC 7515) with Ed25519 (RFC 8037) for checkpoints and other signed ledger
 * documents (the export manifest reuses signJws/verifyJws with its own `typ`).
 *
 * The verifier accepts one shape only: protected header exactly {alg: "EdDSA", kid, typ} with
 * the expected typ, a key chosen by kid from the JWKS whose kid is its own RFC 7638 thumbprint,
 * canonical base64url everywhere. Everything else is rejected before any signature math, so
 * "alg": "none", HMAC-with-the-public-key and typ confusion (a manifest presented as a
 * checkpoint) cannot be attempted. Header, then key, then signature, then payload: the payload
 * is only parsed once it is known to be signed.
 */
import { compactVerify, errors as joseErrors } from 'jose';
import { canonicalBytes } from '../canonical/canonical-json.js';
import { CHECKPOINT_TYP, CheckpointError, checkpointDefect, type Checkpoint } from './checkpoint.js';
import { ED25519_PUBLIC_KEY_SIZE, ed25519SignatureDefect } from './ed25519.js';
import { ED25519_CRV, JWS_ALG, ed25519Thumbprint, type Jwks, type LedgerJwk, type Signer } from './signing-key.js';
import { AppError } from '../../common/app-error.js';

export { CHECKPOINT_TYP, type Checkpoint } from './checkpoint.js';

export type JwsVerificationErrorCode =
  /** Not three canonical base64url parts, or jose rejected the structure. */
  | 'MALFORMED_JWS'
  /** Protected header is not exactly {alg, kid, typ} with string values. */
  | 'BAD_HEADER'
  /** alg is not EdDSA (none, HS256, RS256, Ed25519, ...). */
  | 'ALG_NOT_ALLOWED'
  | 'WRONG_TYP'
  /** No key in the JWKS has this kid. */
  | 'UNKNOWN_KID'
  /** Several keys in the JWKS have this kid. */
  | 'AMBIGUOUS_KID'
  /** The key with this kid is not a public Ed25519 signing key, or its window is unreadable. */
  | 'BAD_KEY'
  /** The key's kid is not the RFC 7638 thumbprint of its material. */
  | 'KID_MISMATCH'
  | 'BAD_SIGNATURE'
  /** Signed, but not a well-typed document of the expected kind. */
  | 'BAD_PAYLOAD'
  /** Signed, well-typed, but not in RFC 8785 canonical form. */
  | 'NON_CANONICAL_PAYLOAD'
  /** The checkpoint timestamp lies outside the signing key's validity window. */
  | 'OUTSIDE_KEY_VALIDITY'
  | 'ORIGIN_MISMATCH'
  | 'SHARD_MISMATCH';

export class JwsVerificationError extends AppError {
  override readonly name = 'JwsVerificationError';

  constructor(
    readonly code: JwsVerificationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface JwsHeader {
  alg: typeof JWS_ALG;
  kid: string;
  typ: string;
}

export interface VerifiedJws {
  payload: Buffer;
  header: JwsHeader;
  /** The JWKS entry that verified the signature (with its validity window). */
  key: LedgerJwk;
}

export interface VerifyCheckpointOptions {
  /** Reject checkpoints of another ledger. */
  origin?: string;
  /** Reject checkpoints of another shard. */
  shard?: number;
}

const HEADER_FIELDS = ['alg', 'kid', 'typ'];
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// ---------------------------------------------------------------------------------------------
// Generic JWS

/**
 * Compact JWS of `payload` with protected header {alg: "EdDSA", kid, typ} (RFC 7515 §7.1), the
 * signing input handed to `key.sign`, so that a key outside the process can sign. Ed25519 is
 * deterministic: the same key gives the same JWS as a local library would. The signature is
 * checked for shape (64 bytes, S below the group order) before it is used.
 */
export async function signJws(payload: Uint8Array, typ: string, key: Signer): Promise<string> {
  if (typeof typ !== 'string' || typ === '') throw new TypeError('typ must be a non-empty string');
  const header = Buffer.from(JSON.stringify({ alg: JWS_ALG, kid: key.kid, typ })).toString('base64url');
  const input = `${header}.${Buffer.from(payload).toString('base64url')}`;
  const signature = await key.sign(Buffer.from(input, 'ascii'));
  const defect = ed25519SignatureDefect(signature);
  if (defect !== null)
    throw new JwsVerificationError('BAD_SIGNATURE', `the signer returned a bad signature: ${defect}`);
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/**
 * The payload of `jws` once its header, key and signature are checked (see the module comment).
 * Does not look at the payload or at key validity windows: that is the caller's document-level
 * check (see verifyCheckpoint, assertWithinKeyValidity). Throws JwsVerificationError.
 */
export async function verifyJws(jws: string, typ: string, jwks: Jwks): Promise<VerifiedJws> {
  const parts = compactParts(jws);
  const header = protectedHeader(parts.header, typ);
  const key = await verificationKey(jwks, header.kid);
  const defect = ed25519SignatureDefect(parts.signature);
  if (defect !== null) throw new JwsVerificationError('BAD_SIGNATURE', defect);
  await joseVerify(jws, key);
  return { payload: parts.payload, header, key };
}

/**
 * Throws OUTSIDE_KEY_VALIDITY unless valid_from <= timestamp < valid_until (valid_until absent:
 * still current). Half-open so that at a rotation instant exactly one key is valid.
 */
export function assertWithinKeyValidity(key: LedgerJwk, timestamp: string): void {
  const at = Date.parse(timestamp);
  const from = windowBound(key.valid_from, 'valid_from');
  if (from === undefined) throw new JwsVerificationError('BAD_KEY', `key ${key.kid} has no valid_from`);
  const until = windowBound(key.valid_until, 'valid_until');
  if (!(at >= from) || (until !== undefined && !(at < until))) {
    throw new JwsVerificationError(
      'OUTSIDE_KEY_VALIDITY',
      `${timestamp} is outside the validity of key ${key.kid} [${key.valid_from}, ${key.valid_until ?? 'now'})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/** Compact JWS of a checkpoint: payload = canonicalBytes(cp), typ = CHECKPOINT_TYP. */
export async function signCheckpoint(cp: Checkpoint, key: Signer): Promise<string> {
  const defect = checkpointDefect(cp);
  if (defect !== null) throw new CheckpointError(`cannot sign checkpoint: ${defect}`);
  return signJws(canonicalBytes(cp), CHECKPOINT_TYP, key);
}

/**
 * The checkpoint in `jws`, once verified: JWS checks (verifyJws with CHECKPOINT_TYP), payload a
 * well-typed Checkpoint in canonical form, timestamp within the key's validity window, and
 * origin/shard as expected when given. Throws JwsVerificationError.
 */
export async function verifyCheckpoint(
  jws: string,
  jwks: Jwks,
  opts: VerifyCheckpointOptions = {},
): Promise<Checkpoint> {
  const { payload, key } = await verifyJws(jws, CHECKPOINT_TYP, jwks);
  const cp = checkpointFromPayload(payload);
  assertWithinKeyValidity(key, cp.timestamp);
  if (opts.origin !== undefined && cp.origin !== opts.origin) {
    throw new JwsVerificationError('ORIGIN_MISMATCH', `checkpoint of ${cp.origin}, expected ${opts.origin}`);
  }
  if (opts.shard !== undefined && cp.shard !== opts.shard) {
    throw new JwsVerificationError('SHARD_MISMATCH', `checkpoint of shard ${cp.shard}, expected ${opts.shard}`);
  }
  return cp;
}

function checkpointFromPayload(payload: Buffer): Checkpoint {
  const value = jsonOf(payload, 'BAD_PAYLOAD', 'checkpoint payload');
  const defect = checkpointDefect(value);
  if (defect !== null) throw new JwsVerificationError('BAD_PAYLOAD', defect);
  // Canonical form is required so that one checkpoint has one byte string (and one JWS per key):
  // whitespace, key order, escapes or duplicate keys would otherwise go unnoticed.
  if (!isCanonicalJsonOf(value, payload)) {
    throw new JwsVerificationError('NON_CANONICAL_PAYLOAD', 'checkpoint payload is not RFC 8785 canonical JSON');
  }
  return value as Checkpoint;
}

/** Whether `bytes` are the canonical JSON of `value` (false if it has none, e.g. a lone surrogate). */
function isCanonicalJsonOf(value: unknown, bytes: Buffer): boolean {
  try {
    return canonicalBytes(value).equals(bytes);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Steps of verifyJws

function compactParts(jws: unknown): { header: Buffer; payload: Buffer; signature: Buffer } {
  if (typeof jws !== 'string') throw new JwsVerificationError('MALFORMED_JWS', 'JWS must be a string');
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsVerificationError('MALFORMED_JWS', 'compact JWS must have three parts');
  const [header, payload, signature] = parts.map((part, i) =>
    canonicalBase64url(part, ['header', 'payload', 'signature'][i]),
  );
  return { header, payload, signature };
}

/** Decodes base64url, rejecting padding, other alphabets and non-zero trailing bits. */
function canonicalBase64url(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (!BASE64URL.test(text) || bytes.toString('base64url') !== text) {
    throw new JwsVerificationError('MALFORMED_JWS', `${what} is not canonical base64url`);
  }
  return bytes;
}

function protectedHeader(bytes: Buffer, typ: string): JwsHeader {
  const header = jsonOf(bytes, 'BAD_HEADER', 'protected header') as Record<string, unknown>;
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new JwsVerificationError('BAD_HEADER', 'protected header must be a JSON object');
  }
  if (header.alg !== JWS_ALG)
    throw new JwsVerificationError('ALG_NOT_ALLOWED', `alg ${String(header.alg)} is not allowed`);
  const fields = Object.keys(header).sort();
  if (fields.join() !== HEADER_FIELDS.join()) {
    throw new JwsVerificationError(
      'BAD_HEADER',
      `protected header must be exactly {alg, kid, typ}, got {${fields.join(', ')}}`,
    );
  }
  if (header.typ !== typ) throw new JwsVerificationError('WRONG_TYP', `typ ${String(header.typ)}, expected ${typ}`);
  if (typeof header.kid !== 'string' || header.kid === '')
    throw new JwsVerificationError('BAD_HEADER', 'kid must be a non-empty string');
  return { alg: JWS_ALG, kid: header.kid, typ };
}

async function verificationKey(jwks: Jwks, kid: string): Promise<LedgerJwk> {
  const keys: unknown[] = Array.isArray(jwks?.keys) ? jwks.keys : [];
  const matches = keys.filter(
    (k): k is LedgerJwk => k !== null && typeof k === 'object' && (k as LedgerJwk).kid === kid,
  );
  if (matches.length === 0) throw new JwsVerificationError('UNKNOWN_KID', `no key with kid ${kid} in the JWKS`);
  if (matches.length > 1)
    throw new JwsVerificationError('AMBIGUOUS_KID', `${matches.length} keys with kid ${kid} in the JWKS`);
  const key = matches[0];
  assertPublicEd25519SigningKey(key);
  if ((await ed25519Thumbprint(key.x as string)) !== kid) {
    throw new JwsVerificationError('KID_MISMATCH', `kid ${kid} is not the thumbprint of its key`);
  }
  return key;
}

function assertPublicEd25519SigningKey(key: LedgerJwk): void {
  const bad = (why: string) => new JwsVerificationError('BAD_KEY', `key ${key.kid}: ${why}`);
  if (key.kty !== 'OKP' || key.crv !== ED25519_CRV) throw bad('not an Ed25519 (OKP) key');
  if (key.d !== undefined) throw bad('private key material in a JWKS');
  if (key.alg !== undefined && key.alg !== JWS_ALG) throw bad(`alg ${key.alg}`);
  if (key.use !== undefined && key.use !== 'sig') throw bad(`use ${key.use}`);
  if (
    typeof key.x !== 'string' ||
    !BASE64URL.test(key.x) ||
    Buffer.from(key.x, 'base64url').length !== ED25519_PUBLIC_KEY_SIZE
  ) {
    throw bad('x is not a 32-byte base64url public key');
  }
}

async function joseVerify(jws: string, key: LedgerJwk): Promise<void> {
  try {
    // A fresh minimal JWK: jose freezes the object it is given, and needs nothing else.
    await compactVerify(jws, { kty: 'OKP', crv: ED25519_CRV, x: key.x }, { algorithms: [JWS_ALG] });
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new JwsVerificationError('BAD_SIGNATURE', 'signature does not verify');
    }
    throw new JwsVerificationError('MALFORMED_JWS', `JWS rejected: ${(error as Error).message}`);
  }
}

function jsonOf(bytes: Buffer, code: JwsVerificationErrorCode, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)) as unknown;
  } catch {
    throw new JwsVerificationError(code, `${what} is not UTF-8 JSON`);
  }
}

function windowBound(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  const time = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(time))
    throw new JwsVerificationError('BAD_KEY', `${what} ${String(value)} is not an RFC 3339 time`);
  return time;
}
