import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { CanonicalRecord } from './canonical-record.js';
import { CanonicalRecordSchema, roundTrips } from './canonical-record.schema.js';
import { validate as compiledRecordSchema } from './record-validator.generated.js';

export type RecordValidation = { ok: true; record: CanonicalRecord } | { ok: false; errors: string[] };

const MAX_DEPTH = 8;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Validates an untrusted value as a canonical v1 record. On success the returned record is
 * the input object itself (plain JSON, unknown members rejected), ready to canonicalize.
 * Errors read "path: what is wrong", e.g. "occurred_at: must be an RFC 3339 UTC timestamp...".
 *
 * Two validators, one verdict: class-validator's (validateRecordWithClassValidator). The hot
 * path asks first the compiled check (compiledRecordCheck: a shape walk plus the validator
 * Ajv compiled from the record's JSON Schema, record-validator.generated.ts): no reflection,
 * no instance building, a few microseconds. It is sound (what it accepts, class-validator
 * accepts: a spec proves it on generated and mutated records), so its yes is final; its no
 * hands the record to class-validator, which decides and writes the reason a person reads in
 * quarantine, as it always has. The two differ only where the JSON Schema is stricter: string
 * lengths are counted in UTF-16 units, where class-validator counts a surrogate pair as one
 * character and ignores variation selectors, so a near-limit string of emoji takes the slow path.
 */
export function validateRecord(value: unknown): RecordValidation {
  if (compiledRecordCheck(value)) return { ok: true, record: value as CanonicalRecord };
  return validateRecordWithClassValidator(value);
}

/** The compiled check alone: true only for records class-validator accepts too. */
export function compiledRecordCheck(value: unknown): boolean {
  return isJsonShaped(value) && compiledRecordSchema(value) && timestampsRoundTrip(value as CanonicalRecord);
}

/** The class-validator gate, with its reason texts: the oracle of validateRecord. */
export function validateRecordWithClassValidator(value: unknown): RecordValidation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: ['record: must be a JSON object'] };
  }
  const shapeErrors = jsonShapeErrors(value, '', 0);
  if (shapeErrors.length > 0) return { ok: false, errors: shapeErrors.slice(0, 10) };
  const instance = plainToInstance(CanonicalRecordSchema, value);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) return { ok: false, errors: flatten(errors, '').slice(0, 10) };
  return { ok: true, record: value as CanonicalRecord };
}

/** jsonShapeErrors(value) is empty, for a root object; no paths built, no arrays allocated. */
function isJsonShaped(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && shapeOk(value, 0);
}

function shapeOk(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || value === null) return false;
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() && !value.includes('\u0000');
    case 'number':
      return Number.isSafeInteger(value);
    case 'boolean':
      return true;
    case 'object':
      if (Array.isArray(value)) {
        // Holes are skipped, as jsonShapeErrors' forEach skips them.
        for (let i = 0; i < value.length; i++) if (i in value && !shapeOk(value[i], depth + 1)) return false;
        return true;
      }
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!key.isWellFormed() || key.includes('\u0000') || RESERVED_KEYS.has(key)) return false;
        if (!shapeOk((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    default:
      return false;
  }
}

/** The part of IsTimestamp no JSON Schema can say: the text names a real instant. */
function timestampsRoundTrip(r: CanonicalRecord): boolean {
  if (!roundTrips(r.occurred_at) || (r.received_at !== undefined && !roundTrips(r.received_at))) return false;
  for (const attempt of r.attempts?.items ?? []) {
    if (attempt.started_at !== undefined && !roundTrips(attempt.started_at)) return false;
  }
  return true;
}

/**
 * What class-validator cannot see: nulls (absent fields are absent), floats and
 * non-finite numbers (canonical bytes stay integer-only), lone surrogates (RFC 8785
 * rejects them) and excessive nesting.
 */
function jsonShapeErrors(value: unknown, path: string, depth: number): string[] {
  const at = path || 'record';
  if (depth > MAX_DEPTH) return [`${at}: nested too deeply (more than ${MAX_DEPTH} levels)`];
  if (value === null) return [`${at}: must be absent rather than null`];
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) return [`${at}: contains a lone UTF-16 surrogate`];
      // PostgreSQL text and jsonb cannot hold U+0000.
      return value.includes('\u0000') ? [`${at}: contains a NUL character`] : [];
    case 'number':
      return Number.isSafeInteger(value) ? [] : [`${at}: numbers must be safe integers (use a decimal string)`];
    case 'boolean':
      return [];
    case 'object': {
      const out: string[] = [];
      if (Array.isArray(value)) {
        value.forEach((v, i) => out.push(...jsonShapeErrors(v, `${path}[${i}]`, depth + 1)));
      } else {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (!k.isWellFormed() || k.includes('\u0000')) out.push(`${at}: a key contains a lone surrogate or NUL`);
          // Object machinery, never data: class-validator's whitelist would not see them.
          if (RESERVED_KEYS.has(k)) out.push(`${path ? `${path}.${k}` : k}: reserved name, not allowed as a member`);
          out.push(...jsonShapeErrors(v, path ? `${path}.${k}` : k, depth + 1));
        }
      }
      return out;
    }
    default:
      return [`${at}: unsupported value`];
  }
}

function flatten(errors: ValidationError[], prefix: string): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path =
      Array.isArray(e.target) || /^\d+$/.test(e.property)
        ? `${prefix}[${e.property}]`
        : prefix
          ? `${prefix}.${e.property}`
          : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push(`${path}: ${message.replace(new RegExp(`^${escape(e.property)} `), '')}`);
    }
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
