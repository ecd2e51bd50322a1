import { BodySplitError, jsonArrayElements, splitPayloadsExact } from './json-split.js';

describe('splitPayloadsExact', () => {
  it('keeps each array element byte for byte (whitespace, number spelling, escapes)', () => {
    const body = '[ {"a": 1.50, "s": "x,]}\\"y"} ,\n{"b":[1,{"c":"]"}]}, "str", 7e2, null ]';
    expect(splitPayloadsExact(Buffer.from(body)).map(String)).toEqual([
      '{"a": 1.50, "s": "x,]}\\"y"}',
      '{"b":[1,{"c":"]"}]}',
      '"str"',
      '7e2',
      'null',
    ]);
  });

  it('splits NDJSON into its lines, and keeps a single object whole', () => {
    expect(splitPayloadsExact(Buffer.from('{"a":1}\n\n{"b":2}\r\n')).map(String)).toEqual(['{"a":1}', '{"b":2}']);
    const single = Buffer.from('{\n  "a": 1\n}\n');
    expect(splitPayloadsExact(single)).toEqual([single]);
  });

  it('returns nothing for an empty body or an empty array', () => {
    expect(splitPayloadsExact(Buffer.from('  \n'))).toEqual([]);
    expect(splitPayloadsExact(Buffer.from('[ ]'))).toEqual([]);
  });

  it('refuses a broken array without quoting it', () => {
    const e = (() => {
      try {
        splitPayloadsExact(Buffer.from('[{"api_key":"sk-live-PLANTEDx9f8e7d6c5b4a3"'));
      } catch (err) {
        return err as BodySplitError;
      }
    })();
    expect(e).toBeInstanceOf(BodySplitError);
    expect(JSON.stringify(e?.errors)).not.toContain('PLANTED');
  });

  it('jsonArrayElements agrees with JSON.parse on nested values', () => {
    const arr = [{ x: [1, 2, { y: '[,]' }] }, [], {}, 'a\\b', 0];
    expect(jsonArrayElements(JSON.stringify(arr, null, 2)).map((e) => JSON.parse(e))).toEqual(arr);
  });
});
