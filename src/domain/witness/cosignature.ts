/**
 * Ed25519 cosignatures (https://c2sp.org/tlog-cosignature, cosignature/v1): a witness's note
 * signature on a checkpoint, whose signature bytes are a `timestamped_signature`
 *
 *   u64 big-endian POSIX timestamp || Ed25519 signature (64 bytes)
 *
 * over the message "cosignature/v1\ntime <timestamp>\n" || the checkpoint's note text. The key
 * ID uses signature type 0x04, so a cosigner key can never verify (or be mistaken for) a log's
 * 0x01 note signature, even under the same name.
 */
import { KeyObject, createPublicKey, hash, sign, verify, type webcrypto } from 'node:crypto';
import { ED25519_PUBLIC_KEY_SIZE, ed25519SignatureDefect } from '../checkpoint/ed25519.js';
import {
  assertKeyName,
  decodeBase64,
  ed25519PublicKeyBytes,
  type NoteSigner,
  type NoteVerifier,
} from '../note/note-keys.js';
import { WitnessError } from './witness-error.js';

export const COSIGNATURE_V1_KEY_TYPE = 0x04;
/** 8-byte timestamp + 64-byte Ed25519 signature. */
export const COSIGNATURE_V1_SIZE = 72;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** A cosigner's verifier: `verify(text, sig)` checks a cosignature/v1 on note text. */
export interface CosignerVerifier extends NoteVerifier {
  publicKey: Buffer;
  /** The verifier key text, as it would appear in a policy. */
  vkey: string;
}

/** SHA-256(name || "\n" || 0x04 || public key)[:4] as a big-endian uint32. */
export function cosignerKeyId(name: string, publicKey: Uint8Array): number {
  assertKeyName(name);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE)
    throw new WitnessError('BAD_COSIGNER_KEY', `Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  const material = Buffer.concat([Buffer.from(name, 'utf8'), Buffer.of(0x0a, COSIGNATURE_V1_KEY_TYPE), publicKey]);
  return hash('sha256', material, 'buffer').readUInt32BE(0);
}

/** `<name>+<8 hex key ID>+<base64(0x04 || public key)>`. */
export function formatCosignerKey(name: string, publicKey: Uint8Array): string {
  const id = cosignerKeyId(name, publicKey).toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Buffer.of(COSIGNATURE_V1_KEY_TYPE), publicKey]).toString('base64')}`;
}

/** The signed message of a cosignature/v1 made at `timestamp` on checkpoint note text `text`. */
export function cosignatureMessage(timestamp: bigint | number, text: string | Uint8Array): Buffer {
  const header = Buffer.from(`cosignature/v1\ntime ${BigInt(timestamp).toString()}\n`, 'utf8');
  return Buffer.concat([header, typeof text === 'string' ? Buffer.from(text, 'utf8') : text]);
}

/** The timestamp of a cosignature's signature bytes (after the key ID). */
export function cosignatureTimestamp(signature: Uint8Array): bigint {
  if (signature.length !== COSIGNATURE_V1_SIZE)
    throw new WitnessError('BAD_COSIGNER_KEY', `cosignature is ${signature.length} bytes, want ${COSIGNATURE_V1_SIZE}`);
  return Buffer.from(signature).readBigUInt64BE(0);
}

/** Parses a cosigner verifier key (type 0x04 only). Throws BAD_COSIGNER_KEY. */
export function parseCosignerKey(vkey: string): CosignerVerifier {
  const bad = (why: string) => new WitnessError('BAD_COSIGNER_KEY', `${why}: ${JSON.stringify(vkey).slice(0, 80)}`);
  const first = typeof vkey === 'string' ? vkey.indexOf('+') : -1;
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw bad('verifier key must be <name>+<hex key ID>+<base64 key>');
  const [name, hexId, encoded] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  try {
    assertKeyName(name);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!/^[0-9a-f]{8}$/i.test(hexId)) throw bad('key ID is not 8 hex digits');
  const key = decodeBase64(encoded);
  if (!key || key.length !== 1 + ED25519_PUBLIC_KEY_SIZE) throw bad('key is not base64 of a type byte and 32 bytes');
  if (key[0] !== COSIGNATURE_V1_KEY_TYPE)
    throw bad(`signature type 0x${key[0].toString(16).padStart(2, '0')} is not an Ed25519 cosignature (0x04)`);
  const publicKey = Buffer.from(key.subarray(1));
  if (Number.parseInt(hexId, 16) !== cosignerKeyId(name, publicKey))
    throw bad('key ID is not the ID of this name and key');
  return cosignerVerifier(name, publicKey);
}

export function cosignerVerifier(name: string, publicKey: Uint8Array): CosignerVerifier {
  const keyId = cosignerKeyId(name, publicKey);
  let key: KeyObject | undefined;
  try {
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    key = undefined; // an invalid point: a verifier that accepts nothing
  }
  return {
    name,
    keyId,
    publicKey: Buffer.from(publicKey),
    vkey: formatCosignerKey(name, publicKey),
    verify: (text, signature) => {
      if (!key || signature.length !== COSIGNATURE_V1_SIZE) return false;
      const sig = signature.subarray(8);
      const timestamp = Buffer.from(signature).readBigUInt64BE(0);
      if (timestamp > MAX_TIMESTAMP || ed25519SignatureDefect(sig) !== null) return false;
      try {
        return verify(null, cosignatureMessage(timestamp, text), key, sig);
      } catch {
        return false;
      }
    },
  };
}

/**
 * A cosigner with an Ed25519 private key. `now` gives the POSIX time in seconds of each
 * cosignature (injected so tests can fix it).
 */
export function cosigner(
  name: string,
  privateKey: KeyObject | webcrypto.CryptoKey,
  now: () => number = () => Math.floor(Date.now() / 1000),
): NoteSigner & { vkey: string } {
  const key = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
  if (key.asymmetricKeyType !== 'ed25519' || key.type !== 'private')
    throw new TypeError('an Ed25519 private key is required');
  const publicKey = ed25519PublicKeyBytes(key);
  return {
    name,
    keyId: cosignerKeyId(name, publicKey),
    vkey: formatCosignerKey(name, publicKey),
    sign: (text) => {
      const timestamp = BigInt(now());
      if (timestamp < 0n || timestamp > MAX_TIMESTAMP) throw new RangeError(`timestamp ${timestamp} out of range`);
      const out = Buffer.alloc(COSIGNATURE_V1_SIZE);
      out.writeBigUInt64BE(timestamp, 0);
      sign(null, cosignatureMessage(timestamp, text), key).copy(out, 8);
      return out;
    },
  };
}
