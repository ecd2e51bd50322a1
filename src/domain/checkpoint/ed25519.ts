/**
 * Ed25519 verification as the JWS path does it (WebCrypto `Ed25519`, which jose 6 calls), behind
 * a strict shape check of our own.
 *
 * The shape check does not depend on the crypto backend: a signature must be exactly 64 bytes
 * and its S half must be below the group order L (RFC 8032 §5.1.7 step 1). OpenSSL 3 already
 * rejects both, but the offline verifier may run elsewhere (another runtime, a browser, a
 * future backend), and accepting S + L would make signatures malleable: the same checkpoint
 * with two different valid JWS strings.
 */
import type { JWK } from 'jose';

export const ED25519_SIGNATURE_SIZE = 64;
export const ED25519_PUBLIC_KEY_SIZE = 32;

/** The order of the Ed25519 base point: 2^252 + 27742317777372353535851937790883648493. */
const GROUP_ORDER_L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** Why `signature` cannot be a valid Ed25519 signature by its shape alone, or null. */
export function ed25519SignatureDefect(signature: Uint8Array): string | null {
  if (signature.length !== ED25519_SIGNATURE_SIZE) {
    return `signature is ${signature.length} bytes, want ${ED25519_SIGNATURE_SIZE}`;
  }
  if (littleEndian(signature.subarray(32)) >= GROUP_ORDER_L)
    return 'signature S is not below the group order (malleable)';
  return null;
}

/**
 * Whether `signature` is a valid Ed25519 signature of `message` under the public JWK
 * {kty: "OKP", crv: "Ed25519", x}. False (never a throw) for any invalid signature or key.
 */
export async function ed25519SignatureIsValid(
  publicJwk: JWK,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (ed25519SignatureDefect(signature) !== null) return false;
  try {
    const key = await crypto.subtle.importKey(
      'jwk',
      { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x },
      { name: 'Ed25519' },
      false,
      ['verify'],
    );
    // Copies backed by a plain ArrayBuffer: what the DOM's BufferSource type asks for (the console runs this in a page).
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, Uint8Array.from(signature), Uint8Array.from(message));
  } catch {
    return false;
  }
}

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}
