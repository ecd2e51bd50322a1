import fc from 'fast-check';
import { copyChunks, copyLine, type CopyValue } from './copy-text.js';

const value: fc.Arbitrary<CopyValue> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  fc.array(fc.string(), { maxLength: 4 }),
);

describe('COPY text', () => {
  it('escapes the four characters COPY text treats specially and marks NULL', () => {
    expect(copyLine(['a\tb\nc\\d\re', null, 7, Buffer.from([1, 255])])).toBe('a\\tb\\nc\\\\d\\re\t\\N\t7\t\\\\x01ff\n');
  });

  it('chunks hold exactly the bytes of the joined lines, UTF-8 encoded, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 1, maxLength: 5 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (rows, per) => {
          const chunks = copyChunks(rows, per);
          expect(Buffer.concat(chunks).equals(Buffer.from(rows.map(copyLine).join(''), 'utf8'))).toBe(true);
          expect(chunks.length).toBe(Math.ceil(rows.length / per));
        },
      ),
      { numRuns: 100 },
    );
  });
});
