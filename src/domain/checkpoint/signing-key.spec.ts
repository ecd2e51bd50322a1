import { calculateJwkThumbprint } from 'jose';
import { exportPrivateJwk, generateSigningKey, importSigningKey, jwksEntry, SigningKeyError } from './signing-key.js';

describe('signing keys', () => {
  it('a generated key has kid = RFC 7638 thumbprint and a public JWK with use and alg', async () => {
    const key = await generateSigningKey();
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x as string }));
    expect(key.publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: key.publicJwk.x,
      kid: key.kid,
      use: 'sig',
      alg: 'EdDSA',
    });
    expect(Buffer.from(key.publicJwk.x as string, 'base64url')).toHaveLength(32);
  });

  it('export then import gives the same key', async () => {
    const key = await generateSigningKey();
    const privateJwk = await exportPrivateJwk(key);
    expect(Object.keys(privateJwk).sort()).toEqual(['crv', 'd', 'kid', 'kty', 'x']);
    const again = await importSigningKey(privateJwk);
    expect(again.kid).toBe(key.kid);
    expect(again.publicJwk).toEqual(key.publicJwk);
  });

  it('imports a private JWK without x', async () => {
    const key = await generateSigningKey();
    const { x: _x, ...withoutX } = await exportPrivateJwk(key);
    expect((await importSigningKey(withoutX)).kid).toBe(key.kid);
  });

  it('rejects a private JWK whose x is not the public key of its d (KEY_MISMATCH)', async () => {
    const a = await exportPrivateJwk(await generateSigningKey());
    const b = await exportPrivateJwk(await generateSigningKey());
    await expect(importSigningKey({ ...a, x: b.x })).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
  });

  it('rejects what is not a private Ed25519 JWK (BAD_PRIVATE_KEY)', async () => {
    const key = await generateSigningKey();
    await expect(importSigningKey(key.publicJwk)).rejects.toBeInstanceOf(SigningKeyError);
    await expect(importSigningKey({ kty: 'OKP', crv: 'X25519', d: 'AAAA' })).rejects.toMatchObject({
      code: 'BAD_PRIVATE_KEY',
    });
    await expect(importSigningKey({ kty: 'OKP', crv: 'Ed25519', d: 'tooshort' })).rejects.toMatchObject({
      code: 'BAD_PRIVATE_KEY',
    });
  });

  it('jwksEntry adds the validity window, valid_until only when given', async () => {
    const key = await generateSigningKey();
    expect(jwksEntry(key, '2026-01-01T00:00:00.000Z')).toEqual({
      ...key.publicJwk,
      valid_from: '2026-01-01T00:00:00.000Z',
    });
    expect(jwksEntry(key, '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z').valid_until).toBe(
      '2026-02-01T00:00:00.000Z',
    );
  });
});
