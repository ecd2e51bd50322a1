import { decimalFromNumber, normalizeDecimal, shiftDecimal } from './decimal.js';

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
