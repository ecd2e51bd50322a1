import { costAmount, decimalFromNumber, normalizeDecimal, parseDocuments, parseHttpDate, parseTime, resolveTenant, shiftDecimal } from './normalize.js';

describe('decimalFromNumber: shortest exact text, no exponent', () => {
  it.each<[number, string]>([
    [0.004215, '0.004215'],
    [1.5e-7, '0.00000015'],
    [1e-7, '0.0000001'],
    [1e21, '1000000000000000000000'],
    [123.456, '123.456'],
    [0, '0'],
    [-0, '0'],
    [-2.5e-3, '-0.0025'],
    [0.1 + 0.2, '0.30000000000000004'],
  ])('%p → %s', (n, s) => {
    expect(decimalFromNumber(n)).toBe(s);
  });

  it('refuses NaN and infinities', () => {
    expect(decimalFromNumber(Number.NaN)).toBeUndefined();
    expect(decimalFromNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('normalizeDecimal and shiftDecimal', () => {
  it.each<[string, string | undefined]>([
    ['007.2500', '7.25'],
    ['1.5E-3', '0.0015'],
    ['.5', '0.5'],
    ['-0.000', '0'],
    ['12e2', '1200'],
    ['abc', undefined],
    ['1.2.3', undefined],
    ['', undefined],
  ])('normalizeDecimal(%p) → %p', (input, out) => {
    expect(normalizeDecimal(input)).toBe(out);
  });

  it.each<[string, number, string]>([
    ['0.0825', -2, '0.000825'],
    ['12', -2, '0.12'],
    ['1234.5', -2, '12.345'],
    ['5', 3, '5000'],
    ['-1', -2, '-0.01'],
  ])('shiftDecimal(%s, %i) → %s', (d, p, out) => {
    expect(shiftDecimal(d, p)).toBe(out);
  });
});

describe('costAmount', () => {
  it('converts cents, and leaves out what the record cannot hold exactly', () => {
    expect(costAmount(0.0825, 'cost', -2)).toEqual({ amount: '0.000825' });
    expect(costAmount('1e-30', 'cost')).toEqual({ note: expect.stringContaining('left out rather than rounded') });
    expect(costAmount('lots', 'cost')).toEqual({ note: 'cost is not a number; cost left out' });
    expect(costAmount(null, 'cost')).toEqual({});
  });
});

describe('parseTime', () => {
  it.each<[unknown, string, string[]]>([
    [1764089159.412731, '2025-11-25T16:45:59.412Z', []],
    ['1764089159.9999', '2025-11-25T16:45:59.999Z', []],
    [1764089159, '2025-11-25T16:45:59.000Z', []],
    ['2025-11-25 16:45:59.123456', '2025-11-25T16:45:59.123Z', ['t had no time zone; read as UTC', 't truncated to milliseconds']],
    ['2025-11-25T16:45:59', '2025-11-25T16:45:59.000Z', ['t had no time zone; read as UTC']],
    ['2025-11-25T16:51:40.118634+00:00', '2025-11-25T16:51:40.118Z', ['t truncated to milliseconds']],
    ['2025-11-25T18:45:59.5+02:00', '2025-11-25T16:45:59.500Z', []],
    ['2025-11-25T11:15:59.000-0530', '2025-11-25T16:45:59.000Z', []],
  ])('%p → %s', (input, iso, notes) => {
    expect(parseTime(input, 't')).toEqual({ iso, notes });
  });

  it.each(['yesterday', '2025-02-30 10:00:00', '2025-11-25T25:00:00Z', -5, Number.NaN, '', null])('refuses %p', (v) => {
    expect(parseTime(v, 't')).toBeUndefined();
  });

  it('reads HTTP dates at second precision', () => {
    expect(parseHttpDate('Fri, 29 Aug 2025 03:48:00 GMT')).toBe('2025-08-29T03:48:00.000Z');
    expect(parseHttpDate('29/08/2025')).toBeUndefined();
  });
});

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

describe('resolveTenant', () => {
  const raw = (headers: Record<string, string>) => ({ payload: Buffer.from('{}'), headers, receivedAt: new Date() });
  const resolve = (candidates: Array<[string, unknown]>, headers: Record<string, string>) => {
    const notes: string[] = [];
    return { tenant: resolveTenant(raw(headers), candidates, 'test', notes), notes };
  };
  const all = { 'x-routing-tenant': 'header-co', 'x-routing-token-tenant': 'token-co', 'x-routing-default-tenant': 'default-co' };

  it('takes the event, then x-routing-tenant, then the token tenant, then the default, each with a note but the first', () => {
    expect(resolve([['team_id', 'event-co']], all)).toEqual({ tenant: 'event-co', notes: [] });
    expect(resolve([['team_id', undefined]], all).tenant).toBe('header-co');
    const { 'x-routing-tenant': _h, ...noHeader } = all;
    expect(resolve([], noHeader)).toEqual({ tenant: 'token-co', notes: ['tenant_id from the ingest token, whose only tenant it is'] });
    const { 'x-routing-token-tenant': _t, ...onlyDefault } = noHeader;
    expect(resolve([], onlyDefault).notes[0]).toContain('DEFAULT_TENANT "default-co"');
  });

  it('is NO_TENANT when nothing names one, and never takes an e-mail address', () => {
    expect(() => resolve([], {})).toThrow(expect.objectContaining({ code: 'NO_TENANT' }) as Error);
    expect(() => resolve([['user', 'someone@example.com']], { 'x-routing-token-tenant': 'x@example.com' })).toThrow(expect.objectContaining({ code: 'NO_TENANT' }) as Error);
  });
});
