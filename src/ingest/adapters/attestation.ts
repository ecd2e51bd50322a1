import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import type { RawEvent } from './adapter.js';
import { header } from './headers.js';

/**
 * Gateway attestation, the pure part: a registered gateway may sign each event
 * with a compact JWS (EdDSA over Ed25519, or ES256) sent in the `x-routing-signature` header. The
 * signed payload is the event's raw bytes, either detached (RFC 7515 Appendix F:
 * `<protected>..<signature>`, the usual form since the bytes already travel as the message) or
 * embedded (`<protected>.<base64url(bytes)>.<signature>`, which must then be these exact bytes).
 * RFC 7797 unencoded payloads (`b64: false`) and any `crit` header are refused.
 *
 * Keys are looked up by `kid` through the caller's registry (per gateway); without a kid the
 * registry may still answer when the gateway has a single key. Synchronous node:crypto, no I/O.
 * What to do with the result — accept, record `attestation.verified: false`, or quarantine —
 * is the caller's per-gateway policy (see attestationDecision).
 */

export const SIGNATURE_HEADER = 'x-routing-signature';

export type KeyResolver = (kid: string | undefined) => JsonWebKey | KeyObject | undefined;

export type AttestationCheck =
  | { status: 'unsigned' }
  | { status: 'verified'; kid?: string; alg: 'EdDSA' | 'ES256' }
  | { status: 'invalid'; kid?: string; code: AttestationFailure; reason: string };

export type AttestationFailure =
  'MALFORMED_JWS' | 'UNSUPPORTED_ALG' | 'UNKNOWN_KEY' | 'KEY_MISMATCH' | 'PAYLOAD_MISMATCH' | 'BAD_SIGNATURE';

const B64URL = /^[A-Za-z0-9_-]*$/;

function invalid(code: AttestationFailure, reason: string, kid?: string): AttestationCheck {
  return { status: 'invalid', code, reason, ...(kid !== undefined ? { kid } : {}) };
}

export function verifyAttestation(raw: RawEvent, resolveKey: KeyResolver): AttestationCheck {
  const jws = header(raw, SIGNATURE_HEADER);
  if (jws === undefined) return { status: 'unsigned' };
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || parts[0] === '' || parts[2] === '') {
    return invalid('MALFORMED_JWS', `${SIGNATURE_HEADER} is not a compact JWS (three base64url parts)`);
  }
  const [protectedB64, payloadPart, signatureB64] = parts;
  let protectedHeader: Record<string, unknown>;
  try {
    protectedHeader = JSON.parse(Buffer.from(protectedB64, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return invalid('MALFORMED_JWS', 'the JWS protected header is not JSON');
  }
  if (typeof protectedHeader !== 'object' || protectedHeader === null)
    return invalid('MALFORMED_JWS', 'the JWS protected header is not an object');
  const kid =
    typeof protectedHeader.kid === 'string' && protectedHeader.kid.length <= 256 ? protectedHeader.kid : undefined;
  const alg = protectedHeader.alg;
  if (alg !== 'EdDSA' && alg !== 'ES256')
    return invalid('UNSUPPORTED_ALG', 'only EdDSA (Ed25519) and ES256 signatures are accepted', kid);
  if (protectedHeader.b64 !== undefined || protectedHeader.crit !== undefined) {
    return invalid('UNSUPPORTED_ALG', 'unencoded payloads (b64) and critical header parameters are not supported', kid);
  }

  const payloadB64 = raw.payload.toString('base64url');
  if (payloadPart !== '' && payloadPart !== payloadB64)
    return invalid('PAYLOAD_MISMATCH', 'the JWS carries a payload other than the event bytes', kid);

  const jwk = resolveKey(kid);
  if (jwk === undefined)
    return invalid(
      'UNKNOWN_KEY',
      kid ? `no registered key "${kid}" for this gateway` : 'the JWS names no kid and the gateway has no single key',
      kid,
    );
  let key: KeyObject;
  try {
    key = 'asymmetricKeyType' in jwk ? (jwk as KeyObject) : createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return invalid('KEY_MISMATCH', 'the registered key is not a usable public key', kid);
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if ((alg === 'EdDSA' && type !== 'ed25519') || (alg === 'ES256' && (type !== 'ec' || curve !== 'prime256v1'))) {
    return invalid('KEY_MISMATCH', `the registered key does not fit alg ${alg}`, kid);
  }

  const signingInput = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
  const signature = Buffer.from(signatureB64, 'base64url');
  let ok: boolean;
  try {
    ok =
      alg === 'EdDSA'
        ? verify(null, signingInput, key, signature)
        : // JWS ES256 signatures are R || S (64 bytes), not DER.
          signature.length === 64 && verify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    ok = false;
  }
  return ok
    ? { status: 'verified', alg, ...(kid !== undefined ? { kid } : {}) }
    : invalid('BAD_SIGNATURE', 'the signature does not verify', kid);
}

/** The record's attestation member for a check (absent for unsigned events). */
export function attestationOf(check: AttestationCheck): CanonicalRecord['attestation'] {
  if (check.status === 'unsigned') return undefined;
  return { ...(check.kid !== undefined ? { kid: check.kid } : {}), verified: check.status === 'verified' };
}

/**
 * The per-gateway policy: a bad signature is always quarantined (never recorded as merely
 * unverified); an unsigned event is accepted only where the gateway allows unsigned events.
 */
export function attestationDecision(
  check: AttestationCheck,
  acceptUnsigned: boolean,
): { accept: true } | { accept: false; code: string; reason: string } {
  if (check.status === 'verified') return { accept: true };
  if (check.status === 'unsigned')
    return acceptUnsigned
      ? { accept: true }
      : { accept: false, code: 'UNSIGNED', reason: 'this gateway must sign its events' };
  return { accept: false, code: `ATTESTATION_${check.code}`, reason: check.reason };
}
