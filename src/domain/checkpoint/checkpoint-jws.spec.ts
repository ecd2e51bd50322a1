import { CompactSign } from 'jose';
import { CHECKPOINT_TYP, CheckpointError, isUtcMillisTimestamp, type Checkpoint } from './checkpoint.js';
import {
  assertWithinKeyValidity,
  signCheckpoint,
  signJws,
  verifyCheckpoint,
  verifyJws,
  type JwsVerificationErrorCode,
} from './checkpoint-jws.js';
import { generateSigningKey, jwksEntry, type Jwks, type SigningKey } from './signing-key.js';

const GROUP_ORDER_L = 2n ** 252n + 27742317777372353535851937790883648493n;

const checkpoint = (over: Partial<Checkpoint> = {}): Checkpoint => ({
  origin: 'routing-ledger.example/prod',
  shard: 3,
  tree_size: 42,
  root_hash: 'ab'.repeat(32),
  timestamp: '2026-11-25T16:45:59.123Z',
  ...over,
});

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

let key: SigningKey;
let jwks: Jwks;

beforeAll(async () => {
  key = await generateSigningKey();
  jwks = { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] };
});

async function rejection(promise: Promise<unknown>): Promise<JwsVerificationErrorCode | string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? `no code: ${String(error)}`;
  }
  return 'accepted';
}

describe('signCheckpoint / verifyCheckpoint round trip', () => {
  it('returns the signed checkpoint', async () => {
    const cp = checkpoint();
    expect(await verifyCheckpoint(await signCheckpoint(cp, key), jwks)).toEqual(cp);
  });

  it('uses exactly the protected header {alg: EdDSA, kid, typ} and the canonical payload', async () => {
    const [header, payload] = (await signCheckpoint(checkpoint(), key)).split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
      alg: 'EdDSA',
      kid: key.kid,
      typ: CHECKPOINT_TYP,
    });
    expect(Buffer.from(payload, 'base64url').toString()).toBe(
      `{"origin":"routing-ledger.example/prod","root_hash":"${'ab'.repeat(32)}","shard":3,"timestamp":"2026-11-25T16:45:59.123Z","tree_size":42}`,
    );
  });

  it('accepts a checkpoint of the empty tree', async () => {
    const cp = checkpoint({
      tree_size: 0,
      root_hash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    expect(await verifyCheckpoint(await signCheckpoint(cp, key), jwks)).toEqual(cp);
  });

  it('keeps verifying old checkpoints after a key rotation', async () => {
    const next = await generateSigningKey();
    const rotated: Jwks = {
      keys: [
        jwksEntry(key, '2026-01-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'),
        jwksEntry(next, '2026-06-01T00:00:00.000Z'),
      ],
    };
    const old = checkpoint({ timestamp: '2026-03-01T00:00:00.000Z' });
    const fresh = checkpoint({ timestamp: '2026-07-01T00:00:00.000Z' });
    expect(await verifyCheckpoint(await signCheckpoint(old, key), rotated)).toEqual(old);
    expect(await verifyCheckpoint(await signCheckpoint(fresh, next), rotated)).toEqual(fresh);
  });

  it('refuses to sign a malformed checkpoint', async () => {
    await expect(signCheckpoint(checkpoint({ root_hash: 'AB'.repeat(32) }), key)).rejects.toBeInstanceOf(
      CheckpointError,
    );
    await expect(signCheckpoint(checkpoint({ timestamp: '2026-11-25T16:45:59Z' }), key)).rejects.toBeInstanceOf(
      CheckpointError,
    );
    await expect(signCheckpoint({ ...checkpoint(), extra: 1 } as Checkpoint, key)).rejects.toBeInstanceOf(
      CheckpointError,
    );
  });
});

describe('verifyCheckpoint rejects', () => {
  it('a tampered payload (BAD_SIGNATURE)', async () => {
    const [header, , signature] = (await signCheckpoint(checkpoint(), key)).split('.');
    const forged = `${header}.${b64url(JSON.stringify(checkpoint({ tree_size: 43 })).replace(/\s/g, ''))}.${signature}`;
    expect(await rejection(verifyCheckpoint(forged, jwks))).toBe('BAD_SIGNATURE');
  });

  it('a flipped signature bit (BAD_SIGNATURE)', async () => {
    const [header, payload, signature] = (await signCheckpoint(checkpoint(), key)).split('.');
    const bytes = Buffer.from(signature, 'base64url');
    bytes[5] ^= 1;
    expect(await rejection(verifyCheckpoint(`${header}.${payload}.${b64url(bytes)}`, jwks))).toBe('BAD_SIGNATURE');
  });

  it('a malleated signature with S + L (BAD_SIGNATURE, before any curve math)', async () => {
    const [header, payload, signature] = (await signCheckpoint(checkpoint(), key)).split('.');
    const bytes = Buffer.from(signature, 'base64url');
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(bytes[i]);
    s += GROUP_ORDER_L;
    for (let i = 32; i < 64; i++, s >>= 8n) bytes[i] = Number(s & 0xffn);
    expect(await rejection(verifyCheckpoint(`${header}.${payload}.${b64url(bytes)}`, jwks))).toBe('BAD_SIGNATURE');
  });

  it('a non-canonical base64url encoding of the signature (MALFORMED_JWS)', async () => {
    const jws = await signCheckpoint(checkpoint(), key);
    // 64 bytes = 86 base64url chars; the last char carries 4 unused bits: set one of them.
    const last = jws[jws.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) + 1];
    expect(await rejection(verifyCheckpoint(jws.slice(0, -1) + sibling, jwks))).toBe('MALFORMED_JWS');
  });

  it('a JWS of another typ (WRONG_TYP)', async () => {
    const jws = await signJws(Buffer.from(JSON.stringify(checkpoint())), 'routing-ledger-manifest+jws', key);
    expect(await rejection(verifyCheckpoint(jws, jwks))).toBe('WRONG_TYP');
  });

  it('alg none (ALG_NOT_ALLOWED)', async () => {
    const header = b64url(JSON.stringify({ alg: 'none', kid: key.kid, typ: CHECKPOINT_TYP }));
    const payload = (await signCheckpoint(checkpoint(), key)).split('.')[1];
    expect(await rejection(verifyCheckpoint(`${header}.${payload}.`, jwks))).toBe('ALG_NOT_ALLOWED');
  });

  it('HS256 keyed with the public key bytes (ALG_NOT_ALLOWED)', async () => {
    const secret = Buffer.from(key.publicJwk.x as string, 'base64url');
    const jws = await new CompactSign(Buffer.from(JSON.stringify(checkpoint())))
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: CHECKPOINT_TYP })
      .sign(secret);
    expect(await rejection(verifyCheckpoint(jws, jwks))).toBe('ALG_NOT_ALLOWED');
  });

  it('the fully-specified alg "Ed25519" too: only EdDSA is accepted (ALG_NOT_ALLOWED)', async () => {
    const jws = await new CompactSign(Buffer.from('{}'))
      .setProtectedHeader({ alg: 'Ed25519', kid: key.kid, typ: CHECKPOINT_TYP })
      .sign(key.privateKey);
    expect(await rejection(verifyCheckpoint(jws, jwks))).toBe('ALG_NOT_ALLOWED');
  });

  it('extra protected header members, e.g. crit or jwk (BAD_HEADER)', async () => {
    const jws = await new CompactSign(Buffer.from('{}'))
      .setProtectedHeader({
        alg: 'EdDSA',
        kid: key.kid,
        typ: CHECKPOINT_TYP,
        jwk: { kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x as string },
      })
      .sign(key.privateKey);
    expect(await rejection(verifyCheckpoint(jws, jwks))).toBe('BAD_HEADER');
  });

  it('an unknown kid (UNKNOWN_KID)', async () => {
    const other = await generateSigningKey();
    expect(await rejection(verifyCheckpoint(await signCheckpoint(checkpoint(), other), jwks))).toBe('UNKNOWN_KID');
  });

  it('a JWKS entry whose kid names another key (KID_MISMATCH)', async () => {
    const other = await generateSigningKey();
    const swapped: Jwks = { keys: [{ ...jwksEntry(key, '2026-01-01T00:00:00.000Z'), x: other.publicJwk.x }] };
    expect(await rejection(verifyCheckpoint(await signCheckpoint(checkpoint(), key), swapped))).toBe('KID_MISMATCH');
  });

  it('two JWKS entries with the same kid (AMBIGUOUS_KID)', async () => {
    const twice: Jwks = { keys: [jwks.keys[0], { ...jwks.keys[0] }] };
    expect(await rejection(verifyCheckpoint(await signCheckpoint(checkpoint(), key), twice))).toBe('AMBIGUOUS_KID');
  });

  it('a JWKS entry that is not a public Ed25519 signing key (BAD_KEY)', async () => {
    const jws = await signCheckpoint(checkpoint(), key);
    const entry = jwks.keys[0];
    expect(await rejection(verifyCheckpoint(jws, { keys: [{ ...entry, crv: 'X25519' }] }))).toBe('BAD_KEY');
    expect(await rejection(verifyCheckpoint(jws, { keys: [{ ...entry, use: 'enc' }] }))).toBe('BAD_KEY');
    expect(await rejection(verifyCheckpoint(jws, { keys: [{ ...entry, d: 'secret' }] }))).toBe('BAD_KEY');
    expect(await rejection(verifyCheckpoint(jws, { keys: [{ ...entry, valid_from: undefined }] }))).toBe('BAD_KEY');
  });

  it('a timestamp before valid_from or at/after valid_until (OUTSIDE_KEY_VALIDITY)', async () => {
    const windowed: Jwks = { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z')] };
    const at = async (timestamp: string) =>
      rejection(verifyCheckpoint(await signCheckpoint(checkpoint({ timestamp }), key), windowed));
    expect(await at('2025-12-31T23:59:59.999Z')).toBe('OUTSIDE_KEY_VALIDITY');
    expect(await at('2026-06-01T00:00:00.000Z')).toBe('OUTSIDE_KEY_VALIDITY');
    expect(await at('2026-01-01T00:00:00.000Z')).toBe('accepted');
    expect(await at('2026-05-31T23:59:59.999Z')).toBe('accepted');
  });

  it('a signed payload that is not canonical JSON (NON_CANONICAL_PAYLOAD)', async () => {
    const cp = checkpoint();
    const reordered = `{"tree_size":${cp.tree_size},"origin":"${cp.origin}","shard":${cp.shard},"root_hash":"${cp.root_hash}","timestamp":"${cp.timestamp}"}`;
    expect(await rejection(verifyCheckpoint(await signJws(Buffer.from(reordered), CHECKPOINT_TYP, key), jwks))).toBe(
      'NON_CANONICAL_PAYLOAD',
    );
    const spaced = JSON.stringify(
      JSON.parse(Buffer.from((await signCheckpoint(cp, key)).split('.')[1], 'base64url').toString()),
      null,
      1,
    );
    expect(await rejection(verifyCheckpoint(await signJws(Buffer.from(spaced), CHECKPOINT_TYP, key), jwks))).toBe(
      'NON_CANONICAL_PAYLOAD',
    );
  });

  it('a signed payload that is not a checkpoint (BAD_PAYLOAD)', async () => {
    const sign = (payload: string) => signJws(Buffer.from(payload), CHECKPOINT_TYP, key);
    expect(await rejection(verifyCheckpoint(await sign('not json'), jwks))).toBe('BAD_PAYLOAD');
    expect(await rejection(verifyCheckpoint(await sign('{"origin":"x"}'), jwks))).toBe('BAD_PAYLOAD');
    expect(
      await rejection(verifyCheckpoint(await sign(JSON.stringify({ ...checkpoint(), tree_size: -1 })), jwks)),
    ).toBe('BAD_PAYLOAD');
  });

  it('a checkpoint of another origin or shard when one is expected', async () => {
    const jws = await signCheckpoint(checkpoint(), key);
    expect(await rejection(verifyCheckpoint(jws, jwks, { origin: 'other' }))).toBe('ORIGIN_MISMATCH');
    expect(await rejection(verifyCheckpoint(jws, jwks, { shard: 4 }))).toBe('SHARD_MISMATCH');
  });

  it('garbage (MALFORMED_JWS)', async () => {
    expect(await rejection(verifyCheckpoint('a.b', jwks))).toBe('MALFORMED_JWS');
    expect(await rejection(verifyCheckpoint('a.b.c.d', jwks))).toBe('MALFORMED_JWS');
    expect(await rejection(verifyCheckpoint('a+b.c.d', jwks))).toBe('MALFORMED_JWS');
  });
});

describe('verifyJws (generic, e.g. the export manifest)', () => {
  it('returns the payload bytes, the header and the key', async () => {
    const payload = Buffer.from('{"files":[]}');
    const verified = await verifyJws(
      await signJws(payload, 'routing-ledger-manifest+jws', key),
      'routing-ledger-manifest+jws',
      jwks,
    );
    expect(verified.payload.equals(payload)).toBe(true);
    expect(verified.header).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'routing-ledger-manifest+jws' });
    expect(verified.key.kid).toBe(key.kid);
  });

  it('assertWithinKeyValidity is half-open', () => {
    const entry = jwksEntry(key, '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z');
    expect(() => assertWithinKeyValidity(entry, '2026-01-01T00:00:00.000Z')).not.toThrow();
    expect(() => assertWithinKeyValidity(entry, '2026-02-01T00:00:00.000Z')).toThrow(
      expect.objectContaining({ code: 'OUTSIDE_KEY_VALIDITY' }) as Error,
    );
  });
});

describe('isUtcMillisTimestamp', () => {
  it('accepts toISOString output only', () => {
    expect(isUtcMillisTimestamp('2026-11-25T16:45:59.123Z')).toBe(true);
    expect(isUtcMillisTimestamp('2026-11-25T16:45:59Z')).toBe(false);
    expect(isUtcMillisTimestamp('2026-11-25T17:45:59.123+01:00')).toBe(false);
    expect(isUtcMillisTimestamp('2026-02-30T00:00:00.000Z')).toBe(false);
  });
});
