import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { validEvent } from './workload.js';

/**
 * The poison catalogue of the chaos suite: each kind makes one message from
 * an index, and says what the ledger must do with it. Most are poison (quarantine + DLQ with a
 * reason); a few look hostile but are valid and must be stored byte-exact (COPY escaping,
 * injection-shaped strings, a properly signed event), as controls.
 */

export interface PoisonMessage {
  key: string;
  value: Buffer | null;
  headers?: Record<string, string>;
  expect: 'poison' | 'conflict' | 'record';
  /** For 'record' and 'conflict': the event id. */
  eventId?: string;
  /** For 'record': fields whose stored value must equal what was sent. */
  exact?: Record<string, string>;
}

export interface Attestor {
  gatewayId: string;
  kid: string;
  publicJwk: object;
  signDetached(payload: Buffer, key?: KeyObject, kid?: string): string;
  /** A key that is not the registered one (the attacker's). */
  otherKey: KeyObject;
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A gateway with an Ed25519 key, to register with attestation_required. */
export function makeAttestor(gatewayId = 'gw-attested'): Attestor {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519').privateKey;
  const kid = 'chaos-key-1';
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  return {
    gatewayId,
    kid,
    publicJwk,
    otherKey: other,
    signDetached: (payload, key = privateKey, k = kid) => {
      const header = b64u(JSON.stringify({ alg: 'EdDSA', kid: k }));
      const sig = sign(null, Buffer.from(`${header}.${b64u(payload)}`, 'ascii'), key);
      return `${header}..${b64u(sig)}`;
    },
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
/** Event ids of poison kinds live far from the valid ones (validEvent(0..)). */
const base = (kind: number, i: number) => validEvent(500_000 + kind * 10_000 + i);

export type KindMaker = (i: number, ctx: { attestor: Attestor; validIds: (i: number) => number }) => PoisonMessage;

export const KINDS: Array<[string, KindMaker]> = [
  [
    'random-bytes',
    (i) => ({
      key: `p-rb-${i}`,
      value: Buffer.from(Array.from({ length: 48 + (i % 200) }, (_, k) => (i * 131 + k * 197 + ((k * k) % 17)) % 256)),
      expect: 'poison',
    }),
  ],
  [
    'truncated-json',
    (i) => {
      const s = JSON.stringify(base(1, i));
      return { key: `p-tj-${i}`, value: Buffer.from(s.slice(0, 20 + ((i * 37) % (s.length - 40)))), expect: 'poison' };
    },
  ],
  [
    'deep-nesting-field',
    (i) => ({
      key: `p-dn-${i}`,
      value: Buffer.from(
        JSON.stringify({ ...base(2, i), task: 'X' }).replace(
          '"X"',
          '{"a":'.repeat(2000 + i) + '1' + '}'.repeat(2000 + i),
        ),
      ),
      expect: 'poison',
    }),
  ],
  [
    'deep-nesting-top-level',
    (i) => ({
      key: `p-dt-${i}`,
      value: Buffer.from('['.repeat(100_000 + i) + ']'.repeat(100_000 + i)),
      expect: 'poison',
    }),
  ],
  [
    'string-10MB',
    (i) => ({
      key: `p-10m-${i}`,
      value: json({ ...base(4, i), routing: { reason: 'x'.repeat(10_000_000 + i) } }),
      expect: 'poison',
    }),
  ],
  [
    'wrong-types',
    (i) => ({
      key: `p-wt-${i}`,
      value: json({
        ...base(5, i),
        ...[
          { tenant_id: 42 },
          { occurred_at: 1764064800000 },
          { outcome: 'success' },
          { usage: { input_tokens: '100' } },
          { fallback_used: 'yes' },
        ][i % 5],
      }),
      expect: 'poison',
    }),
  ],
  [
    'nan-infinity',
    (i) => ({
      key: `p-nan-${i}`,
      value: Buffer.from(
        JSON.stringify(base(6, i)).replace(
          /"input_tokens":\d+/,
          `"input_tokens":${['NaN', 'Infinity', '-Infinity', '1e400', '9007199254740993'][i % 5]}`,
        ),
      ),
      expect: 'poison',
    }),
  ],
  [
    'lone-surrogate',
    (i) => ({
      key: `p-ls-${i}`,
      value: Buffer.from(JSON.stringify(base(7, i)).replace('"req-', i % 2 ? '"\\ud800req-' : '"req-\\udfff')),
      expect: 'poison',
    }),
  ],
  [
    'invalid-utf8-bytes',
    (i) => {
      const s = JSON.stringify(base(8, i));
      const at = s.indexOf('"req-') + 1;
      return {
        key: `p-u8-${i}`,
        value: Buffer.concat([
          Buffer.from(s.slice(0, at)),
          Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff]),
          Buffer.from(s.slice(at)),
        ]),
        expect: 'poison',
      };
    },
  ],
  [
    'duplicate-keys',
    (i) => {
      const e = base(9, i);
      const s = JSON.stringify(e);
      return {
        key: `p-dk-${i}`,
        value: Buffer.from(s.replace(/}$/, `,"tenant_id":"someone-else","provider":"other"}`)),
        expect: 'poison',
        eventId: e.event_id,
      };
    },
  ],
  ['unknown-format', (i) => ({ key: `p-uf-${i}`, value: json({ hello: 'world', n: i, spans: [] }), expect: 'poison' })],
  [
    'unknown-format-header',
    (i) => ({
      key: `p-uh-${i}`,
      value: json(base(11, i)),
      headers: { 'x-routing-format': ['splunk', 'LiteLLM2', 'native;drop table', ''][i % 4] || 'x' },
      expect: 'poison',
    }),
  ],
  [
    'header-lies-portkey',
    (i) => ({
      key: `p-hp-${i}`,
      value: json(base(12, i)),
      headers: { 'x-routing-format': 'portkey' },
      expect: 'poison',
    }),
  ],
  [
    'header-lies-otel',
    (i) => ({
      key: `p-ho-${i}`,
      value: json(base(13, i)),
      headers: { 'x-routing-format': ['otel', 'openrouter', 'litellm'][i % 3] },
      expect: 'poison',
    }),
  ],
  [
    'format-conflict',
    (i) => ({
      key: `p-fc-${i}`,
      value: json(base(14, i)),
      headers: { 'x-routing-format': 'native', 'content-type': 'application/vnd.routing-ledger.litellm+json' },
      expect: 'poison',
    }),
  ],
  [
    'forged-signature-unregistered',
    (i, { attestor }) => {
      const v = json(base(15, i));
      return {
        key: `p-fs-${i}`,
        value: v,
        headers: { 'x-routing-signature': attestor.signDetached(v, attestor.otherKey, 'who-knows') },
        expect: 'poison',
      };
    },
  ],
  [
    'forged-signature-wrong-key',
    (i, { attestor }) => {
      const v = json({ ...base(16, i), gateway: { id: attestor.gatewayId, kind: 'native' } });
      return {
        key: `p-fk-${i}`,
        value: v,
        headers: { 'x-routing-signature': attestor.signDetached(v, attestor.otherKey) },
        expect: 'poison',
      };
    },
  ],
  [
    'signature-replayed-on-other-bytes',
    (i, { attestor }) => {
      const a = json({ ...base(17, i), gateway: { id: attestor.gatewayId, kind: 'native' } });
      const b = json({ ...base(17, i), gateway: { id: attestor.gatewayId, kind: 'native' }, provider: 'other' });
      return {
        key: `p-sr-${i}`,
        value: b,
        headers: { 'x-routing-signature': attestor.signDetached(a) },
        expect: 'poison',
      };
    },
  ],
  [
    'signature-alg-none',
    (i, { attestor }) => ({
      key: `p-sn-${i}`,
      value: json({ ...base(18, i), gateway: { id: attestor.gatewayId, kind: 'native' } }),
      headers: { 'x-routing-signature': `${b64u(JSON.stringify({ alg: 'none', kid: attestor.kid }))}..` },
      expect: 'poison',
    }),
  ],
  [
    'unsigned-from-attested-gateway',
    (i, { attestor }) => ({
      key: `p-us-${i}`,
      value: json({ ...base(19, i), gateway: { id: attestor.gatewayId, kind: 'native' } }),
      expect: 'poison',
    }),
  ],
  [
    'nul-character',
    (i) => ({
      key: `p-nul-${i}`,
      value:
        i % 2
          ? Buffer.from(JSON.stringify(base(20, i)).replace('"req-', '"\\u0000req-'))
          : Buffer.from(JSON.stringify(base(20, i)).replace('"req-', '"req-\u0000')),
      expect: 'poison',
    }),
  ],
  [
    'utf16-with-bom',
    (i) => ({
      key: `p-u16-${i}`,
      value: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(base(21, i)), 'utf16le')]),
      expect: 'poison',
    }),
  ],
  [
    'utf16be-no-bom',
    (i) => {
      const le = Buffer.from(JSON.stringify(base(22, i)), 'utf16le');
      return { key: `p-u16b-${i}`, value: Buffer.from(le.swap16()), expect: 'poison' };
    },
  ],
  [
    'double-bom',
    (i) => ({
      key: `p-bb-${i}`,
      value: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), json(base(23, i))]),
      expect: 'poison',
    }),
  ],
  [
    'empty-value',
    (i) => ({
      key: `p-ev-${i}`,
      value: i % 3 === 0 ? null : i % 3 === 1 ? Buffer.alloc(0) : Buffer.from(' \n\t '),
      expect: 'poison',
    }),
  ],
  [
    'json-scalars',
    (i) => ({
      key: `p-js-${i}`,
      value: Buffer.from(['null', 'true', '42', '"evt"', '[]', '{}'][i % 6]),
      expect: 'poison',
    }),
  ],
  [
    'huge-array',
    (i) => ({
      key: `p-ha-${i}`,
      value: json({
        ...base(26, i),
        attempts: {
          completeness: 'full',
          count: 20_000,
          items: Array.from({ length: 20_000 }, (_, k) => ({ index: k % 10_000, provider: 'openai', status: 'error' })),
        },
      }),
      expect: 'poison',
    }),
  ],
  [
    'prototype-keys',
    (i) => ({
      key: `p-pk-${i}`,
      value: Buffer.from(
        JSON.stringify(base(27, i)).replace(
          /^{/,
          i % 2 ? '{"__proto__":{"polluted":true},' : '{"constructor":{"prototype":{"polluted":true}},',
        ),
      ),
      expect: 'poison',
    }),
  ],
  [
    'oversized-id',
    (i) => ({
      key: `p-oi-${i}`,
      value: json({ ...base(28, i), event_id: `evt-${'9'.repeat(5000)}-${i}` }),
      expect: 'poison',
    }),
  ],
  [
    'impossible-timestamp',
    (i) => ({
      key: `p-it-${i}`,
      value: json({
        ...base(29, i),
        occurred_at: [
          '2026-02-30T00:00:00.000Z',
          '2026-11-25T25:00:00.000Z',
          '2026-11-25T10:00:00Z',
          '0000-01-01T00:00:00.000Z',
          '2026-11-31T10:00:00.000Z',
        ][i % 5],
      }),
      expect: 'poison',
    }),
  ],
  [
    'raw-control-characters',
    (i) => ({
      key: `p-cc-${i}`,
      value: Buffer.from(JSON.stringify(base(30, i)).replace('"req-', '"req-\n\t\x01')),
      expect: 'poison',
    }),
  ],
  [
    'conflicting-resend',
    (i, { validIds }) => {
      const e = validEvent(validIds(i));
      return {
        key: e.request_id,
        value: json({ ...e, provider: 'tampered-provider', usage: { input_tokens: 1, output_tokens: 1 } }),
        expect: 'conflict',
        eventId: e.event_id,
      };
    },
  ],
  // Controls: hostile-looking but valid; stored exactly once and byte-exact.
  [
    'control-copy-escaping',
    (i) => {
      const request_id = `req-\t-\\N-\\.-\n-\r-\\\\-'"-${i}`;
      const e = {
        ...base(40, i),
        request_id,
        routing: { reason: `tab\there\\. backslash\\ newline\nend \u{1F600} \u202Eevil` },
      };
      return { key: `c-ce-${i}`, value: json(e), expect: 'record', eventId: e.event_id, exact: { request_id } };
    },
  ],
  [
    'control-injection-shaped',
    (i) => {
      const tenant_id = [
        `acme'; DROP TABLE records; --`,
        `x" OR 1=1 --`,
        `$1$$; SELECT pg_sleep(10);$$`,
        `{"$ne":null}`,
      ][i % 4];
      const e = { ...base(41, i), tenant_id };
      return { key: `c-ij-${i}`, value: json(e), expect: 'record', eventId: e.event_id, exact: { tenant_id } };
    },
  ],
  [
    'control-utf8-bom',
    (i) => {
      const e = base(42, i);
      return {
        key: `c-bom-${i}`,
        value: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(e)]),
        expect: 'record',
        eventId: e.event_id,
      };
    },
  ],
  [
    'control-properly-signed',
    (i, { attestor }) => {
      const e = { ...base(43, i), gateway: { id: attestor.gatewayId, kind: 'native' as const } };
      const v = json(e);
      return {
        key: `c-sig-${i}`,
        value: v,
        headers: { 'x-routing-signature': attestor.signDetached(v) },
        expect: 'record',
        eventId: e.event_id,
      };
    },
  ],
];
