import { endUserHash, sha256Hex } from '../../domain/privacy/redact.js';
import { DecodeError } from './adapter.js';
import { invalidRecords, fixtureBytes, fixtureJson, plantedFound, rawEvent } from './fixtures/fixture-kit.js';
import { nativeAdapter } from './native.adapter.js';

describe('nativeAdapter', () => {
  const bytes = fixtureBytes('native', 'record-full.json');

  it('keeps the record as sent and sets provenance from the received bytes', () => {
    const out = nativeAdapter.adapt(rawEvent(bytes));
    expect(invalidRecords(out)).toEqual([]);
    const sent = fixtureJson<Record<string, unknown>>('native', 'record-full.json');
    const { source: _s, normalization_notes: _n, ...rest } = sent;
    expect(out[0].record).toMatchObject(rest);
    // raw_sha256 is the ledger's: the SHA-256 of these bytes, whatever the sender wrote.
    expect(out[0].record.source).toEqual({
      format: 'native',
      adapter_version: 'native/1',
      raw_sha256: sha256Hex(bytes),
    });
    expect(out[0].notes).toEqual([
      'sender note',
      'source.format from the sender replaced by "native"',
      'source.raw_sha256 from the sender replaced by the SHA-256 of the received bytes',
    ]);
  });

  it('reads arrays and NDJSON of records', () => {
    const rec = fixtureJson<Record<string, unknown>>('native', 'record-full.json');
    const second = { ...rec, event_id: 'evt-2' };
    expect(nativeAdapter.adapt(rawEvent([rec, second])).map((o) => o.record.event_id)).toEqual([rec.event_id, 'evt-2']);
    const nd = `${JSON.stringify(rec)}\n${JSON.stringify(second)}\n`;
    expect(nativeAdapter.adapt(rawEvent(nd))).toHaveLength(2);
  });

  it('masks secrets in free text and hashes an e-mail sent as end_user_hash', () => {
    const out = nativeAdapter.adapt(rawEvent(fixtureBytes('native', 'record-secrets.json')));
    expect(invalidRecords(out)).toEqual([]);
    expect(plantedFound(out)).toEqual([]);
    expect(out[0].record.end_user_hash).toBe(endUserHash('jane.doe@example.com'));
    expect(out[0].record.endpoint?.path).toBe('/v1/messages?key=[REDACTED]');
  });

  it.each<[string, unknown, string]>([
    ['not an object', '"hello"', 'NOT_AN_OBJECT'],
    ['another schema version', { schema_version: '2' }, 'UNSUPPORTED_SCHEMA_VERSION'],
    ['invalid record', { schema_version: '1', event_id: 'x' }, 'INVALID_RECORD'],
    ['empty payload', '', 'EMPTY_PAYLOAD'],
    ['broken JSON', '{"schema_version":', 'INVALID_JSON'],
  ])('%s → DecodeError %s', (_n, payload, code) => {
    const raw = rawEvent(typeof payload === 'string' ? Buffer.from(payload) : (payload as object));
    expect(() => nativeAdapter.adapt(raw)).toThrow(DecodeError);
    expect(() => nativeAdapter.adapt(raw)).toThrow(expect.objectContaining({ code }));
  });
});
