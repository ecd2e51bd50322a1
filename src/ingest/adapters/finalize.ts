import { redactText } from '../../domain/privacy/redact.js';
import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { validateRecord } from '../../domain/record/validate-record.js';
import { DecodeError, type AdaptedRecord } from './adapter.js';

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
 *
 * `opts.alreadyValid`: the caller validated this exact record already (only notes are added
 * here, and notes are bounded to the schema's limits), so the one expensive check — ~180 µs
 * of class-validator per event — is not run twice.
 */
export function finalize(
  record: CanonicalRecord,
  notes: string[],
  label: string,
  opts: { alreadyValid?: boolean } = {},
): AdaptedRecord {
  const unique = [...new Set(notes)].map((n) => (n.length <= MAX_NOTE ? n : n.slice(0, MAX_NOTE)));
  const kept =
    unique.length <= MAX_NOTES
      ? unique
      : [...unique.slice(0, MAX_NOTES - 1), `${unique.length - MAX_NOTES + 1} more notes left out`];
  // The deep copy is only needed when it would change something: an undefined member or an
  // empty object somewhere, or notes other than the record's own. A native record that needed
  // no scrubbing is none of these, and skipping the copy is most of finalize's cost for it.
  const built = needsCompact(record)
    ? compact({ ...record, normalization_notes: kept.length ? kept : undefined })
    : sameNotes(record.normalization_notes, kept)
      ? record
      : withNotes(record, kept);
  if (opts.alreadyValid) return { record: built, notes: kept };
  const v = validateRecord(built);
  if (!v.ok)
    throw new DecodeError(
      'INVALID_RECORD',
      `${label}: the event maps to an invalid record: ${redactText(v.errors.join('; '))}`,
    );
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
