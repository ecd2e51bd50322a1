import { createLocalJWKSet, SignJWT, type JWTVerifyGetKey } from 'jose';
import { generateSigningKey, type SigningKey } from '../domain/checkpoint/signing-key.js';
import { publicKeysOnly } from './auth-keys.js';
import { mintToken, parseTtl } from './token-mint.js';
import { TokenVerifier } from './token-verifier.js';

const ISS = 'routing-ledger';
const AUD = 'routing-ledger-api';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('bearer tokens', () => {
  let key: SigningKey;
  let keys: JWTVerifyGetKey;
  let verifier: TokenVerifier;
  const now = Math.floor(Date.now() / 1000);
  const claims = { roles: ['auditor'], tenants: ['acme'] };

  beforeAll(async () => {
    key = await generateSigningKey();
    keys = createLocalJWKSet({ keys: [key.publicJwk] });
    verifier = new TokenVerifier(keys, { issuer: ISS, audience: AUD });
  });

  const signed = (
    c: Record<string, unknown>,
    opts: { iss?: string; aud?: string; iat?: number; nbf?: number; exp?: number | null } = {},
  ) => {
    const jwt = new SignJWT(c)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setIssuer(opts.iss ?? ISS)
      .setAudience(opts.aud ?? AUD)
      .setIssuedAt(opts.iat ?? now);
    if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
    if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now + 600);
    return jwt.sign(key.privateKey);
  };

  it('accepts a minted token and reads its roles and tenants', async () => {
    const token = await mintToken(
      key,
      { subject: 'dev', roles: ['auditor'], tenants: ['acme'] },
      { issuer: ISS, audience: AUD, ttlSeconds: 60 },
    );
    expect(await verifier.verify(token)).toEqual({
      subject: 'dev',
      roles: ['auditor'],
      scope: { kind: 'tenants', tenants: ['acme'] },
    });
  });

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: ISS, aud: AUD, exp: now + 600 })}.`;
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses HS256 signed with the public key as the HMAC secret', async () => {
    for (const secret of [
      Buffer.from(JSON.stringify(key.publicJwk)),
      Buffer.from(key.publicJwk.x!, 'base64url'),
      Buffer.from(key.publicJwk.x!),
    ]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: key.kid })
        .setIssuer(ISS)
        .setAudience(AUD)
        .setExpirationTime(now + 600)
        .sign(secret);
      await expect(verifier.verify(token)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
        message: expect.stringMatching(/algorithm/),
      });
    }
  });

  it('refuses an expired token and a token not yet valid', async () => {
    await expect(verifier.verify(await signed(claims, { iat: now - 7200, exp: now - 3600 }))).rejects.toMatchObject({
      message: 'token has expired',
    });
    await expect(verifier.verify(await signed(claims, { nbf: now + 3600 }))).rejects.toMatchObject({
      message: expect.stringMatching(/"nbf"/),
    });
  });

  it('refuses a token without exp', async () => {
    await expect(verifier.verify(await signed(claims, { exp: null }))).rejects.toMatchObject({
      message: expect.stringMatching(/"exp"/),
    });
  });

  it('refuses the wrong issuer or audience', async () => {
    await expect(verifier.verify(await signed(claims, { iss: 'someone-else' }))).rejects.toMatchObject({
      message: expect.stringMatching(/"iss"/),
    });
    await expect(verifier.verify(await signed(claims, { aud: 'another-api' }))).rejects.toMatchObject({
      message: expect.stringMatching(/"aud"/),
    });
  });

  it('refuses a token signed by an untrusted key and a tampered payload', async () => {
    const other = await generateSigningKey();
    const foreign = await mintToken(
      other,
      { subject: 'x', roles: ['admin'], tenants: ['*'] },
      { issuer: ISS, audience: AUD, ttlSeconds: 60 },
    );
    await expect(verifier.verify(foreign)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const [h, , s] = (await signed(claims)).split('.');
    await expect(
      verifier.verify(`${h}.${b64({ roles: ['admin'], tenants: ['*'], iss: ISS, aud: AUD, exp: now + 600 })}.${s}`),
    ).rejects.toMatchObject({ message: 'token signature is invalid' });
  });

  it('refuses every token when no keys are configured', async () => {
    const token = await mintToken(
      key,
      { subject: 'dev', roles: ['admin'], tenants: ['*'] },
      { issuer: ISS, audience: AUD, ttlSeconds: 60 },
    );
    await expect(new TokenVerifier(undefined, { issuer: ISS, audience: AUD }).verify(token)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('drops symmetric keys and private members from a JWKS file', () => {
    const jwks = publicKeysOnly({
      keys: [
        { kty: 'oct', k: 'c2VjcmV0' },
        { kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'secret' },
      ],
    });
    expect(jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: 'abc' }]);
  });
});

describe('parseTtl', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect([parseTtl('90s'), parseTtl('15m'), parseTtl('1h'), parseTtl('7d')]).toEqual([90, 900, 3600, 604800]);
  });

  it('refuses other shapes and lifetimes beyond the maximum', () => {
    expect(() => parseTtl('1 hour')).toThrow(/--ttl/);
    expect(() => parseTtl('0s')).toThrow(/between/);
    expect(() => parseTtl('31d')).toThrow(/between/);
  });
});
