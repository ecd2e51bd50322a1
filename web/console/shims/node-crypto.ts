/**
 * The part of `node:crypto` that the ledger's pure verification code (src/domain) uses, for the
 * browser bundle: the console's build aliases `node:crypto` to this module, so the receipt, Merkle
 * and checkpoint verifiers run in the page exactly as they run in the service and the CLIs.
 *
 * SHA-256 comes from @noble/hashes (audited, synchronous: the domain hashes synchronously, and
 * WebCrypto's digest is asynchronous only). Signatures do not pass through here: jose verifies
 * Ed25519 with WebCrypto. Key generation and private keys are never needed in the page and throw.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Buffer } from './buffer.js';

type Bytes = Uint8Array | string;

const toBytes = (data: Bytes): Uint8Array => (typeof data === 'string' ? new TextEncoder().encode(data) : data);

function assertSha256(algorithm: string): void {
  if (algorithm.toLowerCase() !== 'sha256') throw new Error(`the console hashes with sha256 only, not ${algorithm}`);
}

/** crypto.hash(algorithm, data, outputEncoding): one-shot digest. */
export function hash(algorithm: string, data: Bytes, outputEncoding: 'buffer' | 'hex' = 'hex'): Buffer | string {
  assertSha256(algorithm);
  const digest = Buffer.from(sha256(toBytes(data)));
  return outputEncoding === 'buffer' ? digest : digest.toString(outputEncoding);
}

/** crypto.createHash('sha256'): update(...) then digest([encoding]). */
export function createHash(algorithm: string) {
  assertSha256(algorithm);
  const h = sha256.create();
  const api = {
    update(data: Bytes) {
      h.update(toBytes(data));
      return api;
    },
    digest(encoding?: 'hex' | 'base64' | 'base64url') {
      const digest = Buffer.from(h.digest());
      return encoding === undefined ? digest : digest.toString(encoding);
    },
  };
  return api;
}

export function randomUUID(): string {
  return globalThis.crypto.randomUUID();
}

const notInTheBrowser = (name: string) => () => {
  throw new Error(`${name} is not available in the console: it only verifies`);
};
export const createPrivateKey = notInTheBrowser('createPrivateKey');
export const createPublicKey = notInTheBrowser('createPublicKey');
export const generateKeyPairSync = notInTheBrowser('generateKeyPairSync');
export const sign = notInTheBrowser('sign');
export class KeyObject {}
