import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { validateRecord } from '../../domain/record/validate-record.js';
import { endUserHash, redactText } from '../../domain/privacy/redact.js';
import { isObject } from '../../domain/normalize/json-value.js';
import { DecodeError, type AdaptedRecord, type Adapter, type RawEvent } from './adapter.js';
import { finalize } from './finalize.js';
import { documentAdapter, documentObject } from './payload.js';

/**
 * Canonical v1 records sent as-is by senders that already speak our format (one JSON object, a
 * JSON array, or NDJSON). The sender's record is trusted for content but not for provenance:
 * `source.format`, `source.adapter_version` and `source.raw_sha256` are the ledger's to set —
 * raw_sha256 is always the SHA-256 of the payload bytes as received, whatever the sender wrote,
 * so the hash can be re-checked against the stored original.
 */
export const nativeAdapter: Adapter = documentAdapter('native', 'native/1', adaptOne);

function adaptOne(_raw: RawEvent, json: unknown, where: string, sha: string): AdaptedRecord {
  const doc = documentObject(json, where, 'a canonical record');
  if (doc.schema_version !== '1') {
    throw new DecodeError(
      'UNSUPPORTED_SCHEMA_VERSION',
      `${where}: schema_version must be "1" (native/1 reads canonical v1 only)`,
    );
  }
  const notes: string[] = [];
  const source = isObject(doc.source) ? doc.source : {};
  if (source.format !== undefined && source.format !== 'native')
    notes.push('source.format from the sender replaced by "native"');
  if (source.raw_sha256 !== undefined && source.raw_sha256 !== sha)
    notes.push('source.raw_sha256 from the sender replaced by the SHA-256 of the received bytes');
  // topic/partition/offset are ledger-assigned at ingest; a sender's values are not kept.
  const { topic: _t, partition: _p, offset: _o, ...senderSource } = source;
  // In place: doc is this call's own parse result, and an object JSON.parse built keeps the
  // engine's fast layout, which a spread copy of ~30 members loses (validation reads it ~1.5×
  // slower). Only `source` is replaced.
  const record = doc;
  record.source = { ...senderSource, format: 'native', adapter_version: nativeAdapter.version, raw_sha256: sha };
  const v = validateRecord(record);
  if (!v.ok)
    throw new DecodeError(
      'INVALID_RECORD',
      `${where}: not a valid canonical v1 record: ${redactText(v.errors.join('; '))}`,
    );
  const scrubbed = scrub(v.record, notes);
  // Validated just above; only a scrub that changed something needs the check again.
  return finalize(scrubbed.record, [...(scrubbed.record.normalization_notes ?? []), ...notes], where, {
    alreadyValid: !scrubbed.changed,
  });
}

/**
 * Principle 4 holds for native senders too: the schema already keeps prompts out (content is
 * hashes only), but free-text members could still carry a pasted key or an e-mail, and a sender
 * may put a raw e-mail in end_user_hash. Those are masked/hashed here, with a note.
 */
function scrub(r: CanonicalRecord, notes: string[]): { record: CanonicalRecord; changed: boolean } {
  // Most records carry nothing to mask: copy only the members that change, so the common case
  // allocates nothing (the ledger's hot path runs this for every native event).
  let changed = false;
  const clean = (s: string | undefined): string | undefined => {
    if (s === undefined) return s;
    const c = redactText(s);
    if (c !== s) changed = true;
    return c;
  };
  const cleanList = (list: string[] | undefined): string[] | undefined => {
    if (list === undefined) return list;
    const before = changed;
    changed = false;
    const out = list.map((t) => clean(t) as string);
    const listChanged = changed;
    changed = before || listChanged;
    return listChanged ? out : list;
  };
  const out: CanonicalRecord = { ...r };
  const path = clean(r.endpoint?.path);
  if (r.endpoint && path !== r.endpoint.path) out.endpoint = { ...r.endpoint, path };
  const reason = clean(r.routing?.reason);
  if (r.routing && reason !== r.routing.reason) out.routing = { ...r.routing, reason };
  const errorClass = clean(r.outcome.error_class);
  if (errorClass !== r.outcome.error_class) out.outcome = { ...r.outcome, error_class: errorClass };
  if (r.policy_checks?.some((p) => p.detail !== undefined && redactText(p.detail) !== p.detail)) {
    out.policy_checks = r.policy_checks.map((p) => (p.detail === undefined ? p : { ...p, detail: clean(p.detail) }));
  }
  const tags = cleanList(r.task?.tags);
  if (r.task && tags !== r.task.tags) out.task = { ...r.task, tags };
  const normalizationNotes = cleanList(r.normalization_notes);
  if (normalizationNotes !== r.normalization_notes) out.normalization_notes = normalizationNotes;
  if (changed) notes.push('credential- or e-mail-like text in free-text fields masked');
  if (r.end_user_hash !== undefined && !/^[0-9a-f]{64}$/.test(r.end_user_hash)) {
    out.end_user_hash = endUserHash(r.end_user_hash);
    notes.push('end_user_hash was not a SHA-256; hashed by the ledger');
    changed = true;
  }
  return { record: changed ? out : r, changed };
}
