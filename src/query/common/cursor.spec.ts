import fc from 'fast-check';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursor', () => {
  it('round-trips any keyset', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        fc.string({ minLength: 1, maxLength: 100 }),
        (d, micros, id) => {
          const occurredAt = d.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
          expect(decodeCursor(encodeCursor({ occurredAt, eventId: id }))).toEqual({ occurredAt, eventId: id });
        },
      ),
    );
  });

  it('is opaque base64url', () => {
    expect(encodeCursor({ occurredAt: '2026-11-25T10:00:00.123456Z', eventId: 'evt-1' })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['not base64url', 'abc$%'],
    ['empty', ''],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['other version', Buffer.from(JSON.stringify({ v: 2, t: '2026-11-25T10:00:00Z', id: 'x' })).toString('base64url')],
    ['bad timestamp', Buffer.from(JSON.stringify({ v: 1, t: 'yesterday', id: 'x' })).toString('base64url')],
    [
      'SQL in the timestamp',
      Buffer.from(JSON.stringify({ v: 1, t: "2026-01-01'; DROP TABLE records;--", id: 'x' })).toString('base64url'),
    ],
    ['missing id', Buffer.from(JSON.stringify({ v: 1, t: '2026-11-25T10:00:00Z' })).toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('rejects %s with BAD_CURSOR', (_name, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'BAD_CURSOR' }));
  });
});
