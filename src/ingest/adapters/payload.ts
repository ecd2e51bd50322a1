import { sha256Hex } from '../../domain/privacy/redact.js';
import type { CanonicalRecord, SourceFormat } from '../../domain/record/canonical-record.js';
import { isObject, parseJsonText, type JsonObject } from '../../domain/normalize/json-value.js';
import { DecodeError, type AdaptedRecord, type Adapter, type RawEvent } from './adapter.js';

/**
 * The payload side of every adapter: the JSON documents a payload holds, the hash of its bytes
 * (source.raw_sha256), and the loop that maps each document to what the adapter makes of it.
 */

/**
 * The JSON documents in a payload: one JSON value (a top-level array is flattened into its
 * elements) or NDJSON (one JSON value per non-empty line), which is how LiteLLM's generic_api
 * logger (`log_format: ndjson`) and Portkey's JSONL log export ship batches. Never quotes the
 * payload in errors: V8's JSON.parse messages include a snippet of the input, which may be a key.
 */
export function parseDocuments(payload: Buffer, label: string): unknown[] {
  const ahead = parsedAhead.get(payload);
  if (ahead) parsedAhead.delete(payload);
  const { text, whole } = ahead ?? parsePayload(payload);
  if (text.trim() === '') throw new DecodeError('EMPTY_PAYLOAD', `${label}: payload is empty`);
  if (whole !== undefined) return Array.isArray(whole) ? whole : [whole];
  const lines = text.split(/\r?\n/);
  const docs: unknown[] = [];
  let nonEmpty = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    nonEmpty++;
    const doc = parseJsonText(lines[i]);
    if (doc === undefined) {
      throw new DecodeError(
        'INVALID_JSON',
        nonEmpty === 1 && lines.filter((l) => l.trim() !== '').length === 1
          ? `${label}: payload is not valid JSON`
          : `${label}: payload is neither JSON nor NDJSON (line ${i + 1} is not valid JSON)`,
      );
    }
    docs.push(doc);
  }
  return docs;
}

/** A payload's text (without a leading BOM) and its parse as one JSON value (undefined: it is not one). */
export interface ParsedPayload {
  text: string;
  whole: unknown;
}

function parsePayload(payload: Buffer, utf8 = payload.toString('utf8')): ParsedPayload {
  const text = utf8.replace(/^\uFEFF/, '');
  return { text, whole: parseJsonText(text) };
}

/**
 * Parses that happened before the adapter ran (decodeMessage parses a JSON payload to check it
 * for repeated member names), taken by parseDocuments instead of parsing again. Taken once:
 * adapters build records in place from what they take. Keyed by the payload Buffer itself, so
 * a parse whose adapter never ran goes with its payload.
 */
const parsedAhead = new WeakMap<Buffer, ParsedPayload>();

/** Parses `payload` (whose UTF-8 text is `utf8`) for its adapter to take; the parse is returned too. */
export function parsePayloadAhead(payload: Buffer, utf8: string): ParsedPayload {
  const parsed = parsePayload(payload, utf8);
  if (parsed.whole !== undefined) parsedAhead.set(payload, parsed);
  return parsed;
}

export function rawSha256(raw: RawEvent): string {
  return sha256Hex(raw.payload);
}

/**
 * What an adapter makes of one document of the payload. `where` names the document in errors
 * and notes (the label, or "<label>: event <i>" in a batch); `sha` is the payload's raw_sha256.
 */
export type DocumentMapping<T> = (raw: RawEvent, doc: unknown, where: string, sha: string) => T;

/**
 * The body of every adapter's adapt(): parse the payload, hash it once, map each document in
 * order. The first document that fails throws, as the mapping's DecodeError.
 */
export function adaptDocuments<T>(raw: RawEvent, label: string, mapDocument: DocumentMapping<T>): T[] {
  const docs = parseDocuments(raw.payload, label);
  const sha = rawSha256(raw);
  return docs.map((doc, i) => mapDocument(raw, doc, docs.length > 1 ? `${label}: event ${i}` : label, sha));
}

/** An adapter that makes one record of each document of the payload, `format` naming it in errors. */
export function documentAdapter(
  format: SourceFormat,
  version: string,
  mapDocument: DocumentMapping<AdaptedRecord>,
): Adapter {
  return { format, version, adapt: (raw) => adaptDocuments(raw, format, mapDocument) };
}

/** A document that must be a JSON object (an event, a record): DecodeError('NOT_AN_OBJECT') naming `what` if not. */
export function documentObject(doc: unknown, where: string, what: string): JsonObject {
  if (!isObject(doc)) throw new DecodeError('NOT_AN_OBJECT', `${where}: ${what} must be a JSON object`);
  return doc;
}

/** source: the adapter that read the payload and the payload's hash, the ledger's to set. */
export function recordSource(adapter: Adapter, sha: string): CanonicalRecord['source'] {
  return { format: adapter.format, adapter_version: adapter.version, raw_sha256: sha };
}
