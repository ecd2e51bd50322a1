/**
 * The disclosure verifier a product runs in a browser or in Node (≥ 20): WebCrypto, TextEncoder
 * and TextDecoder only; no Node modules, no dependencies, so it can be copied into a front-end
 * bundle as it is. It checks the compact JWS against the ledger's JWKS (/.well-known/jwks.json):
 * protected header exactly {alg: "EdDSA", kid, typ: "routing-ledger-disclosure+jws"}, the key
 * chosen by kid and that kid being the RFC 7638 thumbprint of the key, the Ed25519 signature,
 * and the statement's issued_at within the key's validity window. Returns the statement, or
 * throws an Error saying what failed.
 */

export interface DisclosureJwk {
  kty?: string;
  crv?: string;
  x?: string;
  kid?: string;
  valid_from?: string;
  valid_until?: string;
}

const TYP = 'routing-ledger-disclosure+jws';

export async function verifyDisclosure(
  jws: string,
  jwks: { keys: DisclosureJwk[] },
): Promise<Record<string, unknown> & { sentence: string; issued_at: string }> {
  const parts = typeof jws === 'string' ? jws.split('.') : [];
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) throw new Error('not a compact JWS');
  const header = json(bytes(parts[0])) as Record<string, unknown>;
  if (Object.keys(header).sort().join() !== 'alg,kid,typ' || header.alg !== 'EdDSA' || header.typ !== TYP)
    throw new Error('not a disclosure header');
  const keys = (jwks?.keys ?? []).filter((k) => k.kid === header.kid);
  if (keys.length !== 1) throw new Error(`no single key with kid ${String(header.kid)}`);
  const key = keys[0];
  if (key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.x !== 'string') throw new Error('not an Ed25519 key');
  const thumbprint = b64url(
    new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`{"crv":"Ed25519","kty":"OKP","x":"${key.x}"}`)),
    ),
  );
  if (thumbprint !== key.kid) throw new Error('kid is not the thumbprint of its key');
  const publicKey = await crypto.subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'Ed25519', x: key.x },
    { name: 'Ed25519' },
    false,
    ['verify'],
  );
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  if (!(await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, bytes(parts[2]), signed)))
    throw new Error('signature does not verify');
  const statement = json(bytes(parts[1])) as Record<string, unknown> & { sentence: string; issued_at: string };
  const at = Date.parse(statement.issued_at);
  if (
    !(at >= Date.parse(key.valid_from ?? '')) ||
    (key.valid_until !== undefined && !(at < Date.parse(key.valid_until)))
  )
    throw new Error('issued outside the key validity window');
  return statement;
}

function bytes(part: string): Uint8Array<ArrayBuffer> {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((part.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (b64url(out) !== part) throw new Error('not canonical base64url');
  return out;
}

function b64url(b: Uint8Array): string {
  let bin = '';
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function json(b: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
  } catch {
    throw new Error('not UTF-8 JSON');
  }
}
