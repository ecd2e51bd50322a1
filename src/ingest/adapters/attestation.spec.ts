import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign, importJWK } from 'jose';
import { attestationDecision, attestationOf, verifyAttestation, type KeyResolver } from './attestation.js';
import { rawEvent } from './fixtures/fixture-kit.js';

// RFC 8037 Appendix A.4/A.5 (test/vectors/ed25519, see test/vectors/PROVENANCE.md).
const rfc = JSON.parse(
  readFileSync(join(process.cwd(), 'test/vectors/ed25519/rfc8037-appendix-a.json'), 'utf8'),
) as Record<string, any>;

describe('verifyAttestation', () => {
  it('verifies the RFC 8037 A.4 EdDSA JWS (embedded payload) under the A.2 key', () => {
    const raw = rawEvent(Buffer.from(rfc['A.4_payload'], 'utf8'), { 'x-routing-signature': rfc['A.4_compact_jws'] });
    expect(verifyAttestation(raw, () => rfc['A.2_public_jwk'])).toEqual({ status: 'verified', alg: 'EdDSA' });
  });

  it('verifies the same signature detached, and refuses it over other bytes', () => {
    const [h, , s] = (rfc['A.4_compact_jws'] as string).split('.');
    const key: KeyResolver = () => rfc['A.2_public_jwk'];
    expect(
      verifyAttestation(rawEvent(Buffer.from(rfc['A.4_payload']), { 'x-routing-signature': `${h}..${s}` }), key).status,
    ).toBe('verified');
    expect(
      verifyAttestation(
        rawEvent(Buffer.from('Example of Ed25519 signinG'), { 'x-routing-signature': `${h}..${s}` }),
        key,
      ),
    ).toMatchObject({ status: 'invalid', code: 'BAD_SIGNATURE' });
    expect(
      verifyAttestation(rawEvent(Buffer.from('other'), { 'x-routing-signature': rfc['A.4_compact_jws'] }), key),
    ).toMatchObject({ status: 'invalid', code: 'PAYLOAD_MISMATCH' });
  });

  it('verifies ES256 signatures made by jose (detached), with the kid', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const payload = Buffer.from('{"id":"evt"}');
    const jws = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256', kid: 'gw-eu-1#2025-11' })
      .sign(privateKey);
    const [h, , s] = jws.split('.');
    const keys: KeyResolver = (kid) => (kid === 'gw-eu-1#2025-11' ? publicKey.export({ format: 'jwk' }) : undefined);
    const check = verifyAttestation(rawEvent(payload, { 'X-Routing-Signature': `${h}..${s}` }), keys);
    expect(check).toEqual({ status: 'verified', alg: 'ES256', kid: 'gw-eu-1#2025-11' });
    expect(attestationOf(check)).toEqual({ kid: 'gw-eu-1#2025-11', verified: true });
  });

  it.each<[string, string, string]>([
    ['not three parts', 'abc.def', 'MALFORMED_JWS'],
    ['header not JSON', 'bm90LWpzb24..c2ln', 'MALFORMED_JWS'],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}..c2ln`, 'UNSUPPORTED_ALG'],
    ['HS256', `${Buffer.from('{"alg":"HS256","kid":"k"}').toString('base64url')}..c2ln`, 'UNSUPPORTED_ALG'],
    [
      'b64 false',
      `${Buffer.from('{"alg":"EdDSA","b64":false,"crit":["b64"]}').toString('base64url')}..c2ln`,
      'UNSUPPORTED_ALG',
    ],
    ['unknown kid', `${Buffer.from('{"alg":"EdDSA","kid":"nope"}').toString('base64url')}..c2ln`, 'UNKNOWN_KEY'],
  ])('%s → %s', (_n, jws, code) => {
    expect(
      verifyAttestation(rawEvent('{}', { 'x-routing-signature': jws }), (kid) =>
        kid === 'nope' ? undefined : rfc['A.2_public_jwk'],
      ),
    ).toMatchObject({ status: 'invalid', code });
  });

  it('refuses an EdDSA signature checked against an EC key (no algorithm confusion)', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const raw = rawEvent(Buffer.from(rfc['A.4_payload']), { 'x-routing-signature': rfc['A.4_compact_jws'] });
    expect(verifyAttestation(raw, () => publicKey)).toMatchObject({ status: 'invalid', code: 'KEY_MISMATCH' });
    // jose agrees the vector is sound under the right key.
    expect(await importJWK(rfc['A.2_public_jwk'], 'EdDSA')).toBeDefined();
  });

  it('reports unsigned events as such', () => {
    expect(verifyAttestation(rawEvent('{}'), () => undefined)).toEqual({ status: 'unsigned' });
    expect(attestationOf({ status: 'unsigned' })).toBeUndefined();
  });
});

describe('attestationDecision', () => {
  it('quarantines bad signatures always and unsigned events where signing is required', () => {
    expect(attestationDecision({ status: 'verified', alg: 'EdDSA' }, false)).toEqual({ accept: true });
    expect(attestationDecision({ status: 'unsigned' }, true)).toEqual({ accept: true });
    expect(attestationDecision({ status: 'unsigned' }, false)).toMatchObject({ accept: false, code: 'UNSIGNED' });
    expect(attestationDecision({ status: 'invalid', code: 'BAD_SIGNATURE', reason: 'x' }, true)).toMatchObject({
      accept: false,
      code: 'ATTESTATION_BAD_SIGNATURE',
    });
  });
});
