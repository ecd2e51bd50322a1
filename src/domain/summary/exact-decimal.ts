/**
 * Exact decimals for the summaries' money sums (the record's grammar: -?digits(.digits)?, at most
 * 18 integer and 18 fractional digits): the digits as a BigInt with their scale, so that no float
 * ever touches a cost. Sums are written two ways: as PostgreSQL prints a numeric (the largest
 * scale of the terms kept, digit for digit: what a stored sum reads back as) and normalized
 * (trailing fractional zeros dropped: what answers show).
 */

/** value = v × 10^-scale */
export interface Decimal {
  v: bigint;
  scale: number;
}

export function parseDecimal(d: string): Decimal {
  const dot = d.indexOf('.');
  if (dot === -1) return { v: BigInt(d), scale: 0 };
  return { v: BigInt(d.slice(0, dot) + d.slice(dot + 1)), scale: d.length - dot - 1 };
}

/** 10^0 … 10^36 (the grammar's 18 + 18 digits), so that rescaling never computes a power per call. */
const POW10 = Array.from({ length: 37 }, (_, i) => 10n ** BigInt(i));

/** `d`'s digits at a scale at least its own. */
export function atScale(d: Decimal, scale: number): bigint {
  const shift = scale - d.scale;
  return shift === 0 ? d.v : d.v * (POW10[shift] ?? 10n ** BigInt(shift));
}

/** a + b at the larger of their scales, as numeric addition keeps it. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { v: atScale(a, scale) + atScale(b, scale), scale };
}

/** As PostgreSQL prints a numeric of that scale ("0.0100", "-3", "12.50"). */
export function numericText(d: Decimal): string {
  const negative = d.v < 0n;
  const digits = (negative ? -d.v : d.v).toString().padStart(d.scale + 1, '0');
  const int = digits.slice(0, digits.length - d.scale);
  const text = d.scale === 0 ? int : `${int}.${digits.slice(digits.length - d.scale)}`;
  return negative ? `-${text}` : text;
}

/** Without trailing fractional zeros, "0" for zero ("0.01", "-3", "12.5"). */
export function normalizedText(d: Decimal): string {
  if (d.v === 0n) return '0';
  const text = numericText(d);
  return d.scale === 0 ? text : text.replace(/\.?0+$/, '');
}

/** Exact sum of decimal texts, at the larger scale of the two (numeric addition). */
export function sumDecimalTexts(a: string, b: string): string {
  return numericText(addDecimal(parseDecimal(a), parseDecimal(b)));
}

export function addDecimals(a: string, b: string): string {
  return normalizedText(addDecimal(parseDecimal(a), parseDecimal(b)));
}

export function subtractDecimals(a: string, b: string): string {
  const n = parseDecimal(b);
  return normalizedText(addDecimal(parseDecimal(a), { v: -n.v, scale: n.scale }));
}

/** d × k for a count k, exact. */
export function multiplyDecimal(d: string, k: number): string {
  const p = parseDecimal(d);
  return normalizedText({ v: p.v * BigInt(k), scale: p.scale });
}

export function normalizeDecimal(d: string): string {
  return normalizedText(parseDecimal(d));
}

/** a ÷ n rounded half away from zero to `places` digits (exact, as text); null for n = 0. */
export function divideDecimal(a: string, n: number, places = 8): string | null {
  if (n === 0) return null;
  const p = parseDecimal(a);
  const scaled = p.v * 10n ** BigInt(places);
  const den = BigInt(n) * 10n ** BigInt(p.scale);
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  let q = abs / den;
  if ((abs % den) * 2n >= den) q++;
  const unit = 10n ** BigInt(places);
  const text = `${q / unit}.${(q % unit).toString().padStart(places, '0')}`;
  return negative && q !== 0n ? `-${text}` : text;
}
