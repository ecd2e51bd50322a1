import { parseDocuments } from './payload.js';

describe('parseDocuments', () => {
  it('reads a value, an array and NDJSON, and strips a BOM', () => {
    expect(parseDocuments(Buffer.from('\uFEFF{"a":1}'), 'x')).toEqual([{ a: 1 }]);
    expect(parseDocuments(Buffer.from('[{"a":1},{"a":2}]'), 'x')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseDocuments(Buffer.from('{"a":1}\r\n\r\n{"a":2}\n'), 'x')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('names the broken NDJSON line without quoting it', () => {
    expect(() => parseDocuments(Buffer.from('{"a":1}\n{"key":"sk-live-abcdef123456"'), 'x')).toThrow('x: payload is neither JSON nor NDJSON (line 2 is not valid JSON)');
  });
});
