/**
 * Exact decimal text for the record's money amounts: every conversion works on the digit string,
 * never on float arithmetic, so no rounding moves an amount.
 */

const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** The record's decimal grammar (canonical-record.schema.ts): at most 18 + 18 digits. */
const RECORD_DECIMAL = /^-?\d{1,18}(\.\d{1,18})?$/;

/**
 * The shortest decimal text that round-trips to `n`, without an exponent: JavaScript's
 * `String(n)` already yields the shortest round-trip digits ("0.004215", "1.5e-7", "1e+21"), so the
 * digits are taken from it and only the exponent is expanded ("0.00000015"). No arithmetic on the
 * float, hence no rounding. Undefined for NaN and ±Infinity.
 */
export function decimalFromNumber(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  return normalizeDecimal(String(n));
}

/**
 * A decimal string in plain notation, normalised (no exponent, no leading zeros in the integer
 * part, no trailing zeros in the fraction, "-0" → "0"). Accepts numbers as text in any notation
 * JSON allows. Undefined for anything else.
 */
export function normalizeDecimal(text: string): string | undefined {
  const m = DECIMAL_TEXT.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return undefined;
  const [, sign = '', intPart = '', fracPart = '', expText = '0'] = m;
  return shiftDigits(sign === '-', intPart, fracPart, Number(expText));
}

/**
 * `dec × 10^places` computed on the digit string (exact for any size): Portkey reports cost in
 * cents, so dollars are `shiftDecimal(cents, -2)`.
 */
export function shiftDecimal(dec: string, places: number): string | undefined {
  const norm = normalizeDecimal(dec);
  if (norm === undefined) return undefined;
  const neg = norm.startsWith('-');
  const [i, f = ''] = (neg ? norm.slice(1) : norm).split('.');
  return shiftDigits(neg, i, f, places);
}

function shiftDigits(negative: boolean, intPart: string, fracPart: string, exp: number): string | undefined {
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) return undefined;
  let digits = intPart + fracPart;
  let point = intPart.length + exp;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits + '0'.repeat(point - digits.length);
  const i = digits.slice(0, point).replace(/^0+/, '') || '0';
  const f = digits.slice(point).replace(/0+$/, '');
  const out = f ? `${i}.${f}` : i;
  return negative && out !== '0' ? `-${out}` : out;
}

/** Whether a decimal fits the record's grammar (at most 18 integer and 18 fractional digits). */
export function fitsRecordDecimal(dec: string): boolean {
  return RECORD_DECIMAL.test(dec);
}
