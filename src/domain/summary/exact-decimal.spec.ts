import fc from 'fast-check';
import { addDecimals, normalizeDecimal, subtractDecimals, sumDecimalTexts } from './exact-decimal.js';

/** Decimals of the record's grammar: -?digits(.digits)?, at most 18 + 18 digits. */
const decimal = fc
  .tuple(fc.boolean(), fc.stringMatching(/^\d{1,18}$/), fc.option(fc.stringMatching(/^\d{1,18}$/)))
  .map(([negative, int, frac]) => `${negative ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}`);

/** An independent reading: the value × 10^18 as a BigInt, from the text alone. */
function scaled(d: string): bigint {
  const [int, frac = ''] = d.replace('-', '').split('.');
  const v = BigInt(int + frac.padEnd(18, '0'));
  return d.startsWith('-') ? -v : v;
}
const scaleOf = (d: string) => (d.includes('.') ? d.length - d.indexOf('.') - 1 : 0);

describe('exact decimals', () => {
  it('add and subtract exactly, written without trailing zeros', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const sum = addDecimals(a, b);
        expect(scaled(sum)).toBe(scaled(a) + scaled(b));
        expect(scaled(subtractDecimals(a, b))).toBe(scaled(a) - scaled(b));
        expect(sum).toMatch(/^(0|-?[1-9]\d*(\.\d*[1-9])?|-?0\.\d*[1-9])$/);
      }),
    );
  });

  it('sum as PostgreSQL numeric does: the value exact, at the larger scale of the two', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const sum = sumDecimalTexts(a, b);
        expect(scaled(sum)).toBe(scaled(a) + scaled(b));
        expect(scaleOf(sum)).toBe(Math.max(scaleOf(a), scaleOf(b)));
      }),
    );
    expect(sumDecimalTexts('0.0100', '-0.01')).toBe('0.0000');
    expect(sumDecimalTexts('-1.5', '0.25')).toBe('-1.25');
  });

  it('normalizes zero and leading and trailing zeros', () => {
    expect(normalizeDecimal('-0.000')).toBe('0');
    expect(normalizeDecimal('00012.3400')).toBe('12.34');
    expect(normalizeDecimal('100.00')).toBe('100');
    expect(normalizeDecimal('-0.50')).toBe('-0.5');
  });
});
