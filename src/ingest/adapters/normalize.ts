import type { CanonicalRecord, SourceFormat } from '../../domain/record/canonical-record.js';
import { validateRecord } from '../../domain/record/validate-record.js';
import { isEmail, redactText, sha256Hex } from '../../domain/privacy/redact.js';
import { DEFAULT_TENANT_HEADER, DecodeError, ROUTING_HEADERS, type AdaptedRecord, type RawEvent } from './adapter.js';

/**
 * Shared, pure helpers of the gateway adapters: payload parsing, units (time, money, counts),
 * header access and the final validation gate. Each helper returns undefined for input it cannot
 * convert exactly; the adapter decides whether that is a note or a DecodeError.
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

// ---------------------------------------------------------------------------------------------
// Payload parsing

/**
 * The JSON documents in a payload: one JSON value (a top-level array is flattened into its
 * elements) or NDJSON (one JSON value per non-empty line), which is how LiteLLM's generic_api
 * logger (`log_format: ndjson`) and Portkey's JSONL log export ship batches. Never quotes the
 * payload in errors: V8's JSON.parse messages include a snippet of the input, which may be a key.
 */
export function parseDocuments(payload: Buffer, label: string): unknown[] {
  const text = payload.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new DecodeError('EMPTY_PAYLOAD', `${label}: payload is empty`);
  const whole = tryParse(text);
  if (whole.ok) return Array.isArray(whole.value) ? whole.value : [whole.value];
  const lines = text.split(/\r?\n/);
  const docs: unknown[] = [];
  let nonEmpty = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    nonEmpty++;
    const p = tryParse(lines[i]);
    if (!p.ok) {
      throw new DecodeError(
        'INVALID_JSON',
        nonEmpty === 1 && lines.filter((l) => l.trim() !== '').length === 1
          ? `${label}: payload is not valid JSON`
          : `${label}: payload is neither JSON nor NDJSON (line ${i + 1} is not valid JSON)`,
      );
    }
    docs.push(p.value);
  }
  return docs;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

// ---------------------------------------------------------------------------------------------
// Headers

/** Case-insensitive header lookup (Kafka header names keep the producer's case). */
export function header(raw: RawEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(raw.headers)) {
    if (k.toLowerCase() === wanted) return str(v);
  }
  return undefined;
}

/** Case-insensitive lookup in a plain header object (a logged response's headers). */
export function headerIn(headers: unknown, name: string): string | undefined {
  const h = obj(headers);
  if (!h) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) {
    if (k.toLowerCase() === wanted) return Array.isArray(v) ? str(v[0]) : str(v);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Time

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
  if (check.getUTCFullYear() !== +y || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +se > 59) return undefined;
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

// ---------------------------------------------------------------------------------------------
// Numbers and money

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
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : typeof v === 'number' ? v : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

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

/**
 * A cost amount for the record from a gateway number or string, in the gateway's unit scaled by
 * 10^scale (scale -2 for cents). Returns the amount or a note saying why it was left out.
 */
export function costAmount(v: unknown, field: string, scale = 0): { amount?: string; note?: string } {
  if (v === undefined || v === null || v === '') return {};
  const base = typeof v === 'number' ? decimalFromNumber(v) : typeof v === 'string' ? normalizeDecimal(v) : undefined;
  if (base === undefined) return { note: `${field} is not a number; cost left out` };
  const amount = scale === 0 ? base : shiftDecimal(base, scale);
  if (amount === undefined) return { note: `${field} could not be converted; cost left out` };
  if (!fitsRecordDecimal(amount)) {
    return { note: `${field} has more digits than the record's decimal allows (18.18); cost left out rather than rounded` };
  }
  return { amount };
}

// ---------------------------------------------------------------------------------------------
// Providers

/**
 * Provider names as gateways spell them → the record's short names (RECORD.md lists openai,
 * anthropic, azure, bedrock, vertex, ...). Unlisted names are kept, lower-cased; a note records
 * any mapping so the original spelling can be recovered.
 */
const PROVIDER_ALIASES: Record<string, string> = {
  vertex_ai: 'vertex',
  vertex_ai_beta: 'vertex',
  'gcp.vertex_ai': 'vertex',
  'google vertex': 'vertex',
  'gcp.gemini': 'gemini',
  'google ai studio': 'gemini',
  google: 'gemini',
  'aws.bedrock': 'bedrock',
  'amazon bedrock': 'bedrock',
  'azure.ai.openai': 'azure',
  'azure-openai': 'azure',
  azure_openai: 'azure',
  'azure.ai.inference': 'azure_ai',
  'mistral_ai': 'mistral',
  'mistral-ai': 'mistral',
  'x_ai': 'xai',
  'together-ai': 'together',
  'together_ai': 'together',
  'togetherai': 'together',
};

export function normalizeProvider(name: string | undefined, notes: string[]): string | undefined {
  const s = id(name);
  if (!s) return undefined;
  const key = s.toLowerCase();
  const mapped = PROVIDER_ALIASES[key] ?? key.replace(/\s+/g, '-');
  if (mapped !== s) notes.push(`provider "${s}" recorded as "${mapped}"`);
  return mapped;
}

// ---------------------------------------------------------------------------------------------
// Identity: gateway, tenant

export function gatewayId(raw: RawEvent, fromPayload: string | undefined, format: SourceFormat, notes: string[]): string {
  const h = id(header(raw, ROUTING_HEADERS.gatewayId));
  if (h) return h;
  if (fromPayload) return fromPayload;
  notes.push(`gateway.id: no ${ROUTING_HEADERS.gatewayId} header and none in the payload; using "${format}"`);
  return format;
}

/**
 * The tenant, from the first payload candidate that is set, else the x-routing-tenant header,
 * else the ingest token's only tenant, else the ledger's DEFAULT_TENANT, else
 * DecodeError('NO_TENANT'): a record without a tenant cannot be attributed or queried. A note
 * says where the tenant came from whenever it is not the event itself.
 * An e-mail address is never used as a tenant id (it would store personal data in the record).
 */
export function resolveTenant(raw: RawEvent, candidates: Array<[string, unknown]>, label: string, notes: string[]): string {
  for (const [source, value] of candidates) {
    const s = id(value);
    if (!s) continue;
    if (isEmail(s)) {
      notes.push(`tenant candidate ${source} is an e-mail address; not used`);
      continue;
    }
    return s;
  }
  const h = id(header(raw, ROUTING_HEADERS.tenant));
  if (h && !isEmail(h)) {
    notes.push(`tenant_id from the ${ROUTING_HEADERS.tenant} header`);
    return h;
  }
  const token = id(header(raw, ROUTING_HEADERS.tokenTenant));
  if (token && !isEmail(token)) {
    notes.push('tenant_id from the ingest token, whose only tenant it is');
    return token;
  }
  const fallback = id(header(raw, DEFAULT_TENANT_HEADER));
  if (fallback) {
    notes.push(`tenant_id is the ledger's DEFAULT_TENANT "${fallback}": neither the event, the ${ROUTING_HEADERS.tenant} header nor the ingest token named one`);
    return fallback;
  }
  const looked = candidates.map(([s]) => s).join(', ');
  throw new DecodeError('NO_TENANT', `${label}: no tenant in the event (${looked || 'no candidate fields'}), no ${ROUTING_HEADERS.tenant} header, no single-tenant ingest token, and DEFAULT_TENANT is empty`);
}

// ---------------------------------------------------------------------------------------------
// Assembling and validating

/** Safe free text for the record (error classes, tags): secrets masked, bounded. */
export function safeText(v: unknown, max = 256): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const r = redactText(s);
  return r.length <= max ? r : r.slice(0, max);
}

/** Deep copy without undefined members and without objects left empty by that. */
export function compact<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => compact(v)) as T;
  if (!isObjectLike(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const c = compact(v);
    if (isObjectLike(c) && !Array.isArray(c) && Object.keys(c as object).length === 0) continue;
    out[k] = c;
  }
  return out as T;
}

function isObjectLike(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

const MAX_NOTES = 64;
const MAX_NOTE = 2048;

/**
 * The last step of every adapter: drop undefined members, attach the notes (deduplicated,
 * bounded to the schema's 64 × 2048), and run validateRecord. A record the adapter built but the
 * schema rejects is a DecodeError('INVALID_RECORD'), never a silent drop.
 */
/**
 * `opts.alreadyValid`: the caller validated this exact record already (only notes are added
 * here, and notes are bounded to the schema's limits), so the one expensive check — ~180 µs
 * of class-validator per event — is not run twice.
 */
export function finalize(record: CanonicalRecord, notes: string[], label: string, opts: { alreadyValid?: boolean } = {}): AdaptedRecord {
  const unique = [...new Set(notes)].map((n) => (n.length <= MAX_NOTE ? n : n.slice(0, MAX_NOTE)));
  const kept = unique.length <= MAX_NOTES ? unique : [...unique.slice(0, MAX_NOTES - 1), `${unique.length - MAX_NOTES + 1} more notes left out`];
  // The deep copy is only needed when it would change something: an undefined member or an
  // empty object somewhere, or notes other than the record's own. A native record that needed
  // no scrubbing is none of these, and skipping the copy is most of finalize's cost for it.
  const built = needsCompact(record)
    ? compact({ ...record, normalization_notes: kept.length ? kept : undefined })
    : sameNotes(record.normalization_notes, kept) ? record : withNotes(record, kept);
  if (opts.alreadyValid) return { record: built, notes: kept };
  const v = validateRecord(built);
  if (!v.ok) throw new DecodeError('INVALID_RECORD', `${label}: the event maps to an invalid record: ${redactText(v.errors.join('; '))}`);
  return { record: v.record, notes: kept };
}

/**
 * `record` with its notes replaced (none: the member is removed), in place: finalize is the
 * last step of an adapter, on a record that adapter built for this call, and a copy would cost
 * the record the fast object layout later readers (validation, canonicalization) rely on.
 */
function withNotes(record: CanonicalRecord, notes: string[]): CanonicalRecord {
  if (notes.length) record.normalization_notes = notes;
  else delete record.normalization_notes;
  return record;
}

function sameNotes(own: string[] | undefined, kept: string[]): boolean {
  if (kept.length === 0) return own === undefined;
  return own !== undefined && own.length === kept.length && own.every((n, i) => n === kept[i]);
}

/** True when compact(value) would differ from value: an undefined member or an empty object (not array) anywhere. */
function needsCompact(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(needsCompact);
  if (!isObjectLike(value)) return false;
  let members = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || needsCompact(v)) return true;
    members++;
  }
  return members === 0;
}

export function rawSha256(raw: RawEvent): string {
  return sha256Hex(raw.payload);
}
