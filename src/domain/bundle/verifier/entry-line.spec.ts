import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { canonicalBytes } from '../../canonical/canonical-json.js';
import { assertLedgerEntry, type LedgerEntry } from '../../ledger-entry/ledger-entry.js';
import { EntryLineScanner, type NotedMember } from './entry-line.js';

/**
 * The oracle: what the general check decides for a records.jsonl line (strict UTF-8, JSON, a
 * valid ledger entry, and the bytes are exactly its canonical form), with the parsed entry.
 */
function reference(line: Buffer): LedgerEntry | undefined {
  if (!isUtf8(line)) return undefined;
  let entry: LedgerEntry;
  try {
    entry = JSON.parse(line.toString('utf8')) as LedgerEntry;
    assertLedgerEntry(entry);
    return canonicalBytes(entry).equals(line) ? entry : undefined;
  } catch {
    return undefined;
  }
}

const scanner = new EntryLineScanner();
const NOTED: NotedMember[] = ['gateway', 'occurred_at', 'outcome', 'provider', 'requested_model', 'tenant_id'];

/** Whether the scanner accepts `line`: and when it does, the reference accepts it too and every noted fact agrees. */
function acceptedAndAgrees(line: Buffer): boolean {
  if (!isUtf8(line) || !scanner.accept(line)) return false;
  const entry = reference(line);
  expect(entry).toBeDefined();
  const e = entry!;
  expect([scanner.index, scanner.shard, scanner.tenantSeq]).toEqual([e.index, e.shard, e.tenant_seq]);
  expect(JSON.parse(line.toString('utf8', scanner.tenant.start, scanner.tenant.end))).toBe(e.tenant_id);
  expect(scanner.prevHex < 0 ? null : line.toString('latin1', scanner.prevHex, scanner.prevHex + 64)).toBe(
    e.tenant_prev,
  );
  const record = e.record as Record<string, unknown>;
  for (const name of NOTED) {
    const span = scanner.member(name);
    const value = span.start < 0 ? undefined : (JSON.parse(line.toString('utf8', span.start, span.end)) as unknown);
    expect(value).toEqual(record[name]);
    if (span.start >= 0 && typeof value === 'string') {
      const inner = line.toString('utf8', span.start + 1, span.end - 1);
      expect(scanner.memberEscaped(name) || inner === value).toBe(true);
    }
  }
  return true;
}

const HEX64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Member names: mostly the noted ones and ASCII, some anything (escapes, non-ASCII, astral, `__proto__`). */
const KEY = fc.oneof(
  fc.constantFrom(...NOTED, 'event_id', 'gateway', 'id', 'status', '__proto__', '0', '10', 'a b', 'é', '\u{1f600}'),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
/** Strings with the characters canonical form escapes or leaves alone. */
const TEXT = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    '',
    '"',
    '\\',
    '\n',
    '\u0000',
    '\u001f',
    '\u007f',
    '\u2028',
    '/',
    'é',
    '\u{1f600}',
    '\ud7ff',
    '\ue000',
  ),
  fc.constantFrom('2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00Z', 'not a time', 'openai', 'gw-1', 'success'),
);
const NUMBER = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, 1.5, 1e21, 1e-7, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const { value: VALUE } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    TEXT,
    NUMBER,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(KEY, tie('value'), { maxKeys: 5 }),
  ),
}));

/** Ledger entries, their records anything JSON; the record's tenant_id mostly the entry's. */
const ENTRY: fc.Arbitrary<LedgerEntry> = fc
  .record({
    index: fc.maxSafeNat(),
    shard: fc.nat(64),
    tenant_id: fc.oneof(fc.constantFrom('acme', 't-1', 'é"\\'), fc.string({ minLength: 1, maxLength: 8 })),
    tenant_seq: fc.oneof(fc.constant(0), fc.maxSafeNat()),
    prev: HEX64,
    record: fc.dictionary(KEY, VALUE, { maxKeys: 8 }),
    recordTenant: fc.constantFrom('same', 'absent', 'other'),
    occurred: fc.option(TEXT),
  })
  .map(({ index, shard, tenant_id, tenant_seq, prev, record, recordTenant, occurred }) => {
    const r: Record<string, unknown> = { ...record };
    if (recordTenant === 'same') r.tenant_id = tenant_id;
    else if (recordTenant === 'absent') delete r.tenant_id;
    if (occurred !== null) r.occurred_at = occurred;
    return { v: 1, index, shard, tenant_id, tenant_seq, tenant_prev: tenant_seq === 0 ? null : prev, record: r };
  });

/** Canonical lines of valid entries (the generator's few invalid or non-canonicalizable ones left out). */
const LINE = ENTRY.map((e) => {
  try {
    const line = canonicalBytes(e);
    return reference(line) !== undefined ? line : undefined;
  } catch {
    return undefined;
  }
}).filter((l): l is Buffer => l !== undefined);

/** Records the scanner decides itself: ASCII member names without `"` or `\`, safe integers, strings of anything. */
const PLAIN_KEY = fc.oneof(
  fc.constantFrom(...NOTED, 'event_id', 'id', 'status', '0', '10', 'a b', '~'),
  fc.stringMatching(/^[ !#-[\]-~]{0,8}$/).filter((k) => k !== '__proto__'),
);
const { value: PLAIN_VALUE } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    TEXT,
    fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constant(-0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(PLAIN_KEY, tie('value'), { maxKeys: 5 }),
  ),
}));
const PLAIN_ENTRY: fc.Arbitrary<LedgerEntry> = fc
  .record({
    index: fc.maxSafeNat(),
    shard: fc.nat(64),
    tenant_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
    tenant_seq: fc.oneof(fc.constant(0), fc.maxSafeNat()),
    prev: HEX64,
    record: fc.dictionary(PLAIN_KEY, PLAIN_VALUE, { maxKeys: 8 }),
    sameTenant: fc.boolean(),
  })
  .map(({ index, shard, tenant_id, tenant_seq, prev, record, sameTenant }) => {
    const r: Record<string, unknown> = { ...record };
    if (sameTenant) r.tenant_id = tenant_id;
    else delete r.tenant_id;
    return { v: 1, index, shard, tenant_id, tenant_seq, tenant_prev: tenant_seq === 0 ? null : prev, record: r };
  });

/** Text edits that make a canonical line non-canonical unless the result happens to be canonical again. */
function edits(line: Buffer): fc.Arbitrary<Buffer> {
  const text = line.toString('latin1');
  const at = fc.nat(line.length);
  const replace = (from: number, length: number, by: string) =>
    Buffer.concat([line.subarray(0, from), Buffer.from(by, 'latin1'), line.subarray(from + length)]);
  /** Positions of a pattern's matches in the line. */
  const matches = (re: RegExp) => [...text.matchAll(re)].map((m) => [m.index, m[0]] as const);
  const numbers = matches(/(?<=[:,[])-?\d+(?=[,\]}])/g);
  const strings = matches(/"(?:[^"\\]|\\.)*"/g);
  const members = matches(/(?<=[{,])"(?:[^"\\]|\\.)*":/g);
  const options: Array<fc.Arbitrary<Buffer>> = [
    // One byte replaced, inserted or removed.
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, b]) => replace(i, 1, String.fromCharCode(b))),
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, b]) => replace(i, 0, String.fromCharCode(b))),
    at.map((i) => replace(i, 1, '')),
    // Whitespace anywhere.
    fc.tuple(at, fc.constantFrom(' ', '\t', '\n', '\r', '  ')).map(([i, w]) => replace(i, 0, w)),
    // Two bytes swapped.
    at.map((i) =>
      replace(
        i,
        2,
        text
          .slice(i, i + 2)
          .split('')
          .reverse()
          .join(''),
      ),
    ),
  ];
  if (numbers.length > 0)
    options.push(
      fc
        .tuple(
          fc.constantFrom(...numbers),
          fc.constantFrom('N.0', 'Ne0', 'NE0', 'N.5', '0N', '-N', '+N', 'N0', 'N.', '-0', 'Ne+0', '00', 'N e0'),
        )
        .map(([[i, n], form]) => replace(i, n.length, form.replace(/N/g, n))),
    );
  if (strings.length > 0)
    options.push(
      fc
        .tuple(
          fc.constantFrom(...strings),
          fc.nat(),
          fc.constantFrom(
            '\\u0041',
            '\\/',
            '\\u000a',
            '\\u000A',
            '\\u001F',
            '\\u001f',
            '\\u0008',
            '\\b',
            '\\n',
            '\\u007f',
            '\\ud800',
            '\\ud83d\\ude00',
            '\\u00e9',
            '\\"',
            '\\\\',
            '\\x41',
            '\\u00',
            '\x01',
            '\x7f',
            '\u00e9',
            '\\',
          ),
        )
        .map(([[i, s], k, insert]) => {
          const inside = i + 1 + (k % Math.max(1, s.length - 1));
          return replace(inside, 0, insert);
        }),
      // An escape written another way: \n as \u000a, \u001f as \u001F, \" as \u0022, and so on.
      fc.constantFrom(...strings).chain(([i, s]) => {
        const escapes = [...s.matchAll(/\\(?:u[0-9a-f]{4}|.)/g)];
        if (escapes.length === 0) return fc.constant(replace(i, s.length, s.replace(/e/, '\\u0065')));
        return fc
          .tuple(fc.constantFrom(...escapes), fc.constantFrom('upper', 'long', 'short', 'raw'))
          .map(([m, how]) => {
            const esc = m[0];
            const code = esc.length === 6 ? parseInt(esc.slice(2), 16) : JSON.parse(`"${esc}"`).charCodeAt(0);
            const long = `\\u${code.toString(16).padStart(4, '0')}`;
            const other =
              how === 'upper'
                ? long.toUpperCase().replace('\\U', '\\u')
                : how === 'long'
                  ? long
                  : how === 'raw'
                    ? String.fromCharCode(code)
                    : (JSON.stringify(String.fromCharCode(code)).slice(1, -1) as string);
            return replace(i + m.index, esc.length, other);
          });
      }),
    );
  if (members.length > 1)
    // Two members of an object swapped (their names with the value after them), or one repeated.
    options.push(
      fc.tuple(fc.constantFrom(...members), fc.constantFrom(...members)).map(([[i, a], [j, b]]) => {
        if (i === j) return replace(i, 0, `${a}null,`);
        return Buffer.from(
          i < j
            ? text.slice(0, i) + b + text.slice(i + a.length, j) + a + text.slice(j + b.length)
            : text.slice(0, j) + a + text.slice(j + b.length, i) + b + text.slice(i + a.length),
          'latin1',
        );
      }),
    );
  return fc.oneof(...options);
}

describe('EntryLineScanner', () => {
  it('accepts the canonical form of an entry whose record it decides itself, and reads its members as JSON.parse does', () => {
    fc.assert(
      fc.property(PLAIN_ENTRY, (e) => {
        const line = canonicalBytes(e);
        expect(reference(line)).toBeDefined();
        expect(acceptedAndAgrees(line)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only canonical lines of valid entries, whatever the record holds', () => {
    fc.assert(
      fc.property(LINE, (line) => {
        acceptedAndAgrees(line);
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts an edited line unless it is itself the canonical form of a valid entry', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        LINE.chain((line) => edits(line)),
        (edited) => {
          if (acceptedAndAgrees(edited)) accepted++;
        },
      ),
      { numRuns: 20000 },
    );
    // Some edits are canonical again (a digit changed, a character in a string): those are accepted.
    expect(accepted).toBeGreaterThan(0);
  });

  it('never accepts an edited line of an entry it decides itself unless the edit is canonical', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        PLAIN_ENTRY.chain((e) => edits(canonicalBytes(e))),
        (edited) => {
          if (acceptedAndAgrees(edited)) accepted++;
        },
      ),
      { numRuns: 20000 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  const entry = (record: object, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
    v: 1,
    index: 7,
    shard: 2,
    tenant_id: 'acme',
    tenant_seq: 1,
    tenant_prev: 'ab'.repeat(32),
    record,
    ...over,
  });
  const text = (e: LedgerEntry) => canonicalBytes(e).toString('utf8');
  const accepts = (s: string) => {
    const line = Buffer.from(s, 'utf8');
    return isUtf8(line) && scanner.accept(line);
  };

  it('accepts a typical record line', () => {
    const record = {
      event_id: 'e-1',
      occurred_at: '2024-05-01T10:00:00.000Z',
      tenant_id: 'acme',
      gateway: { id: 'gw', kind: 'native' },
      outcome: { status: 'success', http_status: 200 },
      usage: { input_tokens: 100, output_tokens: -3 },
      cost: { amount: '0.0042' },
      flags: [true, false, null, [], {}],
      note: 'tab\there "quoted" \\ \u0001 é \u{1f600}',
    };
    expect(accepts(text(entry(record)))).toBe(true);
    expect(accepts(text(entry(record, { tenant_seq: 0, tenant_prev: null })))).toBe(true);
  });

  it('leaves to the general check what it does not decide, canonical or not', () => {
    // Canonical, but outside what it decides: fractions, large numbers, non-ASCII or escaped names, __proto__.
    expect(accepts(text(entry({ cost: 1.5 })))).toBe(false);
    expect(accepts(text(entry({ big: 2 ** 53 })))).toBe(false);
    expect(accepts(text(entry({ é: 1 })))).toBe(false);
    expect(accepts(text(entry({ 'a\nb': 1 })))).toBe(false);
    expect(accepts(text(entry(JSON.parse('{"__proto__":1}') as object)))).toBe(false);
    // Not canonical, or not a valid entry.
    const base = text(entry({ a: 1 }));
    expect(accepts(base.replace('"a":1', '"a":1.0'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a":-0'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a":"\\u0041"'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a":"\\u001F"'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a":"\\u000a"'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a":"\\/"'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"b":1,"a":1'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a":1,"a":1'))).toBe(false);
    expect(accepts(base.replace('"a":1', '"a": 1'))).toBe(false);
    expect(accepts(`${base} `)).toBe(false);
    expect(accepts(text(entry({ tenant_id: 'other' })))).toBe(false);
    expect(accepts(text(entry({}, { tenant_seq: 0 })))).toBe(false);
    expect(accepts(text(entry({}, { tenant_prev: 'AB'.repeat(32) })))).toBe(false);
    expect(accepts(text(entry({}, { tenant_id: '' })))).toBe(false);
    expect(accepts(base.replace('"v":1', '"v":2'))).toBe(false);
    expect(accepts(base.replace('"shard":2', '"shard":-2'))).toBe(false);
    expect(accepts(base.replace('"index":7', `"index":${2 ** 53}`))).toBe(false);
    expect(accepts(base.replace('{"index"', '{"extra":1,"index"'))).toBe(false);
    // Nesting deeper than it walks.
    expect(accepts(text(entry({ deep: JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) as unknown })))).toBe(false);
    expect(accepts(text(entry({ deep: JSON.parse(`${'['.repeat(60)}${']'.repeat(60)}`) as unknown })))).toBe(true);
  });

  it('notes a noted member with an escape as escaped', () => {
    expect(accepts(text(entry({ occurred_at: 'a\nb', provider: 'x' })))).toBe(true);
    expect(scanner.memberEscaped('occurred_at')).toBe(true);
    expect(scanner.memberEscaped('provider')).toBe(false);
  });
});
