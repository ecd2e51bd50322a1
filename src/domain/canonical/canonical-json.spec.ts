import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { CanonicalizationError, canonicalBytes, canonicalJson, sortMemberNames } from './canonical-json.js';

const JCS_DIR = join(process.cwd(), 'test/vectors/jcs');
const CYBERPHONE = join(JCS_DIR, 'cyberphone');

/** The cyberphone test files, by name: parsed input, expected bytes, expected bytes from hex. */
function cyberphoneCases(): Array<{ name: string; input: unknown; expected: Buffer; expectedFromHex: Buffer }> {
  return readdirSync(join(CYBERPHONE, 'input'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.json$/, '');
      const hex = readFileSync(join(CYBERPHONE, 'outhex', `${name}.txt`), 'utf8').replace(/\s+/g, '');
      return {
        name,
        input: JSON.parse(readFileSync(join(CYBERPHONE, 'input', file), 'utf8')) as unknown,
        expected: readFileSync(join(CYBERPHONE, 'output', file)),
        expectedFromHex: Buffer.from(hex, 'hex'),
      };
    });
}

/** `hex-ieee754-double,expected` lines of es6-number-samples.csv. */
function numberSamples(): Array<{ hex: string; value: number; expected: string }> {
  return readFileSync(join(JCS_DIR, 'es6-number-samples.csv'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [hex, expected] = line.split(',');
      return { hex, value: Buffer.from(hex.padStart(16, '0'), 'hex').readDoubleBE(0), expected };
    });
}

describe('canonicalJson: RFC 8785 conformance (cyberphone test data)', () => {
  const cases = cyberphoneCases();

  it('has all six input files', () => {
    expect(cases.map((c) => c.name)).toEqual(['arrays', 'french', 'structures', 'unicode', 'values', 'weird']);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: canonicalBytes equals output/ and outhex/', (_name, c) => {
    expect(c.expected.equals(c.expectedFromHex)).toBe(true);
    expect(canonicalBytes(c.input).toString('hex')).toBe(c.expected.toString('hex'));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: the canonicalize package agrees', (_name, c) => {
    expect(Buffer.from(canonicalize(c.input) ?? '', 'utf8').toString('hex')).toBe(c.expected.toString('hex'));
  });
});

describe('canonicalJson: ES6 number serialization samples', () => {
  const samples = numberSamples();

  it('has the seven README sample lines', () => {
    expect(samples).toHaveLength(7);
  });

  it.each(samples.map((s) => [s.hex, s] as const))('%s via canonicalJson and via canonicalize', (_hex, s) => {
    expect(canonicalJson(s.value)).toBe(s.expected);
    expect(canonicalJson([s.value])).toBe(`[${s.expected}]`);
    expect(canonicalize(s.value)).toBe(s.expected);
  });
});

describe('canonicalJson: rejected inputs', () => {
  const rejects = (value: unknown, code: string) => {
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CanonicalizationError);
    expect((caught as CanonicalizationError).code).toBe(code);
  };

  it('rejects a lone high surrogate in a value (RFC 8785 §3.2.2.2)', () => rejects(['\ud800'], 'LONE_SURROGATE'));
  it('rejects a reversed surrogate pair', () => rejects(['\ude00\ud83d'], 'LONE_SURROGATE'));
  it('rejects a lone low surrogate in a key', () => rejects({ ['a\udc00']: 1 }, 'LONE_SURROGATE'));
  it('rejects a lone surrogate even when a float sends the value to the library', () =>
    rejects({ f: 1.5, s: '\ud800' }, 'LONE_SURROGATE'));
  it('the canonicalize package also rejects lone surrogates', () => {
    expect(() => canonicalize(['\ud800'])).toThrow(/Lone surrogate/);
  });
  it('rejects undefined inside an array', () => rejects([1, undefined], 'UNDEFINED_VALUE'));
  it('rejects a hole in a sparse array', () => rejects(new Array(2), 'UNDEFINED_VALUE'));
  it('rejects undefined at the root', () => rejects(undefined, 'UNDEFINED_VALUE'));
  it('rejects functions', () => rejects({ f: () => 1 }, 'UNSUPPORTED_TYPE'));
  it('rejects a toJSON method rather than calling it', () => rejects({ toJSON: () => 'x' }, 'UNSUPPORTED_TYPE'));
  it('rejects symbols and bigints', () => {
    rejects([Symbol('s')], 'UNSUPPORTED_TYPE');
    rejects({ n: 1n }, 'UNSUPPORTED_TYPE');
  });
  it('rejects NaN and Infinity', () => {
    rejects(NaN, 'NON_FINITE_NUMBER');
    rejects([Infinity], 'NON_FINITE_NUMBER');
    rejects({ x: -Infinity }, 'NON_FINITE_NUMBER');
  });
  it('rejects non-plain objects', () => {
    rejects({ at: new Date(0) }, 'NON_PLAIN_OBJECT');
    rejects(new Map(), 'NON_PLAIN_OBJECT');
    rejects([Buffer.from('x')], 'NON_PLAIN_OBJECT');
    rejects(Object('boxed'), 'NON_PLAIN_OBJECT');
    rejects(new (class Thing {})(), 'NON_PLAIN_OBJECT');
  });
  it('rejects cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    rejects(cyclic, 'CIRCULAR_REFERENCE');
  });
  it('names the path of the offending value', () => {
    expect(() => canonicalJson({ a: [0, { b: NaN }] })).toThrow('at /a/1/b');
  });
});

describe('canonicalJson: our value space', () => {
  it('omits object members whose value is undefined, like JSON.stringify', () => {
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
  });
  it('accepts objects with a null prototype', () => {
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 2, a: 1 }))).toBe('{"a":1,"b":2}');
  });
  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });
  it('sorts keys by UTF-16 code units, not code points', () => {
    // U+1F600 is \ud83d\ude00: its first unit (0xd83d) sorts below U+FB33 (0xfb33).
    expect(canonicalJson({ '\ufb33': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });
  it('writes -0 as 0', () => {
    expect(canonicalJson({ z: -0 })).toBe('{"z":0}');
  });
  it('canonicalBytes is the UTF-8 of canonicalJson', () => {
    expect(canonicalBytes({ e: '€' }).toString('hex')).toBe('7b2265223a22e282ac227d');
  });
});

describe('canonicalJson: fast path equals the canonicalize package (property)', () => {
  // Any code point, including astral ones and U+0000..U+001F, but always well-formed UTF-16.
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  const scalar = fc.oneof(
    text,
    fc.boolean(),
    fc.constant(null),
    fc.maxSafeInteger(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 6 }),
      fc.dictionary(text, tie('value'), { maxKeys: 6 }),
    ),
  }));

  it('matches byte for byte on strings, booleans, null, safe integers, arrays and objects', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('is a fixed point: canonicalizing parsed canonical JSON gives the same text', () => {
    fc.assert(
      fc.property(value, (v) => {
        const once = canonicalJson(v);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('delegated values (with doubles) also match', () => {
    const withDoubles = fc.dictionary(text, fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), scalar), {
      minKeys: 1,
      maxKeys: 6,
    });
    fc.assert(
      fc.property(withDoubles, (v) => {
        expect(canonicalJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
  });
});

describe('canonicalJson: member names the engine would reorder', () => {
  it('sorts integer-like names and keeps an own __proto__ member, as the canonicalize package does', () => {
    const cases = [
      '{"10":1,"9":2,"a":3,"":4}',
      '{"__proto__":{"b":1,"a":2},"z":[{"2":0,"1":1}]}',
      '{"b":{"0":"x","-1":"y","01":"z"}}',
    ];
    for (const text of cases) {
      const value = JSON.parse(text) as unknown;
      expect(canonicalJson(value)).toBe(canonicalize(value));
    }
    expect(canonicalJson(JSON.parse('{"10":1,"9":2}'))).toBe('{"10":1,"9":2}');
  });

  it("gives the checked walk's answer on generated objects whose names start with digits", () => {
    const name = fc.oneof(fc.nat().map(String), fc.string({ maxLength: 3 }));
    const value = fc.dictionary(
      name,
      fc.oneof(fc.string(), fc.maxSafeInteger(), fc.dictionary(name, fc.boolean(), { maxKeys: 3 })),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(value, (v) => expect(canonicalJson(v)).toBe(canonicalize(v))),
      { numRuns: 1000 },
    );
  });
});

describe('sortMemberNames', () => {
  it('orders names as the engine sort does (UTF-16 code units), at every length, in place', () => {
    const names = fc.array(
      fc.oneof(fc.string({ unit: 'binary' }), fc.string(), fc.constantFrom('a', 'b', 'aa', 'A', '')),
      {
        maxLength: 70,
      },
    );
    fc.assert(
      fc.property(names, (list) => {
        const expected = [...list].sort();
        const sorted = sortMemberNames(list);
        expect(sorted).toBe(list);
        expect(sorted).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
