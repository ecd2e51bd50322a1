import fc from 'fast-check';
import { firstDuplicateKey, provablyNoDuplicateKeys } from './duplicate-keys.js';

describe('firstDuplicateKey', () => {
  it.each([
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"x":{"t":"a","t":"b"}}', 'x.t'],
    ['{"a":"a","b":{"a":1}}', undefined],
    ['[{"a":1},{"a":2}]', undefined],
    ['{"s":"has \\" quote, and \\"a\\":","s2":1}', undefined],
    ['{"k\\u0061":1,"ka":2}', 'ka'],
    ['{"arr":[{"z":1,"z":2}]}', 'arr.z'],
    ['{"a":[1,2],"b":[{"c":{}}],"a":0}', 'a'],
    ['{"broken', undefined],
  ])('%s → %s', (text, expected) => {
    expect(firstDuplicateKey(text)).toBe(expected);
  });

  it('agrees with JSON.parse on documents without duplicates', () => {
    const doc = { a: { b: [1, { c: 'x"y', d: [] }], e: {} }, f: 'g' };
    expect(firstDuplicateKey(JSON.stringify(doc))).toBeUndefined();
  });

  it('finds no duplicate in what JSON.stringify writes, and finds one spliced into it, whatever the strings hold', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), {
          minKeys: 1,
          maxKeys: 6,
        }),
        (doc) => {
          const text = JSON.stringify(doc);
          expect(firstDuplicateKey(text)).toBeUndefined();
          const [first] = Object.keys(doc);
          const doubled = `{${JSON.stringify(first)}:0,${text.slice(1)}`;
          expect(firstDuplicateKey(doubled)).toBe(first);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('provablyNoDuplicateKeys', () => {
  it.each([
    ['{"a":1,"b":2}', true],
    ['{"a":1,"a":2}', false],
    ['{"x":{"t":"a:b","t":"b"}}', false],
    ['{"a:b":"c:d","e":["f:g",{"h":"i"}]}', true],
    ['{"k\\u0061":1,"ka":2}', false],
    ['[{"a":1},{"a":2}]', true],
  ])('%s → %s', (text, expected) => {
    expect(provablyNoDuplicateKeys(text, JSON.parse(text))).toBe(expected);
  });

  it('never vouches for a text with a duplicate, and vouches for what JSON.stringify writes', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), {
          minKeys: 1,
          maxKeys: 6,
        }),
        fc.boolean(),
        (doc, pretty) => {
          const text = JSON.stringify(doc, null, pretty ? 1 : undefined);
          // JSON.stringify writes \u escapes only for control characters and lone surrogates.
          if (!text.includes('\\u')) expect(provablyNoDuplicateKeys(text, JSON.parse(text))).toBe(true);
          const [first] = Object.keys(doc);
          const doubled = `{${JSON.stringify(first)}:0,${text.slice(1)}`;
          expect(firstDuplicateKey(doubled)).toBe(first);
          expect(provablyNoDuplicateKeys(doubled, JSON.parse(doubled))).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
