import { decimalFromNumber } from './decimal.js';
import { num, str } from './json-value.js';

/** Time and durations as gateways send them → RFC 3339 UTC with milliseconds and whole ms. */

const ISO_LIKE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH_TEXT = /^\d{9,11}(?:\.\d+)?$/;

export interface ParsedTime {
  iso: string;
  /** What the input needed: a naive string read as UTC, sub-millisecond digits dropped. */
  notes: string[];
}

/**
 * RFC 3339 UTC with milliseconds from what gateways send:
 *  - epoch seconds as a number or numeric string (LiteLLM `startTime`: `1732550759.123456`);
 *  - ISO 8601 / RFC 3339 with an offset;
 *  - a naive "YYYY-MM-DD HH:MM:SS.ffffff" (Python `str(datetime)` in LiteLLM spend logs), read as
 *    UTC because LiteLLM stamps with `datetime.now()` on proxies that run in UTC — noted.
 * Digits below the millisecond are truncated (the event had not reached the next ms), never
 * rounded up. The epoch conversion works on the decimal text, not `n * 1000`, so no float error
 * moves a timestamp across a millisecond. Undefined when the value is not a valid instant.
 */
export function parseTime(v: unknown, field: string): ParsedTime | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? fromEpochSeconds(decimalFromNumber(v)) : undefined;
  const s = str(v);
  if (s === undefined) return undefined;
  if (EPOCH_TEXT.test(s)) return fromEpochSeconds(s);
  const m = ISO_LIKE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac = '', zone] = m;
  const ms = Number((frac + '000').slice(0, 3));
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +se, ms);
  const check = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +se));
  if (
    check.getUTCFullYear() !== +y ||
    check.getUTCMonth() !== +mo - 1 ||
    check.getUTCDate() !== +d ||
    +h > 23 ||
    +mi > 59 ||
    +se > 59
  )
    return undefined;
  const notes: string[] = [];
  if (zone === undefined) notes.push(`${field} had no time zone; read as UTC`);
  else if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
  }
  if (frac.length > 3 && /[1-9]/.test(frac.slice(3))) notes.push(`${field} truncated to milliseconds`);
  return { iso: new Date(t).toISOString(), notes };
}

function fromEpochSeconds(text: string | undefined): ParsedTime | undefined {
  if (text === undefined || !/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  const [whole, frac = ''] = text.split('.');
  const ms = Number(whole) * 1000 + Number((frac + '000').slice(0, 3));
  if (!Number.isSafeInteger(ms) || ms > 253402300799999) return undefined;
  return { iso: new Date(ms).toISOString(), notes: [] };
}

/** Milliseconds between two RFC 3339 times, or undefined when negative or unknown. */
export function msBetween(startIso: string | undefined, endIso: string | undefined): number | undefined {
  if (!startIso || !endIso) return undefined;
  const d = Date.parse(endIso) - Date.parse(startIso);
  return Number.isSafeInteger(d) && d >= 0 ? d : undefined;
}

/** A duration given in seconds (float) as whole milliseconds, rounded to nearest. */
export function secondsToMs(v: unknown): number | undefined {
  const n = num(v);
  if (n === undefined || n < 0) return undefined;
  const ms = Math.round(n * 1000);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration given in milliseconds (possibly fractional) as whole milliseconds. */
export function toMs(v: unknown): number | undefined {
  const n = num(v);
  if (n === undefined || n < 0) return undefined;
  const ms = Math.round(n);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** HTTP-date ("Fri, 29 Aug 2025 03:48:00 GMT", second precision) as RFC 3339 ms. */
export function parseHttpDate(v: unknown): string | undefined {
  const s = str(v);
  if (!s || !/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
