import { sha256Hex } from '../../domain/privacy/redact.js';
import { DecodeError } from './adapter.js';
import { adaptDocuments, documentObject, parseDocuments } from './payload.js';

describe('parseDocuments', () => {
  it('reads a value, an array and NDJSON, and strips a BOM', () => {
    expect(parseDocuments(Buffer.from('\uFEFF{"a":1}'), 'x')).toEqual([{ a: 1 }]);
    expect(parseDocuments(Buffer.from('[{"a":1},{"a":2}]'), 'x')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseDocuments(Buffer.from('{"a":1}\r\n\r\n{"a":2}\n'), 'x')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('names the broken NDJSON line without quoting it', () => {
    expect(() => parseDocuments(Buffer.from('{"a":1}\n{"key":"sk-live-abcdef123456"'), 'x')).toThrow(
      'x: payload is neither JSON nor NDJSON (line 2 is not valid JSON)',
    );
  });
});

describe('adaptDocuments', () => {
  const raw = (text: string) => ({ payload: Buffer.from(text), headers: {}, receivedAt: new Date() });
  const whereOf = (_raw: unknown, doc: unknown, where: string, sha: string) => ({ doc, where, sha });

  it('names a lone document by the label and each document of a batch by its index, with one payload hash', () => {
    const sha = sha256Hex('{"a":1}');
    expect(adaptDocuments(raw('{"a":1}'), 'x', whereOf)).toEqual([{ doc: { a: 1 }, where: 'x', sha }]);
    const batch = adaptDocuments(raw('{"a":1}\n{"a":2}'), 'x', whereOf);
    expect(batch.map((b) => b.where)).toEqual(['x: event 0', 'x: event 1']);
    expect(new Set(batch.map((b) => b.sha))).toEqual(new Set([sha256Hex('{"a":1}\n{"a":2}')]));
  });
});

describe('documentObject', () => {
  it('passes a JSON object through and refuses anything else as NOT_AN_OBJECT', () => {
    const doc = { a: 1 };
    expect(documentObject(doc, 'x', 'each X event')).toBe(doc);
    expect(() => documentObject([doc], 'x: event 1', 'each X event')).toThrow(
      new DecodeError('NOT_AN_OBJECT', 'x: event 1: each X event must be a JSON object'),
    );
  });
});
