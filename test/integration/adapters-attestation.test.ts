import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { jest } from '@jest/globals';
import { redactForProduce } from '../../src/domain/privacy/redact.js';
import { CompactSign } from 'jose';
import { fixture } from '../support/adapter-fixtures.js';
import {
  DLQ,
  adminToken,
  ledgerRecords,
  post,
  produce,
  quarantineRows,
  readTopic,
  startLedgerRun,
  waitConsumed,
  type LedgerRun,
  type ProducedMessage,
} from '../support/ledger-harness.js';

jest.setTimeout(300_000);

/**
 * Gateway attestation end to end: gateways registered through POST /v1/gateways (admin), events
 * signed with a compact JWS in x-routing-signature (EdDSA or ES256; detached or embedded), read
 * by the consumer against the registry. A good signature is recorded as {kid, verified: true}; a
 * forged or tampered one is quarantined (ATTESTATION_INVALID); an unsigned event of a gateway that
 * must sign is quarantined (ATTESTATION_REQUIRED); a payload cannot attest itself.
 */

const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const single = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const jwk = (k: KeyObject, kid?: string) => ({ ...k.export({ format: 'jwk' }), ...(kid ? { kid } : {}) });

function detached(payload: Buffer, alg: 'EdDSA' | 'ES256', key: KeyObject, kid?: string): string {
  const h = Buffer.from(JSON.stringify({ alg, ...(kid ? { kid } : {}) })).toString('base64url');
  const input = Buffer.from(`${h}.${payload.toString('base64url')}`);
  const sig = alg === 'EdDSA' ? sign(null, input, key) : sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
  return `${h}..${sig.toString('base64url')}`;
}

/** A LiteLLM event of `gateway`, made distinct per case (its call id) so no two cases share an event id. */
function litellmEvent(tag: string): Buffer {
  const ev = JSON.parse(fixture('litellm/slp-retry.json').bytes.toString());
  return Buffer.from(JSON.stringify({ ...ev, id: `call-${tag}` }));
}
const headers = (gateway: string, extra: Record<string, string> = {}) => ({
  'x-routing-format': 'litellm',
  'x-routing-gateway-id': gateway,
  'x-routing-tenant': 'acme',
  ...extra,
});

let run: LedgerRun;
let token: string;

beforeAll(async () => {
  run = await startLedgerRun();
  token = await adminToken(run);
});

afterAll(async () => {
  await run?.stop();
});

describe('gateway attestation', () => {
  it('POST/GET /v1/gateways: admin only; register (201), re-register (200), refuse private keys', async () => {
    const url = `${run.baseUrl}/v1/gateways`;
    const auth = { authorization: `Bearer ${token}` };
    const body = {
      id: 'gw-signed',
      kind: 'litellm',
      display_name: 'LiteLLM EU',
      attestation_required: true,
      public_keys: { keys: [jwk(ed.publicKey, 'ed-2025-11'), jwk(ec.publicKey, 'ec-2025-11')] },
    };
    expect((await post(url, JSON.stringify(body))).status).toBe(401);
    expect((await post(url, JSON.stringify(body), auth)).status).toBe(201);
    const optional = { id: 'gw-optional', kind: 'litellm', public_keys: { keys: [jwk(attacker.publicKey)] } };
    expect((await post(url, JSON.stringify(optional), auth)).status).toBe(201);
    // Rotated: the optional gateway's only key is now `single` (no kid).
    const rotated = await post(
      url,
      JSON.stringify({ ...optional, public_keys: { keys: [jwk(single.publicKey)] } }),
      auth,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({
      id: 'gw-optional',
      attestation_required: false,
      public_keys: { keys: [{ kty: 'OKP', crv: 'Ed25519' }] },
    });

    const priv = await post(
      url,
      JSON.stringify({ id: 'gw-bad', kind: 'litellm', public_keys: { keys: [jwk(ed.privateKey, 'oops')] } }),
      auth,
    );
    expect(priv.status).toBe(400);
    expect(JSON.stringify(priv.body)).toContain('private key material');
    expect(JSON.stringify(priv.body)).not.toContain((ed.privateKey.export({ format: 'jwk' }) as { d: string }).d);
    const noKey = await post(url, JSON.stringify({ id: 'gw-bad', kind: 'litellm', attestation_required: true }), auth);
    expect(noKey.status).toBe(400);
    expect((await post(url, JSON.stringify({ ...body, extra: 1 }), auth)).status).toBe(400);

    const list = await fetch(url, { headers: auth });
    expect(list.status).toBe(200);
    const gateways = (await list.json()) as Array<{
      id: string;
      attestation_required: boolean;
      public_keys: { keys: unknown[] };
    }>;
    expect(gateways.map((g) => [g.id, g.attestation_required, g.public_keys.keys.length])).toEqual([
      ['gw-optional', false, 1],
      ['gw-signed', true, 2],
    ]);
    expect((await fetch(url)).status).toBe(401);
  });

  it('through Kafka: verified signatures recorded, forged/tampered/unsigned-where-required quarantined', async () => {
    const m: Record<string, ProducedMessage> = {};
    const ev = (tag: string) => litellmEvent(tag);
    const a = ev('ed-detached');
    m.edDetached = {
      value: a,
      headers: headers('gw-signed', { 'x-routing-signature': detached(a, 'EdDSA', ed.privateKey, 'ed-2025-11') }),
    };
    const b = ev('es256-embedded');
    const embedded = await new CompactSign(b)
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-2025-11' })
      .sign(ec.privateKey);
    m.esEmbedded = { value: b, headers: headers('gw-signed', { 'x-routing-signature': embedded }) };
    const c = ev('single-key');
    m.singleKey = {
      value: c,
      headers: headers('gw-optional', { 'x-routing-signature': detached(c, 'EdDSA', single.privateKey) }),
    };
    const d = ev('unsigned-optional');
    m.unsignedOptional = { value: d, headers: headers('gw-optional') };
    const e = ev('forged');
    m.forged = {
      value: e,
      headers: headers('gw-signed', { 'x-routing-signature': detached(e, 'EdDSA', attacker.privateKey, 'ed-2025-11') }),
    };
    const f = ev('tampered');
    const tampered = Buffer.from(f.toString().replace('call-tampered', 'call-tampereD'));
    expect(tampered.equals(f)).toBe(false);
    m.tampered = {
      value: tampered,
      headers: headers('gw-signed', { 'x-routing-signature': detached(f, 'EdDSA', ed.privateKey, 'ed-2025-11') }),
    };
    m.unsignedRequired = { value: ev('unsigned-required'), headers: headers('gw-signed') };
    const g = ev('unregistered');
    m.unregisteredSigned = {
      value: g,
      headers: headers('gw-unknown', { 'x-routing-signature': detached(g, 'EdDSA', ed.privateKey, 'ed-2025-11') }),
    };
    // Native records name their gateway in the payload; claiming verified does not make it so.
    const native = JSON.parse(fixture('native/record-full.json').bytes.toString());
    m.nativeClaimRequired = {
      value: Buffer.from(
        JSON.stringify({
          ...native,
          event_id: 'native-claims-1',
          gateway: { id: 'gw-signed', kind: 'native' },
          attestation: { kid: 'ed-2025-11', verified: true },
        }),
      ),
      headers: {},
    };
    m.nativeClaimOpen = {
      value: Buffer.from(
        JSON.stringify({ ...native, event_id: 'native-claims-2', attestation: { kid: 'x', verified: true } }),
      ),
      headers: {},
    };
    await produce(run.kafka.brokers, Object.values(m));
    await waitConsumed(run);

    const records = await ledgerRecords(run.db);
    expect(records).toHaveLength(5);
    const att = (name: string) => {
      const r = records.find((x) => x.source.raw_sha256 === sha(m[name].value));
      return r ? r.attestation : 'not recorded';
    };
    expect(att('edDetached')).toEqual({ kid: 'ed-2025-11', verified: true });
    expect(att('esEmbedded')).toEqual({ kid: 'ec-2025-11', verified: true });
    expect(att('singleKey')).toEqual({ verified: true });
    expect(att('unsignedOptional')).toBeUndefined();
    const claimedOpen = records.find((r) => r.event_id === 'native-claims-2');
    expect(claimedOpen?.attestation).toBeUndefined();
    expect(claimedOpen?.normalization_notes).toContain(
      'attestation in the payload ignored: only the ledger records whether the gateway signature verified',
    );

    const quarantine = await quarantineRows(run.db);
    const reasons = quarantine.map((q) => `${q.reason_code} ${q.reason}`).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^ATTESTATION_INVALID gateway "gw-signed": ATTESTATION_BAD_SIGNATURE: /),
      expect.stringMatching(/^ATTESTATION_INVALID gateway "gw-signed": ATTESTATION_BAD_SIGNATURE: /),
      expect.stringMatching(/^ATTESTATION_INVALID gateway "gw-unknown": ATTESTATION_UNKNOWN_KEY: /),
      expect.stringMatching(/^ATTESTATION_REQUIRED gateway "gw-signed": UNSIGNED: /),
      expect.stringMatching(/^ATTESTATION_REQUIRED gateway "gw-signed": UNSIGNED: /),
    ]);
    const dlq = await readTopic(run.kafka.brokers, DLQ);
    expect(dlq.map((d) => d.headers['x-dlq-reason-code']).sort()).toEqual([
      'ATTESTATION_INVALID',
      'ATTESTATION_INVALID',
      'ATTESTATION_INVALID',
      'ATTESTATION_REQUIRED',
      'ATTESTATION_REQUIRED',
    ]);
  });

  it('through HTTP: a signed body is produced whole and verified; a forged one is refused (400) and never reaches the topic', async () => {
    const before = (await ledgerRecords(run.db)).length;
    // A signing gateway signs what may travel: its events already masked (redactForProduce leaves
    // them as they are, so the signed bytes are produced unchanged).
    const masked = (tag: string) => redactForProduce(litellmEvent(tag)).toString();
    const batch = Buffer.from(`[${masked('http-signed-1')},\n${masked('http-signed-2')}]`);
    // Signed with the prompt in it: the ledger can neither mask it nor let it reach the topic.
    const withPrompt = Buffer.from(`[${litellmEvent('http-signed-prompt').toString()}]`);
    const refused = await post(
      `${run.baseUrl}/v1/events`,
      withPrompt,
      headers('gw-signed', { 'x-routing-signature': detached(withPrompt, 'EdDSA', ed.privateKey, 'ed-2025-11') }),
    );
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('redact before signing');
    // The LiteLLM route answers 202 (its sender never retries) and lists it as refused, not produced.
    const refusedBridge = await post(
      `${run.baseUrl}/v1/ingest/litellm`,
      withPrompt,
      headers('gw-signed', { 'x-routing-signature': detached(withPrompt, 'EdDSA', ed.privateKey, 'ed-2025-11') }),
    );
    expect(refusedBridge.status).toBe(202);
    expect(refusedBridge.body).toMatchObject({ accepted: 0, refused: [{ index: 0 }] });
    expect(refusedBridge.body.quarantined).toBeUndefined();
    const ok = await post(
      `${run.baseUrl}/v1/events`,
      batch,
      headers('gw-signed', { 'x-routing-signature': detached(batch, 'EdDSA', ed.privateKey, 'ed-2025-11') }),
    );
    expect(ok.status).toBe(202);
    expect(ok.body.accepted).toBe(2);
    const forged = await post(
      `${run.baseUrl}/v1/events`,
      batch,
      headers('gw-signed', { 'x-routing-signature': detached(batch, 'EdDSA', attacker.privateKey, 'ed-2025-11') }),
    );
    expect(forged.status).toBe(400);
    expect(JSON.stringify(forged.body)).toContain('ATTESTATION_BAD_SIGNATURE');
    const unsigned = await post(`${run.baseUrl}/v1/events`, litellmEvent('http-unsigned'), headers('gw-signed'));
    expect(unsigned.status).toBe(400);
    // The LiteLLM bridge keeps what it cannot accept, so the consumer quarantines it with the reason.
    const bridged = await post(
      `${run.baseUrl}/v1/ingest/litellm`,
      litellmEvent('bridge-unsigned'),
      headers('gw-signed'),
    );
    expect(bridged.status).toBe(202);
    expect(bridged.body.quarantined[0].errors[0]).toContain('UNSIGNED');

    await waitConsumed(run);
    const records = await ledgerRecords(run.db);
    expect(records.length).toBe(before + 2);
    const signed = records.filter((r) => r.source.raw_sha256 === sha(batch));
    expect(signed.map((r) => r.attestation)).toEqual([
      { kid: 'ed-2025-11', verified: true },
      { kid: 'ed-2025-11', verified: true },
    ]);
    const quarantine = await quarantineRows(run.db);
    expect(quarantine.filter((q) => q.reason_code === 'ATTESTATION_REQUIRED')).toHaveLength(3);
    expect(quarantine.filter((q) => q.reason_code === 'ATTESTATION_INVALID')).toHaveLength(3); // the Kafka cases only: the forged HTTP body was never produced
  });
});

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
