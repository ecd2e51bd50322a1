/**
 * Readers of JSON values as gateways send them: each returns the value in the shape the record
 * wants, or undefined for input it cannot convert exactly; the caller decides whether that is a
 * note or an error.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

/** A non-empty trimmed string, or undefined. Numbers are accepted as their decimal text (ids). */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? undefined : t;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

/** A string bounded to the record's identifier length (256), else undefined. */
export function id(v: unknown): string | undefined {
  const s = str(v);
  return s !== undefined && s.length <= 256 ? s : undefined;
}

/** A finite number from a number or a plain numeric string. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-negative safe integer (token counts, retries) from a number or integer text. */
export function count(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : typeof v === 'number' ? v : undefined;
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A signed integer from a number or integer text ("-1" is Portkey's "retries exhausted"). */
export function int(v: unknown): number | undefined {
  const n =
    typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : typeof v === 'number' ? v : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The JSON value of `text`, or undefined when it is not JSON (JSON.parse never yields undefined,
 * so undefined means only that). Gateways nest JSON in strings: LiteLLM spend-log metadata,
 * Portkey's x-portkey-config header, OTel message attributes.
 */
export function parseJsonText(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** The JSON object `v` is, or holds as JSON text (gateways log bodies and metadata either way). */
export function jsonObjectOf(v: unknown): JsonObject | undefined {
  return obj(typeof v === 'string' ? parseJsonText(v) : v);
}
