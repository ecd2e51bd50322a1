/**
 * Signed-note keys (https://c2sp.org/signed-note), Ed25519 only (signature type 0x01):
 *
 *   key ID       = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4], a big-endian uint32
 *   verifier key = <name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>
 *
 * The key ID binds name and key, so one Ed25519 key published under several names (one per
 * shard) is several verifier keys, and a verifier key whose ID is not its own is refused.
 */
import { KeyObject, createPublicKey, hash, sign, verify, type webcrypto } from 'node:crypto';
import { ED25519_PUBLIC_KEY_SIZE, ed25519SignatureDefect } from '../checkpoint/ed25519.js';
import { NoteError } from './note-error.js';

export const ED25519_NOTE_KEY_TYPE = 0x01;

/** Signs note text under a key name. */
export interface NoteSigner {
  name: string;
  keyId: number;
  sign(text: Uint8Array): Buffer;
}

/** Verifies signatures of one (name, key ID). */
export interface NoteVerifier {
  name: string;
  keyId: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Why `name` cannot be a key name (empty, a Unicode space, '+', a control character), or null. */
export function keyNameDefect(name: unknown): string | null {
  if (typeof name !== 'string' || name === '') return 'key name must be a non-empty string';
  // Control characters are refused too: no note may contain them, so such a name could never sign.
  if (/[\s+\p{Cc}]/u.test(name))
    return `key name ${JSON.stringify(name)} must not contain spaces, '+' or control characters`;
  return null;
}

export function assertKeyName(name: string): void {
  const defect = keyNameDefect(name);
  if (defect !== null) throw new NoteError('BAD_KEY_NAME', defect);
}

/** The key ID of an Ed25519 key under `name`. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  assertKeyName(name);
  assertPublicKey(publicKey);
  const digest = hash(
    'sha256',
    Buffer.concat([Buffer.from(name, 'utf8'), Buffer.of(0x0a, ED25519_NOTE_KEY_TYPE), publicKey]),
    'buffer',
  );
  return digest.readUInt32BE(0);
}

/** The verifier key text `<name>+<hex key ID>+<base64(0x01 || public key)>`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const id = ed25519KeyId(name, publicKey);
  return `${name}+${hexKeyId(id)}+${Buffer.concat([Buffer.of(ED25519_NOTE_KEY_TYPE), publicKey]).toString('base64')}`;
}

/** The verifier of a verifier key; throws BAD_VERIFIER_KEY, BAD_KEY_NAME or UNSUPPORTED_KEY_TYPE. */
export function parseVerifierKey(vkey: string): NoteVerifier & { publicKey: Buffer } {
  // Split at the first two pluses only: standard base64 uses '+' too.
  const first = typeof vkey === 'string' ? vkey.indexOf('+') : -1;
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new NoteError('BAD_VERIFIER_KEY', 'verifier key must be <name>+<hex key ID>+<base64 key>');
  const [name, hexId, encoded] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  assertKeyName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(hexId))
    throw new NoteError('BAD_VERIFIER_KEY', `key ID ${JSON.stringify(hexId)} is not 8 hex digits`);
  const key = decodeBase64(encoded);
  if (!key || key.length === 0) throw new NoteError('BAD_VERIFIER_KEY', 'key is not standard base64');
  if (key[0] !== ED25519_NOTE_KEY_TYPE)
    throw new NoteError(
      'UNSUPPORTED_KEY_TYPE',
      `signature type 0x${key[0].toString(16).padStart(2, '0')} is not Ed25519 (0x01)`,
    );
  const publicKey = key.subarray(1);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE)
    throw new NoteError(
      'BAD_VERIFIER_KEY',
      `Ed25519 key is ${publicKey.length} bytes, want ${ED25519_PUBLIC_KEY_SIZE}`,
    );
  const keyId = Number.parseInt(hexId, 16);
  if (keyId !== ed25519KeyId(name, publicKey))
    throw new NoteError('BAD_VERIFIER_KEY', `key ID ${hexId} is not the ID of this name and key`);
  return { ...ed25519NoteVerifier(name, publicKey), publicKey: Buffer.from(publicKey) };
}

export function ed25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const keyId = ed25519KeyId(name, publicKey);
  let key: KeyObject | undefined;
  try {
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    // An invalid point encoding: the verifier exists (it matches its name and ID) but accepts nothing.
    key = undefined;
  }
  return {
    name,
    keyId,
    verify: (text, signature) => {
      // Shape first (64 bytes, S < L): no malleable second signature for the same note.
      if (!key || ed25519SignatureDefect(signature) !== null) return false;
      try {
        return verify(null, text, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/** A signer for `name` with an Ed25519 private key (a node:crypto KeyObject or an exportable CryptoKey). */
export function ed25519NoteSigner(name: string, privateKey: KeyObject | webcrypto.CryptoKey): NoteSigner {
  // jose may hand back a WebCrypto key; KeyObject.from bridges it to node:crypto.
  const key = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
  if (key.asymmetricKeyType !== 'ed25519' || key.type !== 'private')
    throw new TypeError('an Ed25519 private key is required');
  const publicKey = ed25519PublicKeyBytes(key);
  const keyId = ed25519KeyId(name, publicKey);
  return { name, keyId, sign: (text) => sign(null, text, key) };
}

/** Signs note text under a key name where the key may live outside the process (a KMS, an HSM). */
export interface AsyncNoteSigner {
  name: string;
  keyId: number;
  sign(text: Uint8Array): Promise<Uint8Array>;
}

/**
 * A signer for `name` with a ledger Signer (its public key `x` and its `sign`), whatever holds the
 * private key. Signatures are checked for shape (64 bytes, S < L) before they enter a note.
 */
export function ed25519AsyncNoteSigner(
  name: string,
  signer: { publicJwk: { x?: string }; sign(bytes: Uint8Array): Promise<Uint8Array> },
): AsyncNoteSigner {
  const publicKey = Buffer.from(signer.publicJwk.x ?? '', 'base64url');
  const keyId = ed25519KeyId(name, publicKey);
  return {
    name,
    keyId,
    sign: async (text) => {
      const signature = await signer.sign(text);
      const defect = ed25519SignatureDefect(signature);
      if (defect !== null) throw new NoteError('BAD_SIGNATURE', `the signer returned a bad signature: ${defect}`);
      return signature;
    },
  };
}

/** The 32-byte public key of an Ed25519 private or public KeyObject. */
export function ed25519PublicKeyBytes(key: KeyObject): Buffer {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

export function hexKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** Standard base64 (RFC 4648 §4) in its one canonical spelling, or undefined. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function assertPublicKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new NoteError('BAD_VERIFIER_KEY', `Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
}
