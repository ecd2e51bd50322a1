/**
 * The ledger entry: what one Merkle leaf commits to.
 *
 * A leaf is not the bare record but the record wrapped with its place in the log: the shard,
 * the leaf index, and a per-tenant chain (tenant_seq, tenant_prev). Committing to the index
 * means a leaf cannot be replayed at another position; the tenant chain lets a tenant's export
 * prove that no record of that tenant was left out between two exported ones (docs/ledger-format.md
 * §10, "Tenant chains and complete exports"). Leaf bytes = RFC 8785 canonical JSON of the entry.
 */
import { createHash } from 'node:crypto';
import { canonicalBytes, canonicalCopy, canonicalJson, sortMemberNames } from '../canonical/canonical-json.js';
import { leafHash, sha256 } from '../merkle/hasher.js';
import { LEDGER_ASSIGNED_SOURCE_FIELDS } from '../record/canonical-record.js';
import { tenantChainLinkBreak, type TenantChainFault } from './tenant-chain.js';
import { AppError } from '../../common/app-error.js';

export const LEDGER_ENTRY_VERSION = 1;

export interface LedgerEntry {
  v: typeof LEDGER_ENTRY_VERSION;
  shard: number;
  /** Leaf index of this entry in the shard's log. */
  index: number;
  tenant_id: string;
  /** How many entries of this tenant precede this one in this shard (0 for the first). */
  tenant_seq: number;
  /** Lowercase hex leaf hash of the previous entry of this tenant in this shard; null when tenant_seq = 0. */
  tenant_prev: string | null;
  record: object;
}

export type LedgerEntryErrorCode =
  | 'NOT_AN_OBJECT'
  | 'UNKNOWN_FIELD'
  | 'BAD_VERSION'
  | 'BAD_POSITION'
  | 'BAD_TENANT'
  | 'BAD_TENANT_SEQ'
  | 'BAD_TENANT_PREV'
  | 'BAD_RECORD'
  | 'TENANT_MISMATCH';

export class LedgerEntryError extends AppError {
  override readonly name = 'LedgerEntryError';

  constructor(
    readonly code: LedgerEntryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const ENTRY_FIELDS = ['v', 'shard', 'index', 'tenant_id', 'tenant_seq', 'tenant_prev', 'record'] as const;
const LOWER_HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Record fields the ledger assigns at ingest, excluded from the content hash. */
export const CONTENT_HASH_EXCLUDED_FIELDS = [
  'received_at',
  ...LEDGER_ASSIGNED_SOURCE_FIELDS.map((f) => `source.${f}`),
] as const;

/**
 * The leaf input bytes of `entry`: its RFC 8785 canonical JSON.
 *
 * Preconditions, checked before serializing: exactly the seven LedgerEntry fields; v = 1;
 * shard, index, tenant_seq non-negative safe integers; tenant_id a non-empty string; tenant_prev
 * null iff tenant_seq = 0, else 64 lowercase hex digits; record a plain JSON object whose
 * `tenant_id`, when present, equals the entry's (the chain is the record's tenant's chain).
 * Throws LedgerEntryError, or CanonicalizationError for a record that has no canonical form.
 */
export function ledgerEntryBytes(entry: LedgerEntry): Buffer {
  assertLedgerEntry(entry);
  return canonicalBytes(entry);
}

/** SHA-256(0x00 || ledgerEntryBytes(entry)): the entry's Merkle leaf hash. */
export function ledgerEntryLeafHash(entry: LedgerEntry): Buffer {
  return leafHash(ledgerEntryBytes(entry));
}

/**
 * SHA-256 of the canonical JSON of `record` without the fields the ledger assigns at ingest
 * (`received_at`, `source.topic`, `source.partition`, `source.offset`, `source.raw_sha256`).
 *
 * Two deliveries of the same event (same event_id) with the same content hash are one event
 * re-delivered, e.g. after a consumer restart; with different content hashes they conflict.
 * Not part of any leaf: it is a deduplication key, not a commitment.
 */
export function contentHash(record: object): Buffer {
  assertPlainObject(record, 'BAD_RECORD', 'record');
  return createHash('sha256')
    .update(canonicalBytes(withoutLedgerAssignedFields(record)))
    .digest();
}

/**
 * A record canonicalized once for everything the append needs: its RFC 8785 bytes (what the
 * leaf embeds and what is stored) and its content hash. `json` equals canonicalJson(record)
 * and `contentSha256` equals contentHash(record); the spec checks both against the
 * `canonicalize` package on generated records.
 */
export interface CanonicalRecordForm {
  json: string;
  contentSha256: Buffer;
}

/**
 * canonicalJson(record) and contentHash(record) from ONE canonicalization of the record's
 * members: JCS is compositional, so an object's canonical form is its sorted members'
 * canonical forms joined, and the content form differs only in the top-level members the
 * ledger assigns (received_at left out, source without topic/partition/offset/raw_sha256).
 * Throws what canonicalJson(record) throws, with the same path.
 */
export function canonicalRecordForm(record: object): CanonicalRecordForm {
  assertPlainObject(record, 'BAD_RECORD', 'record');
  const parts = sortedParts(record as Record<string, unknown>);
  let json: string;
  let content: string;
  if (parts !== undefined) {
    json = joinObject([parts.before, parts.receivedAt, parts.between, parts.source, parts.after]);
    content = joinObject([parts.before, parts.between, parts.contentSource, parts.after]);
  } else {
    try {
      ({ json, content } = joinMembers(record as Record<string, unknown>));
    } catch (error) {
      // Re-run the whole walk so the error names its path from the record's root.
      canonicalJson(record);
      throw error;
    }
  }
  return { json, contentSha256: sha256(content) };
}

/**
 * The record's canonical members as JSON text in three runs around the two members the two
 * forms treat differently (received_at, source), each run written by one JSON.stringify of a
 * key-sorted copy; undefined when a member is outside canonicalCopy's fast path.
 */
function sortedParts(
  record: Record<string, unknown>,
):
  | { before: string; receivedAt: string; between: string; source: string; contentSource: string; after: string }
  | undefined {
  const prototype: unknown = Object.getPrototypeOf(record);
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) return undefined;
  const runs: Array<Record<string, unknown>> = [{}, {}, {}];
  let receivedAt = '';
  let source = '';
  let contentSource = '';
  for (const key of sortMemberNames(Object.keys(record))) {
    const value = record[key];
    if (value === undefined) continue;
    if (key === '__proto__' || (key.charCodeAt(0) >= 0x30 && key.charCodeAt(0) <= 0x39)) return undefined;
    const copy = canonicalCopy(value);
    if (copy === undefined || canonicalCopy(key) === undefined) return undefined;
    if (key === 'received_at') {
      receivedAt = `"received_at":${JSON.stringify(copy)}`;
    } else if (key === 'source') {
      source = `"source":${JSON.stringify(copy)}`;
      contentSource = isPlainObjectValue(copy) ? `"source":${JSON.stringify(withoutAssignedSource(copy))}` : source;
    } else {
      // Keys arrive sorted, so each run is filled in canonical order.
      runs[key < 'received_at' ? 0 : key < 'source' ? 1 : 2][key] = copy;
    }
  }
  const inner = (o: Record<string, unknown>) => JSON.stringify(o).slice(1, -1);
  return { before: inner(runs[0]), receivedAt, between: inner(runs[1]), source, contentSource, after: inner(runs[2]) };
}

function joinObject(parts: string[]): string {
  let out = '{';
  for (const part of parts) {
    if (part === '') continue;
    out += (out.length === 1 ? '' : ',') + part;
  }
  return `${out}}`;
}

function joinMembers(record: Record<string, unknown>): { json: string; content: string } {
  const prototype: unknown = Object.getPrototypeOf(record);
  // Not a plain object: let the whole walk reject it with its reason.
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) canonicalJson(record);
  let json = '{';
  let content = '{';
  for (const key of sortMemberNames(Object.keys(record))) {
    const value = record[key];
    if (value === undefined) continue;
    const name = `${canonicalJson(key)}:`;
    const member = name + canonicalJson(value);
    json += (json.length === 1 ? '' : ',') + member;
    if (key === 'received_at') continue;
    const kept =
      key === 'source' && isPlainObjectValue(value) ? name + canonicalJson(withoutAssignedSource(value)) : member;
    content += (content.length === 1 ? '' : ',') + kept;
  }
  return { json: `${json}}`, content: `${content}}` };
}

/**
 * ledgerEntryBytes(entry), given `recordJson` = canonicalJson(entry.record) computed before
 * (canonicalRecordForm): the entry's members sort as index, record, shard, tenant_id,
 * tenant_prev, tenant_seq, v, so the record's bytes are spliced in, not recomputed.
 * Same preconditions as ledgerEntryBytes; the caller guarantees recordJson matches entry.record.
 */
export function ledgerEntryBytesWithRecordJson(entry: LedgerEntry, recordJson: string): Buffer {
  assertLedgerEntry(entry);
  return Buffer.from(entryText(entry, recordJson), 'utf8');
}

/** An entry without its record: where the record sits in the shard and in its tenant's chain. */
export type EntryPosition = Pick<LedgerEntry, 'shard' | 'index' | 'tenant_id' | 'tenant_seq' | 'tenant_prev'>;

/**
 * ledgerEntryLeafHash of the entry at `position` whose record's canonical text is `recordJson`
 * (the append's hot path, which holds the text and not the record). The position is checked as
 * ledgerEntryBytes checks it; the caller guarantees recordJson is a canonical record of
 * position.tenant_id. The leaf prefix travels in the hashed text (U+0000 is the byte 0x00 in
 * UTF-8), so the entry's bytes are never copied into a buffer of their own.
 */
export function ledgerEntryLeafHashWithRecordJson(position: EntryPosition, recordJson: string): Buffer {
  if (typeof position.tenant_id !== 'string' || position.tenant_id === '') {
    throw new LedgerEntryError('BAD_TENANT', 'tenant_id must be a non-empty string');
  }
  assertCount(position.shard, 'BAD_POSITION', 'shard');
  assertCount(position.index, 'BAD_POSITION', 'index');
  assertCount(position.tenant_seq, 'BAD_TENANT_SEQ', 'tenant_seq');
  assertTenantPrev(position);
  return sha256('\u0000' + entryText(position, recordJson));
}

/**
 * The text of ledgerEntryBytes for the entry at `position` whose record's canonical text is
 * `recordJson` (an export holds the stored text, not the record). The position is checked as
 * ledgerEntryBytes checks it; the caller guarantees recordJson is a canonical record of
 * position.tenant_id (an export checks the result against the stored leaf hash).
 */
export function ledgerEntryTextWithRecordJson(position: EntryPosition, recordJson: string): string {
  assertPosition(position);
  return entryText(position, recordJson);
}

function assertPosition(position: EntryPosition): void {
  if (typeof position.tenant_id !== 'string' || position.tenant_id === '') {
    throw new LedgerEntryError('BAD_TENANT', 'tenant_id must be a non-empty string');
  }
  assertCount(position.shard, 'BAD_POSITION', 'shard');
  assertCount(position.index, 'BAD_POSITION', 'index');
  assertCount(position.tenant_seq, 'BAD_TENANT_SEQ', 'tenant_seq');
  assertTenantPrev(position);
}

function entryText(position: EntryPosition, recordJson: string): string {
  const prev = position.tenant_prev === null ? 'null' : `"${position.tenant_prev}"`;
  return (
    `{"index":${position.index},"record":${recordJson},"shard":${position.shard},"tenant_id":${canonicalJson(position.tenant_id)},` +
    `"tenant_prev":${prev},"tenant_seq":${position.tenant_seq},"v":${LEDGER_ENTRY_VERSION}}`
  );
}

/** A stored entry with the leaf hash it is claimed to have. */
export interface TenantChainLink {
  entry: LedgerEntry;
  leafHash: Buffer;
}

export type TenantChainBreakCode =
  'BAD_ENTRY' | 'LEAF_HASH_MISMATCH' | 'OTHER_TENANT' | 'OTHER_SHARD' | TenantChainFault;

export interface TenantChainBreak {
  /** Position in the array passed in. */
  position: number;
  /** tenant_seq of the entry at that position (as stored, even if wrong). */
  tenant_seq: number;
  code: TenantChainBreakCode;
  message: string;
}

/**
 * The first break in a run of one tenant's entries in one shard, or null if the run is an
 * unbroken chain.
 *
 * Precondition: `links` are sorted by tenant_seq. The run may start anywhere in the chain (an
 * export includes the neighbour just before its range); only links inside the run are checked
 * against each other, plus "tenant_prev is null exactly when tenant_seq is 0" for each one.
 * Each leaf hash is recomputed from its entry, so a link proves its entry, not only its hash.
 */
export function verifyTenantChain(links: TenantChainLink[]): TenantChainBreak | null {
  for (let position = 0; position < links.length; position++) {
    const broken = linkBreak(links, position);
    if (broken !== null) return broken;
  }
  return null;
}

function linkBreak(links: TenantChainLink[], position: number): TenantChainBreak | null {
  const { entry, leafHash: claimed } = links[position];
  const fail = (code: TenantChainBreakCode, message: string): TenantChainBreak => ({
    position,
    tenant_seq: entry?.tenant_seq,
    code,
    message,
  });
  let recomputed: Buffer;
  try {
    recomputed = ledgerEntryLeafHash(entry);
  } catch (error) {
    return fail('BAD_ENTRY', (error as Error).message);
  }
  if (!recomputed.equals(claimed)) return fail('LEAF_HASH_MISMATCH', 'leaf hash does not match the entry');
  if (position === 0) return null;
  const previous = links[position - 1];
  if (entry.tenant_id !== links[0].entry.tenant_id)
    return fail('OTHER_TENANT', `tenant ${entry.tenant_id} in a chain of ${links[0].entry.tenant_id}`);
  if (entry.shard !== links[0].entry.shard)
    return fail('OTHER_SHARD', `shard ${entry.shard} in a chain of shard ${links[0].entry.shard}`);
  const { tenant_seq, index } = previous.entry;
  const broken = tenantChainLinkBreak({ tenant_seq, index, leaf_hash: previous.leafHash.toString('hex') }, entry);
  return broken && fail(broken.code, `${broken.message} (expected ${broken.expected}, found ${broken.found})`);
}

function isPlainObjectValue(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withoutAssignedSource(source: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (!(LEDGER_ASSIGNED_SOURCE_FIELDS as readonly string[]).includes(key)) kept[key] = source[key];
  }
  return kept;
}

function withoutLedgerAssignedFields(record: object): object {
  const { received_at: _receivedAt, ...rest } = record as Record<string, unknown>;
  const source = rest.source;
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return rest;
  const kept = Object.fromEntries(
    Object.entries(source).filter(([key]) => !(LEDGER_ASSIGNED_SOURCE_FIELDS as readonly string[]).includes(key)),
  );
  return { ...rest, source: kept };
}

/** The preconditions of ledgerEntryBytes, checked without serializing; throws LedgerEntryError. */
export function assertLedgerEntry(entry: LedgerEntry): void {
  assertPlainObject(entry, 'NOT_AN_OBJECT', 'ledger entry');
  const unknown = Object.keys(entry).filter((key) => !(ENTRY_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw new LedgerEntryError('UNKNOWN_FIELD', `unknown ledger entry field(s): ${unknown.join(', ')}`);
  if (entry.v !== LEDGER_ENTRY_VERSION) throw new LedgerEntryError('BAD_VERSION', `v must be ${LEDGER_ENTRY_VERSION}`);
  assertCount(entry.shard, 'BAD_POSITION', 'shard');
  assertCount(entry.index, 'BAD_POSITION', 'index');
  if (typeof entry.tenant_id !== 'string' || entry.tenant_id === '') {
    throw new LedgerEntryError('BAD_TENANT', 'tenant_id must be a non-empty string');
  }
  assertCount(entry.tenant_seq, 'BAD_TENANT_SEQ', 'tenant_seq');
  assertTenantPrev(entry);
  assertPlainObject(entry.record, 'BAD_RECORD', 'record');
  const recordTenant = (entry.record as { tenant_id?: unknown }).tenant_id;
  if (recordTenant !== undefined && recordTenant !== entry.tenant_id) {
    throw new LedgerEntryError('TENANT_MISMATCH', 'record.tenant_id differs from the entry tenant_id');
  }
}

function assertTenantPrev(entry: Pick<LedgerEntry, 'tenant_seq' | 'tenant_prev'>): void {
  if (entry.tenant_seq === 0) {
    if (entry.tenant_prev !== null)
      throw new LedgerEntryError('BAD_TENANT_PREV', 'tenant_prev must be null when tenant_seq is 0');
    return;
  }
  if (typeof entry.tenant_prev !== 'string' || !LOWER_HEX_SHA256.test(entry.tenant_prev)) {
    throw new LedgerEntryError('BAD_TENANT_PREV', 'tenant_prev must be 64 lowercase hex digits when tenant_seq > 0');
  }
}

function assertCount(value: unknown, code: LedgerEntryErrorCode, what: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new LedgerEntryError(code, `${what} must be a non-negative safe integer`);
  }
}

function assertPlainObject(value: unknown, code: LedgerEntryErrorCode, what: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LedgerEntryError(code, `${what} must be a JSON object`);
  }
}
