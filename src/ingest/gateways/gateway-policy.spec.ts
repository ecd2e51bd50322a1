import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { DecodeError, type AdaptedRecord, type RawEvent } from '../adapters/adapter.js';
import type { Principal } from '../../auth/principal.js';
import { withTokenTenant } from '../http-ingest.service.js';
import { decodeEvent } from '../adapters/format-detection.js';
import { fixtureBytes, fixtureJson, rawEvent } from '../adapters/fixtures/fixture-kit.js';
import {
  ATTESTATION_INVALID,
  ATTESTATION_REQUIRED,
  attestingDecoder,
  gatewaySnapshot,
  publicKeyProblems,
  withDefaultTenant,
  type GatewayRow,
} from './gateway-policy.js';

const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ed25519');

function jwk(key: KeyObject, kid?: string): Record<string, unknown> {
  return { ...key.export({ format: 'jwk' }), ...(kid ? { kid } : {}) };
}

/** Compact JWS over `payload`, detached (`<protected>..<signature>`). */
function detachedJws(payload: Buffer, alg: 'EdDSA' | 'ES256', key: KeyObject, kid?: string): string {
  const protectedB64 = Buffer.from(JSON.stringify({ alg, ...(kid ? { kid } : {}) })).toString('base64url');
  const input = Buffer.from(`${protectedB64}.${payload.toString('base64url')}`);
  const sig = alg === 'EdDSA' ? sign(null, input, key) : sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
  return `${protectedB64}..${sig.toString('base64url')}`;
}

const row = (id: string, required: boolean, keys: Record<string, unknown>[]): GatewayRow => ({
  id,
  kind: 'litellm',
  display_name: null,
  attestation_required: required,
  public_keys: { keys: keys as never },
  created_at: new Date(0),
});

const snapshot = gatewaySnapshot([
  row('gw-signed', true, [jwk(ed.publicKey, 'ed-1'), jwk(ec.publicKey, 'ec-1')]),
  row('gw-single', false, [jwk(ed.publicKey)]),
  row('gw-open', false, []),
]);
const decode = attestingDecoder(decodeEvent, snapshot);
const payload = fixtureBytes('litellm', 'slp-fallback-served.json');
const headers = (gateway: string, extra: Record<string, string> = {}) => ({
  'x-routing-format': 'litellm',
  'x-routing-gateway-id': gateway,
  ...extra,
});

function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('attestingDecoder', () => {
  it('records {kid, verified: true} for an EdDSA or ES256 signature by a registered key', () => {
    for (const [kid, jws] of [
      ['ed-1', detachedJws(payload, 'EdDSA', ed.privateKey, 'ed-1')],
      ['ec-1', detachedJws(payload, 'ES256', ec.privateKey, 'ec-1')],
    ]) {
      const [r] = decode(rawEvent(payload, headers('gw-signed', { 'x-routing-signature': jws })));
      expect(r.record.attestation).toEqual({ kid, verified: true });
      expect(r.record.requested_model).toBe('gpt-smart');
    }
  });

  it('uses the single key of a gateway when the JWS names no kid', () => {
    const [r] = decode(
      rawEvent(payload, headers('gw-single', { 'x-routing-signature': detachedJws(payload, 'EdDSA', ed.privateKey) })),
    );
    expect(r.record.attestation).toEqual({ verified: true });
  });

  it('quarantines a forged signature (right kid, wrong key) and a tampered payload as ATTESTATION_INVALID', () => {
    const forged = decodeError(() =>
      decode(
        rawEvent(
          payload,
          headers('gw-signed', { 'x-routing-signature': detachedJws(payload, 'EdDSA', other.privateKey, 'ed-1') }),
        ),
      ),
    );
    expect(forged.code).toBe(ATTESTATION_INVALID);
    expect(forged.message).toContain('BAD_SIGNATURE');
    const tampered = Buffer.from(payload.toString().replace('gpt-smart', 'gpt-cheap'));
    const e = decodeError(() =>
      decode(
        rawEvent(
          tampered,
          headers('gw-signed', { 'x-routing-signature': detachedJws(payload, 'EdDSA', ed.privateKey, 'ed-1') }),
        ),
      ),
    );
    expect(e.code).toBe(ATTESTATION_INVALID);
  });

  it('quarantines unsigned events of a gateway that must sign, accepts them from the others', () => {
    expect(decodeError(() => decode(rawEvent(payload, headers('gw-signed')))).code).toBe(ATTESTATION_REQUIRED);
    expect(decode(rawEvent(payload, headers('gw-open')))[0].record.attestation).toBeUndefined();
    expect(decode(rawEvent(payload, headers('never-registered')))[0].record.attestation).toBeUndefined();
  });

  it('a signature from an unregistered gateway cannot verify: ATTESTATION_INVALID (UNKNOWN_KEY)', () => {
    const e = decodeError(() =>
      decode(
        rawEvent(
          payload,
          headers('never-registered', { 'x-routing-signature': detachedJws(payload, 'EdDSA', ed.privateKey, 'ed-1') }),
        ),
      ),
    );
    expect(e.code).toBe(ATTESTATION_INVALID);
    expect(e.message).toContain('UNKNOWN_KEY');
  });

  it('never keeps an attestation the payload claims for itself', () => {
    const rec = fixtureJson<Record<string, unknown>>('native', 'record-full.json');
    const claimed = Buffer.from(JSON.stringify({ ...rec, attestation: { kid: 'ed-1', verified: true } }));
    const [r] = decode(rawEvent(claimed));
    expect(r.record.attestation).toBeUndefined();
    expect(r.notes).toContain(
      'attestation in the payload ignored: only the ledger records whether the gateway signature verified',
    );
    expect(r.record.normalization_notes).toEqual(r.notes);
  });
});

describe('publicKeyProblems', () => {
  it('accepts Ed25519 and P-256 public JWKs', () => {
    expect(
      publicKeyProblems({ keys: [jwk(ed.publicKey, 'a'), { ...jwk(ec.publicKey, 'b'), alg: 'ES256', use: 'sig' }] }),
    ).toEqual([]);
    expect(publicKeyProblems({ keys: [] })).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['not a JWKS', [jwk(ed.publicKey)], 'must be a JWKS'],
    ['a private key', { keys: [jwk(ed.privateKey, 'a')] }, 'private key material'],
    [
      'RSA',
      { keys: [generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })] },
      'Ed25519 (kty OKP) or P-256',
    ],
    [
      'P-384',
      { keys: [generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })] },
      'Ed25519 (kty OKP) or P-256',
    ],
    ['two keys, one without kid', { keys: [jwk(ed.publicKey, 'a'), jwk(ec.publicKey)] }, 'needs a kid'],
    ['duplicate kid', { keys: [jwk(ed.publicKey, 'a'), jwk(ec.publicKey, 'a')] }, 'used twice'],
    ['alg mismatch', { keys: [{ ...jwk(ed.publicKey), alg: 'ES256' }] }, 'expected EdDSA'],
    ['broken x', { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }] }, 'not a valid Ed25519 public key'],
  ])('%s', (_n, value, problem) => {
    expect(publicKeyProblems(value).join('\n')).toContain(problem);
  });

  it('a snapshot leaves out a key that does not import, and says so', () => {
    const skipped: string[] = [];
    const s = gatewaySnapshot(
      [row('gw', true, [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', kid: 'bad' }, jwk(ed.publicKey, 'good')])],
      (_id, p) => skipped.push(p),
    );
    expect([...s.get('gw')!.byKid.keys()]).toEqual(['good']);
    expect(skipped.join()).toContain('keys[0]');
  });
});

describe('withDefaultTenant and withTokenTenant: tenant headers only the ledger sets', () => {
  const seen: Array<Record<string, string | undefined>> = [];
  const spy = (raw: RawEvent): AdaptedRecord[] => {
    seen.push(raw.headers);
    return [];
  };

  it('hands the default to the adapters and drops one a sender put on the event', () => {
    seen.length = 0;
    withDefaultTenant(
      spy,
      'solo',
    )({ payload: Buffer.from('{}'), headers: { 'X-Routing-Default-Tenant': 'spoof', a: '1' }, receivedAt: new Date() });
    withDefaultTenant(
      spy,
      undefined,
    )({ payload: Buffer.from('{}'), headers: { 'x-routing-default-tenant': 'spoof' }, receivedAt: new Date() });
    expect(seen).toEqual([{ a: '1', 'x-routing-default-tenant': 'solo' }, {}]);
  });

  it("sets the token tenant only for a token of exactly one tenant, and never keeps the sender's", () => {
    const one: Principal = { subject: 's', roles: ['ingest'], scope: { kind: 'tenants', tenants: ['solo'] } };
    const two: Principal = { subject: 's', roles: ['ingest'], scope: { kind: 'tenants', tenants: ['a', 'b'] } };
    const all: Principal = { subject: 's', roles: ['admin'], scope: { kind: 'all' } };
    const spoofed = { 'X-Routing-Token-Tenant': 'spoof', b: '2' };
    expect(withTokenTenant(spoofed, one)).toEqual({ b: '2', 'x-routing-token-tenant': 'solo' });
    expect(withTokenTenant(spoofed, two)).toEqual({ b: '2' });
    expect(withTokenTenant(spoofed, all)).toEqual({ b: '2' });
    expect(withTokenTenant(spoofed, undefined)).toEqual({ b: '2' });
  });
});
