import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig, RuntimeConfig } from '../config/app-config.js';
import {
  exportPrivateJwk,
  generateSigningKey,
  importSigningKey,
  type SigningKey,
} from '../domain/checkpoint/signing-key.js';

/**
 * Where bearer-token verification keys come from, in order:
 *  1. AUTH_JWKS_URL (an identity provider; jose caches and refreshes it),
 *  2. AUTH_JWKS_FILE (a JWKS on disk),
 *  3. development and test only: an Ed25519 key generated into DATA_DIR/auth-signing-key.jwk,
 *     the key `npm run token` signs with. It is separate from the ledger's checkpoint key so
 *     that an API token can never pass for a checkpoint signature or the other way round.
 * In production with neither 1 nor 2 there are no keys and every token is refused.
 */

export const DEV_AUTH_KEY_FILE = 'auth-signing-key.jwk';

export type KeySource = 'jwks-url' | 'jwks-file' | 'dev-key' | 'none';

export interface VerificationKeys {
  source: KeySource;
  getKey?: JWTVerifyGetKey;
  /** What a log line should say about the source (a path or URL, never key material). */
  detail: string;
}

export async function verificationKeys(auth: AuthConfig, runtime: RuntimeConfig): Promise<VerificationKeys> {
  if (auth.jwksUrl)
    return { source: 'jwks-url', getKey: createRemoteJWKSet(new URL(auth.jwksUrl)), detail: auth.jwksUrl };
  if (auth.jwksFile) {
    return {
      source: 'jwks-file',
      getKey: createLocalJWKSet(publicKeysOnly(JSON.parse(await readFile(auth.jwksFile, 'utf8')))),
      detail: auth.jwksFile,
    };
  }
  if (runtime.env === 'production')
    return { source: 'none', detail: 'no AUTH_JWKS_URL or AUTH_JWKS_FILE in production' };
  const key = await loadOrCreateDevAuthKey(runtime.dataDir);
  return {
    source: 'dev-key',
    getKey: createLocalJWKSet({ keys: [key.publicJwk] }),
    detail: join(runtime.dataDir, DEV_AUTH_KEY_FILE),
  };
}

/**
 * Drops symmetric keys and private members: a JWKS file that holds an `oct` key would let
 * anyone who can read it mint HMAC tokens, and a private JWK does not verify.
 */
export function publicKeysOnly(jwks: unknown): JSONWebKeySet {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error('AUTH_JWKS_FILE must hold a JWKS: {"keys": [...]}');
  return {
    keys: (keys as JWK[])
      .filter((k) => k && typeof k === 'object' && k.kty !== 'oct')
      .map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, oth: _oth, ...pub }) => pub),
  };
}

/** The development token key; created on first use, race-safe across processes (service and CLI). */
export async function loadOrCreateDevAuthKey(dataDir: string, warn?: (m: string) => void): Promise<SigningKey> {
  const path = join(dataDir, DEV_AUTH_KEY_FILE);
  try {
    return await importSigningKey(JSON.parse(await readFile(path, 'utf8')) as JWK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  warn?.(`generating a development API token key at ${path}: tokens it signs are trusted only outside production`);
  const key = await generateSigningKey();
  await mkdir(dataDir, { recursive: true });
  await writeFile(path, JSON.stringify(await exportPrivateJwk(key)), { mode: 0o600, flag: 'wx' }).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    },
  );
  // Another process may have won the race to create it: use whatever is on disk.
  return importSigningKey(JSON.parse(await readFile(path, 'utf8')) as JWK);
}
