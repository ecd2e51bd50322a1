import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AppError } from '../common/app-error.js';
import type { ExternalSignerConfig } from '../config/app-config.js';
import { ED25519_PUBLIC_KEY_SIZE } from '../domain/checkpoint/ed25519.js';
import { ED25519_CRV, ed25519PublicSigner, type Signer } from '../domain/checkpoint/signing-key.js';

/**
 * A Signer whose Ed25519 key lives in another process: a KMS or HSM adapter, a signing service.
 * The protocol (docs/operations.md, "External signer"), relative to SIGNING_EXTERNAL_URL:
 *
 *   GET  <url>/public-key  → 200, application/json: the public JWK {"kty":"OKP","crv":"Ed25519","x":…}
 *   POST <url>/sign        body: the bytes to sign (application/octet-stream)
 *                          → 200, application/octet-stream: the 64-byte Ed25519 signature (RFC 8032)
 *
 * With SIGNING_EXTERNAL_TOKEN both requests carry `Authorization: Bearer <token>`. The key is read
 * once, at start-up (its kid is registered in the JWKS like a local key's); every signature is
 * verified against it before use, so a signer that answers with another key's signature, or
 * garbage, fails the signing (and the append that needed it) instead of publishing a checkpoint
 * nobody can verify.
 */
export class ExternalSignerError extends AppError {
  readonly code = 'EXTERNAL_SIGNER';
  /** The signer may be back on the next attempt: the batch is appended again. */
  override readonly retriable = true;
}

export async function connectExternalSigner(config: ExternalSignerConfig): Promise<Signer> {
  const base = config.url.replace(/\/+$/, '');
  const headers: Record<string, string> = config.token ? { authorization: `Bearer ${config.token}` } : {};
  const call = async (path: string, init: RequestInit): Promise<Buffer> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string>) },
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (e) {
      throw new ExternalSignerError(`external signer ${base}${path}: ${(e as Error).message}`, { cause: e });
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200)
      throw new ExternalSignerError(
        `external signer ${base}${path} answered ${res.status}: ${body.toString('utf8').slice(0, 200)}`,
      );
    return body;
  };

  const x = publicX(await call('/public-key', { method: 'GET', headers: { accept: 'application/json' } }));
  const publicKey: KeyObject = createPublicKey({ key: { kty: 'OKP', crv: ED25519_CRV, x }, format: 'jwk' });
  return {
    ...(await ed25519PublicSigner(x)),
    sign: async (bytes) => {
      const signature = await call('/sign', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' },
        body: bytes,
      });
      if (!verify(null, bytes, publicKey, signature))
        throw new ExternalSignerError(
          `external signer ${base}/sign returned ${signature.length} bytes that are not a signature of its public key`,
        );
      return signature;
    },
  };
}

function publicX(body: Buffer): string {
  let jwk: { kty?: unknown; crv?: unknown; x?: unknown; d?: unknown };
  try {
    jwk = JSON.parse(body.toString('utf8')) as typeof jwk;
  } catch {
    throw new ExternalSignerError('external signer /public-key did not answer JSON');
  }
  if (jwk?.kty !== 'OKP' || jwk.crv !== ED25519_CRV || typeof jwk.x !== 'string')
    throw new ExternalSignerError(
      'external signer /public-key is not an Ed25519 public JWK {kty:"OKP",crv:"Ed25519",x}',
    );
  if (Buffer.from(jwk.x, 'base64url').length !== ED25519_PUBLIC_KEY_SIZE || !/^[A-Za-z0-9_-]+$/.test(jwk.x))
    throw new ExternalSignerError('external signer /public-key: x is not a 32-byte base64url public key');
  return jwk.x;
}
