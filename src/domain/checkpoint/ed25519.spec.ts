/**
 * Ed25519 and JOSE conformance: RFC 8037 Appendix A, RFC 8032 §7.1, and every Wycheproof case
 * through the verification path the JWS verifier uses (shape check + WebCrypto Ed25519, which
 * is what jose 6 calls), with node:crypto run alongside for comparison.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign, compactVerify, type JWK } from 'jose';
import { JwsVerificationError, verifyJws } from './checkpoint-jws.js';
import { ed25519SignatureDefect, ed25519SignatureIsValid } from './ed25519.js';
import { importSigningKey } from './signing-key.js';

const VECTORS = join(process.cwd(), 'test/vectors/ed25519');
const load = <T>(name: string) => JSON.parse(readFileSync(join(VECTORS, name), 'utf8')) as T;

interface Rfc8037 {
  'A.1_private_jwk': JWK;
  'A.1_private_key_hex': string;
  'A.1_public_key_hex': string;
  'A.2_public_jwk': JWK;
  'A.3_thumbprint_input': string;
  'A.3_thumbprint_sha256_hex': string;
  'A.3_thumbprint_b64url': string;
  'A.4_protected_header': string;
  'A.4_payload': string;
  'A.4_signing_input': string;
  'A.4_signature_b64url': string;
  'A.4_compact_jws': string;
}

interface Rfc8032 {
  tests: Array<{
    name: string;
    public_key_jwk_x: string;
    message_hex: string;
    signature_hex: string;
    secret_key_hex?: string;
  }>;
}

interface Wycheproof {
  numberOfTests: number;
  testGroups: Array<{
    publicKeyJwk: JWK;
    tests: Array<{
      tcId: number;
      comment: string;
      msg: string;
      sig: string;
      result: 'valid' | 'invalid';
      flags: string[];
    }>;
  }>;
}

describe('RFC 8037 Appendix A', () => {
  const a = load<Rfc8037>('rfc8037-appendix-a.json');

  it('A.1/A.2: importing the private JWK gives the A.2 public key', async () => {
    const key = await importSigningKey(a['A.1_private_jwk']);
    expect(key.publicJwk.x).toBe(a['A.2_public_jwk'].x);
    expect(Buffer.from(key.publicJwk.x as string, 'base64url').toString('hex')).toBe(a['A.1_public_key_hex']);
    expect(Buffer.from(a['A.1_private_jwk'].d as string, 'base64url').toString('hex')).toBe(a['A.1_private_key_hex']);
  });

  it('A.3: kid is the RFC 7638 thumbprint', async () => {
    const key = await importSigningKey(a['A.1_private_jwk']);
    expect(createHash('sha256').update(a['A.3_thumbprint_input']).digest('hex')).toBe(a['A.3_thumbprint_sha256_hex']);
    expect(key.kid).toBe(a['A.3_thumbprint_b64url']);
    expect(Buffer.from(key.kid, 'base64url').toString('hex')).toBe(a['A.3_thumbprint_sha256_hex']);
  });

  it('A.4: jose reproduces the compact JWS byte for byte', async () => {
    const key = await importSigningKey(a['A.1_private_jwk']);
    const jws = await new CompactSign(Buffer.from(a['A.4_payload']))
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(key.privateKey);
    expect(jws).toBe(a['A.4_compact_jws']);
    expect(jws.split('.')[2]).toBe(a['A.4_signature_b64url']);
  });

  it('A.4: node:crypto reproduces the signature over the signing input', async () => {
    const key = await importSigningKey(a['A.1_private_jwk']);
    const signature = sign(null, Buffer.from(a['A.4_signing_input']), key.privateKey as KeyObject);
    expect(signature.toString('base64url')).toBe(a['A.4_signature_b64url']);
  });

  it('A.5: the JWS verifies under the A.2 public key (jose and our Ed25519 path)', async () => {
    const { payload, protectedHeader } = await compactVerify(
      a['A.4_compact_jws'],
      { ...a['A.2_public_jwk'] },
      { algorithms: ['EdDSA'] },
    );
    expect(Buffer.from(payload).toString()).toBe(a['A.4_payload']);
    expect(protectedHeader).toEqual({ alg: 'EdDSA' });
    const signature = Buffer.from(a['A.4_signature_b64url'], 'base64url');
    expect(await ed25519SignatureIsValid(a['A.2_public_jwk'], Buffer.from(a['A.4_signing_input']), signature)).toBe(
      true,
    );
  });

  it('A.5: our ledger verifier still refuses it: the header lacks kid and typ', async () => {
    const jwks = { keys: [{ ...a['A.2_public_jwk'], kid: a['A.3_thumbprint_b64url'] }] };
    await expect(verifyJws(a['A.4_compact_jws'], 'anything', jwks)).rejects.toMatchObject({ code: 'BAD_HEADER' });
  });
});

describe('RFC 8032 §7.1 test vectors', () => {
  const { tests } = load<Rfc8032>('rfc8032-ed25519.json');

  it.each(tests.map((t) => [t.name, t] as const))('%s verifies', async (_name, t) => {
    const valid = await ed25519SignatureIsValid(
      { kty: 'OKP', crv: 'Ed25519', x: t.public_key_jwk_x },
      Buffer.from(t.message_hex, 'hex'),
      Buffer.from(t.signature_hex, 'hex'),
    );
    expect(valid).toBe(true);
  });

  it('TEST 1: the secret key derives the public key and re-signs to the listed signature', async () => {
    const t = tests.find((x) => x.secret_key_hex !== undefined);
    expect(t).toBeDefined();
    const key = await importSigningKey({
      kty: 'OKP',
      crv: 'Ed25519',
      d: Buffer.from(t!.secret_key_hex!, 'hex').toString('base64url'),
    });
    expect(key.publicJwk.x).toBe(t!.public_key_jwk_x);
    expect(sign(null, Buffer.from(t!.message_hex, 'hex'), key.privateKey as KeyObject).toString('hex')).toBe(
      t!.signature_hex,
    );
  });

  it('a flipped message bit does not verify', async () => {
    const t = tests[2];
    const message = Buffer.from(t.message_hex, 'hex');
    message[0] ^= 1;
    expect(
      await ed25519SignatureIsValid(
        { kty: 'OKP', crv: 'Ed25519', x: t.public_key_jwk_x },
        message,
        Buffer.from(t.signature_hex, 'hex'),
      ),
    ).toBe(false);
  });
});

describe('Wycheproof ed25519_test.json', () => {
  const wycheproof = load<Wycheproof>('wycheproof-ed25519_test.json');
  const cases = wycheproof.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ key: group.publicKeyJwk, ...test })),
  );

  it('has all 151 cases', () => {
    expect(cases).toHaveLength(wycheproof.numberOfTests);
    expect(cases).toHaveLength(151);
  });

  it('every case gives its expected result through our verification path (shape check + WebCrypto)', async () => {
    const mismatches: string[] = [];
    for (const c of cases) {
      const valid = await ed25519SignatureIsValid(c.key, Buffer.from(c.msg, 'hex'), Buffer.from(c.sig, 'hex'));
      if (valid !== (c.result === 'valid'))
        mismatches.push(`tcId ${c.tcId} (${c.flags.join()}: ${c.comment}): got ${valid}, want ${c.result}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('node:crypto (OpenSSL) alone, without our shape check, also gives every expected result', () => {
    const mismatches: string[] = [];
    for (const c of cases) {
      let valid: boolean;
      try {
        valid = verify(
          null,
          Buffer.from(c.msg, 'hex'),
          createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: c.key.x as string }, format: 'jwk' }),
          Buffer.from(c.sig, 'hex'),
        );
      } catch {
        valid = false;
      }
      if (valid !== (c.result === 'valid')) mismatches.push(`tcId ${c.tcId}: got ${valid}, want ${c.result}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('the shape check alone rejects wrong lengths and S >= L, and no valid case', () => {
    const caught = cases.filter((c) => ed25519SignatureDefect(Buffer.from(c.sig, 'hex')) !== null);
    expect(caught.filter((c) => c.result === 'valid')).toEqual([]);
    // 13-29 (some): special S values >= L; 30-41: truncated, padded or compressed signatures;
    // 63-66: S + nL; 67-70: S + 2^253, 2^254, 2^255, p; 85: S just above L.
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(caught.map((c) => c.tcId)).toEqual([13, 14, 18, 19, 23, 24, 28, 29, ...range(30, 41), ...range(63, 70), 85]);
  });
});

describe('JwsVerificationError', () => {
  it('carries a code', () => {
    expect(new JwsVerificationError('BAD_SIGNATURE', 'x').code).toBe('BAD_SIGNATURE');
  });
});
