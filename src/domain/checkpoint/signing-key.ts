/**
 * Ed25519 signing keys (RFC 8037) and their public JWKs.
 *
 * kid = the RFC 7638 SHA-256 JWK thumbprint of {crv, kty, x}: it names the key material
 * itself, so a verifier can check that a kid was not re-pointed at another key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type CryptoKey, type JWK } from 'jose';
import { AppError } from '../../common/app-error.js';

export const JWS_ALG = 'EdDSA';
export const ED25519_CRV = 'Ed25519';

/**
 * Whatever signs the ledger's documents (checkpoints, notes, manifests, disclosures): a key held
 * by the process (SigningKey) or an external signer, such as a KMS or HSM behind an adapter,
 * that never hands out its private key.
 */
export interface Signer {
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** {kty, crv, x, kid, use: "sig", alg: "EdDSA"}: the JWKS entry without its validity window. */
  publicJwk: JWK;
  /** The 64-byte Ed25519 signature (RFC 8032) of `bytes`. */
  sign(bytes: Uint8Array): Promise<Uint8Array>;
}

/** A signer whose private key the process holds. */
export interface SigningKey extends Signer {
  privateKey: CryptoKey | KeyObject;
}

/** A public key as published in our JWKS: the public JWK plus its validity window. */
export type LedgerJwk = JWK & {
  /** RFC 3339: first instant at which checkpoints may be signed with this key. */
  valid_from?: string;
  /** RFC 3339: the instant the key stopped being current (exclusive); absent while current. */
  valid_until?: string;
};

export interface Jwks {
  keys: LedgerJwk[];
}

export type SigningKeyErrorCode = 'BAD_PRIVATE_KEY' | 'KEY_MISMATCH' | 'NOT_EXTRACTABLE';

export class SigningKeyError extends AppError {
  override readonly name = 'SigningKeyError';

  constructor(
    readonly code: SigningKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A fresh Ed25519 key (node:crypto, extractable so it can be written to a key file). */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFrom(privateKey);
}

/**
 * The signing key of a private Ed25519 JWK ({kty: "OKP", crv: "Ed25519", d, x}).
 * Precondition: when `x` is given it must be the public key of `d` (a file whose halves do not
 * match would sign checkpoints that verify under no published key).
 */
export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  if (privateJwk?.kty !== 'OKP' || privateJwk.crv !== ED25519_CRV || typeof privateJwk.d !== 'string') {
    throw new SigningKeyError('BAD_PRIVATE_KEY', 'expected a private Ed25519 JWK {kty: "OKP", crv: "Ed25519", d, x}');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: ED25519_CRV, d: privateJwk.d, x: derivedX(privateJwk.d) },
      format: 'jwk',
    });
  } catch (error) {
    throw new SigningKeyError('BAD_PRIVATE_KEY', `cannot import the private key: ${(error as Error).message}`);
  }
  const key = await signingKeyFrom(privateKey);
  if (privateJwk.x !== undefined && privateJwk.x !== key.publicJwk.x) {
    throw new SigningKeyError('KEY_MISMATCH', 'the JWK "x" is not the public key of its "d"');
  }
  return key;
}

/** The private JWK {kty, crv, x, d, kid} to store in a key file. */
export async function exportPrivateJwk(key: SigningKey): Promise<JWK> {
  let jwk: JWK;
  try {
    jwk = await exportJWK(key.privateKey);
  } catch (error) {
    throw new SigningKeyError('NOT_EXTRACTABLE', `cannot export the private key: ${(error as Error).message}`);
  }
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d, kid: key.kid };
}

/** The JWKS entry for `key` with its validity window (valid_until omitted while current). */
export function jwksEntry(key: SigningKey, validFrom: string, validUntil?: string): LedgerJwk {
  return { ...key.publicJwk, valid_from: validFrom, ...(validUntil === undefined ? {} : { valid_until: validUntil }) };
}

/** RFC 7638 SHA-256 thumbprint of an Ed25519 public key given as its JWK `x`. */
export async function ed25519Thumbprint(x: string): Promise<string> {
  return calculateJwkThumbprint({ kty: 'OKP', crv: ED25519_CRV, x }, 'sha256');
}

async function signingKeyFrom(privateKey: KeyObject): Promise<SigningKey> {
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
  return { ...(await ed25519PublicSigner(x)), privateKey, sign: async (bytes) => sign(null, bytes, privateKey) };
}

/** The kid and public JWK of the Ed25519 public key `x` (base64url), for a Signer of that key. */
export async function ed25519PublicSigner(x: string): Promise<Pick<Signer, 'kid' | 'publicJwk'>> {
  const kid = await ed25519Thumbprint(x);
  return { kid, publicJwk: { kty: 'OKP', crv: ED25519_CRV, x, kid, use: 'sig', alg: JWS_ALG } };
}

/** The public `x` derived from the seed `d`, so that a JWK without (or with a wrong) x still imports. */
function derivedX(d: string): string {
  const seedOnly = createPrivateKey({
    // PKCS#8 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed.
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(d, 'base64url')]),
    format: 'der',
    type: 'pkcs8',
  });
  return createPublicKey(seedOnly).export({ format: 'jwk' }).x as string;
}
