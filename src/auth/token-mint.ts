import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../domain/checkpoint/signing-key.js';
import type { Role } from './principal.js';

/** Development token minting (the `token` CLI and tests). Production tokens come from an identity provider. */

export const DEFAULT_TOKEN_TTL = '1h';
/** Longest lifetime the CLI will mint: a dev token is a credential, keep it short-lived. */
export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "15m", "1h", "7d" → seconds. Throws on anything else or beyond MAX_TOKEN_TTL_S. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,7})([smhd])$/.exec(text.trim());
  if (!m) throw new Error(`--ttl ${JSON.stringify(text)}: expected a number and a unit, e.g. 15m, 1h, 7d`);
  const seconds = Number(m[1]) * TTL_UNITS[m[2]];
  if (seconds < 1 || seconds > MAX_TOKEN_TTL_S)
    throw new Error(`--ttl ${text}: must be between 1s and ${MAX_TOKEN_TTL_S / 86400}d`);
  return seconds;
}

export interface TokenClaims {
  subject: string;
  roles: Role[];
  /** Tenant ids, or ["*"] for an admin spanning every tenant. */
  tenants: string[];
}

export async function mintToken(
  key: SigningKey,
  claims: TokenClaims,
  opts: { issuer: string; audience: string; ttlSeconds: number; now?: Date },
): Promise<string> {
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ roles: claims.roles, tenants: claims.tenants })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}
