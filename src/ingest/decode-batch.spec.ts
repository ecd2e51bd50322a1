import { sampleRecord } from '../../test/fixtures/sample-record.js';
import { validateRecord } from '../domain/record/validate-record.js';
import { decodeEvent } from './adapters/format-detection.js';
import { decodeBatch, type DecodeContext, type RawMessage } from './decode-batch.js';

const ctx: DecodeContext = {
  topic: 'routing.decisions',
  partition: 3,
  maxMessageBytes: 4096,
  receivedAt: new Date('2026-11-25T12:00:00.000Z'),
  decode: decodeEvent,
};
const msg = (offset: number, value: string | Buffer | null, headers: Record<string, string> = {}): RawMessage => ({
  offset: String(offset),
  value: typeof value === 'string' ? Buffer.from(value) : value,
  headers,
});

describe('decodeBatch', () => {
  it('stamps received_at and the Kafka position on valid records, which stay valid', () => {
    const [item] = decodeBatch([msg(7, JSON.stringify(sampleRecord()))], ctx);
    expect(item.kind).toBe('record');
    if (item.kind !== 'record') return;
    expect(item.record.received_at).toBe('2026-11-25T12:00:00.000Z');
    expect(item.record.source).toMatchObject({
      topic: 'routing.decisions',
      partition: 3,
      offset: '7',
      format: 'native',
    });
    expect(validateRecord(item.record).ok).toBe(true);
  });

  it('keeps offset order and turns each bad message into poison with a reason', () => {
    const items = decodeBatch(
      [
        msg(0, JSON.stringify(sampleRecord({ event_id: 'a' }))),
        msg(1, null),
        msg(2, '{"schema_version":"1",'),
        msg(3, 'x'.repeat(5000)),
        msg(4, JSON.stringify({ ...sampleRecord(), occurred_at: 'soon' })),
      ],
      ctx,
    );
    expect(items.map((i) => [i.offset, i.kind])).toEqual([
      ['0', 'record'],
      ['1', 'poison'],
      ['2', 'poison'],
      ['3', 'poison'],
      ['4', 'poison'],
    ]);
    const reasons = items.flatMap((i) => (i.kind === 'poison' ? [`${i.reasonCode}: ${i.reason}`] : []));
    expect(reasons[0]).toMatch(/^EMPTY: /);
    expect(reasons[2]).toMatch(/^TOO_LARGE: message is 5000 bytes, over the 4096-byte limit/);
    expect(reasons[3]).toContain('occurred_at');
  });

  it('masks secrets in poison before it is stored or dead-lettered', () => {
    const secret = 'sk-live-abcdefghijklmnopqrstuvwxyz012345';
    const [p] = decodeBatch(
      [msg(0, `{"broken": "${secret}", "user": "jane.doe@example.com"`, { authorization: `Bearer ${secret}` })],
      ctx,
    );
    expect(p.kind).toBe('poison');
    if (p.kind !== 'poison') return;
    const stored = p.payload.toString() + JSON.stringify(p.headers);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain('jane.doe@example.com');
  });

  it('yields one record per event of a multi-event payload', () => {
    const items = decodeBatch(
      [
        msg(9, JSON.stringify([sampleRecord({ event_id: 'x1' }), sampleRecord({ event_id: 'x2' })]), {
          'x-routing-format': 'native',
        }),
      ],
      ctx,
    );
    expect(items.map((i) => (i.kind === 'record' ? i.record.event_id : i.kind))).toEqual(['x1', 'x2']);
  });
});

describe('decodeBatch refuses what JSON.parse would silently change', () => {
  it('quarantines duplicate member names and invalid UTF-8', () => {
    const dup = JSON.stringify(sampleRecord()).replace('"tenant_id":"acme"', '"tenant_id":"acme","tenant_id":"other"');
    const badUtf8 = Buffer.concat([
      Buffer.from(JSON.stringify(sampleRecord()).slice(0, 40)),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const items = decodeBatch([msg(0, dup), msg(1, badUtf8)], ctx);
    expect(items.map((i) => (i.kind === 'poison' ? i.reasonCode : i.kind))).toEqual(['DUPLICATE_KEY', 'INVALID_UTF8']);
    expect(items[0].kind === 'poison' && items[0].reason).toContain('tenant_id');
  });
});
