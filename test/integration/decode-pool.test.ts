import type { JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeBatch, type RawMessage } from '../../src/ingest/decode-batch.js';
import { DecodePool } from '../../src/ingest/decode-pool.js';
import { gatewaySnapshot, ledgerDecoder, type DecoderSource } from '../../src/ingest/gateways/gateway-policy.js';
import { prepareItems } from '../../src/ledger/prepare-record.js';
import { fixtures } from '../support/adapter-fixtures.js';
import { KINDS, makeAttestor } from '../support/poison-kinds.js';
import { validEvent } from '../support/workload.js';

/**
 * The decode worker threads against the consumer's own thread: the same messages, decoded by
 * DecodePool (the compiled worker, as the service runs it: `npm run build` first) and by
 * decodeBatch + prepareItems here, give the same items — records prepared byte for byte, poison
 * with the same reasons and masked payloads.
 */
const WORKER = pathToFileURL(join(process.cwd(), 'dist', 'src', 'ingest', 'decode-worker.js')).href;
const attestor = makeAttestor();
const gatewayRow = {
  id: attestor.gatewayId,
  kind: 'custom',
  display_name: null,
  attestation_required: true,
  public_keys: { keys: [attestor.publicJwk as JsonWebKey] },
  created_at: new Date('2026-12-01T00:00:00.000Z'),
};

function messages(): RawMessage[] {
  const out: RawMessage[] = [];
  const push = (value: Buffer | null, headers: Record<string, string> = {}) =>
    out.push({ offset: String(100 + out.length), value, headers });
  for (let i = 0; i < 40; i++) push(Buffer.from(JSON.stringify(validEvent(i))));
  for (const [, make] of KINDS) {
    for (let i = 0; i < 2; i++) {
      const m = make(i, { attestor, validIds: (k) => k });
      push(m.value, m.headers);
    }
  }
  for (const f of fixtures()) push(f.bytes);
  push(null);
  return out;
}

function inThread(msgs: RawMessage[], source: DecoderSource, receivedAt: Date) {
  const decode = ledgerDecoder(gatewaySnapshot(source.rows), source.defaultTenant);
  return prepareItems(
    decodeBatch(msgs, { topic: 'routing.decisions', partition: 5, maxMessageBytes: 64 * 1024, receivedAt, decode }),
  );
}

describe('DecodePool: decoding on worker threads', () => {
  let pool: DecodePool;
  beforeAll(() => {
    pool = new DecodePool(2, WORKER);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('gives the items the consumer thread gives, for records, poison and every adapter', async () => {
    const msgs = messages();
    const source: DecoderSource = { generation: 1, rows: [gatewayRow], defaultTenant: 'default' };
    const receivedAt = new Date('2026-12-05T10:00:00.000Z');
    const batch = { topic: 'routing.decisions', partition: 5, maxMessageBytes: 64 * 1024, receivedAt, messages: msgs };
    const [viaPool, viaPool2] = await Promise.all([pool.decode(batch, source), pool.decode(batch, source)]);
    const expected = inThread(msgs, source, receivedAt);
    expect(viaPool).toEqual(expected);
    expect(viaPool2).toEqual(expected);
    // Not vacuous: the batch holds prepared records, poison, and attestation refusals.
    const kinds = viaPool.map((i) => i.kind);
    expect(kinds.filter((k) => k === 'prepared').length).toBeGreaterThan(40);
    expect(kinds.filter((k) => k === 'poison').length).toBeGreaterThan(10);
    expect(viaPool.some((i) => i.kind === 'poison' && i.reasonCode === 'ATTESTATION_INVALID')).toBe(true);
    for (const item of viaPool) {
      if (item.kind === 'prepared') expect(Buffer.isBuffer(item.contentSha256)).toBe(true);
      if (item.kind === 'poison') expect(Buffer.isBuffer(item.payload)).toBe(true);
    }
    // The first decode starts the workers (each loads the adapters and the validator): seconds on a busy machine.
  }, 30_000);

  it('follows the registry: a new generation of gateway rows changes what the workers accept', async () => {
    const unsigned = Buffer.from(
      JSON.stringify({ ...validEvent(7), gateway: { id: attestor.gatewayId, kind: 'custom' } }),
    );
    const batch = {
      topic: 'routing.decisions',
      partition: 1,
      maxMessageBytes: 64 * 1024,
      receivedAt: new Date(),
      messages: [{ offset: '0', value: unsigned, headers: {} }],
    };
    const strict = await pool.decode(batch, { generation: 10, rows: [gatewayRow], defaultTenant: undefined });
    expect(strict).toMatchObject([{ kind: 'poison', reasonCode: 'ATTESTATION_REQUIRED' }]);
    const relaxed = await pool.decode(batch, {
      generation: 11,
      rows: [{ ...gatewayRow, attestation_required: false }],
      defaultTenant: undefined,
    });
    expect(relaxed).toMatchObject([{ kind: 'prepared', eventId: validEvent(7).event_id }]);
  });
});
