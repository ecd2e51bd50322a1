import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { isCanonicalText } from './bundle-parse.js';

/** What the verifier decided before: the text is the canonical form of what it parses to. */
function reference(text: string): boolean {
  const value: unknown = JSON.parse(text);
  try {
    return canonicalize(value) === text;
  } catch {
    return false; // no canonical form (a lone surrogate)
  }
}

describe('isCanonicalText', () => {
  it('agrees with the canonicalize package on canonical texts and on JSON.stringify texts', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        for (const text of [canonicalize(v)!, JSON.stringify(v)]) {
          expect(isCanonicalText(JSON.parse(text), text)).toBe(reference(text));
        }
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['members out of order', '{"b":1,"a":2}', false],
    ['members in order', '{"a":2,"b":1}', true],
    ['a duplicate member', '{"a":1,"a":1}', false],
    ['whitespace', '{"a": 1}', false],
    ['an exponent', '{"a":1e2}', false],
    ['a fraction written canonically', '{"a":0.5}', true],
    ['-0', '{"a":-0}', false],
    ['digit-led names (engines reorder them)', '{"10":1,"9":2}', true],
    ['digit-led names out of JCS order', '{"9":2,"10":1}', false],
    ['an escaped control character', '{"a":"\\u0001"}', true],
    ['an escape JCS writes literally', '{"a":"\\u0041"}', false],
    ['a lone surrogate escape', '{"a":"\\ud800"}', false],
    ['a __proto__ member', '{"__proto__":1}', true],
    ['nested members out of order', '{"a":{"d":1,"c":2}}', false],
    ['uppercase in a name sorts before lowercase', '{"B":1,"a":2}', true],
  ])('%s', (_, text, canonical) => {
    expect(isCanonicalText(JSON.parse(text), text)).toBe(canonical);
    expect(reference(text)).toBe(canonical);
  });
});
