/**
 * The audit bundle: a tar.gz that proves, with nothing but the ledger's public keys, that the
 * records of one tenant in one time range are genuine and that none was left out.
 * docs/bundle-format.md is the specification; this module holds its constants, document
 * shapes and the shape checks both the writer and the verifier use.
 *
 * Every line of a `.jsonl` file and manifest.json are RFC 8785 canonical JSON, so one bundle
 * has one byte string and a verifier can re-canonicalize and compare instead of trusting a
 * parser's tolerance.
 */
import { isUtcMillisTimestamp } from '../checkpoint/checkpoint.js';
import type { LedgerEntry } from '../ledger-entry/ledger-entry.js';

export const BUNDLE_FORMAT = 'routing-ledger-audit-bundle';
/**
 * The version written. Version 2 adds checkpoint-notes.jsonl (the anchors as cosigned C2SP
 * notes); a verifier still reads version 1 bundles, which have no such file.
 */
export const BUNDLE_FORMAT_VERSION = 2;
export const BUNDLE_FORMAT_VERSIONS = [1, 2] as const;
export type BundleFormatVersion = (typeof BUNDLE_FORMAT_VERSIONS)[number];
/** JWS `typ` of manifest.jws: keeps a manifest from passing as a checkpoint and vice versa. */
export const MANIFEST_TYP = 'routing-ledger-manifest+jws';

export const FILE = {
  readme: 'README.txt',
  manifest: 'manifest.json',
  manifestJws: 'manifest.jws',
  jwks: 'jwks.json',
  checkpoints: 'checkpoints.jsonl',
  checkpointNotes: 'checkpoint-notes.jsonl',
  completeness: 'completeness.jsonl',
  records: 'records.jsonl',
  proofs: 'proofs.jsonl',
} as const;

/**
 * The tar entries, in the one order a bundle has. manifest.json and manifest.jws come before
 * the files they describe so that a verifier reading the archive once, front to back, knows
 * every expected hash and size before it reads a byte of them.
 */
export const BUNDLE_ENTRY_ORDER = [
  FILE.readme,
  FILE.manifest,
  FILE.manifestJws,
  FILE.jwks,
  FILE.checkpoints,
  FILE.checkpointNotes,
  FILE.completeness,
  FILE.records,
  FILE.proofs,
] as const;

/** The files the manifest lists (with size and SHA-256): every entry but the manifest itself. */
export const HASHED_FILES = BUNDLE_ENTRY_ORDER.filter((f) => f !== FILE.manifest && f !== FILE.manifestJws);

/** The entries of a bundle of `version`: version 1 has no checkpoint-notes.jsonl. */
export function bundleEntryOrder(version: number | undefined): readonly string[] {
  return version === 1 ? BUNDLE_ENTRY_ORDER.filter((f) => f !== FILE.checkpointNotes) : BUNDLE_ENTRY_ORDER;
}

/** The files the manifest of a bundle of `version` lists. */
export function hashedFiles(version: number | undefined): readonly string[] {
  return version === 1 ? HASHED_FILES.filter((f) => f !== FILE.checkpointNotes) : HASHED_FILES;
}

/**
 * Optional narrowing of what the auditor is asked to look at. Filters never shrink what is
 * proven: the chain can only be checked over all of the tenant's entries, so every entry of
 * the range is in the bundle and the filters only decide which ones are counted as matching.
 * Exact string match on the named record members.
 */
export interface ExportFilters {
  provider?: string;
  requested_model?: string;
  gateway_id?: string;
  outcome_status?: string;
}

export const FILTER_FIELDS = ['provider', 'requested_model', 'gateway_id', 'outcome_status'] as const;

export interface ExportQuery {
  tenant: string;
  /** Inclusive lower bound on record.occurred_at, RFC 3339 UTC with milliseconds. */
  from: string;
  /** Exclusive upper bound on record.occurred_at. */
  to: string;
  filters: ExportFilters;
}

export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
}

export interface ManifestShard {
  shard: number;
  /** tree_size of the shard's anchor checkpoint: the export covers leaves [0, tree_size). */
  tree_size: number;
  /** Lines of records.jsonl in this shard. */
  records: number;
}

export interface ManifestCounts {
  /** Lines of records.jsonl. */
  records: number;
  /** Of those, records whose occurred_at is inside [from, to). */
  records_in_range: number;
  /** Of those in range, the ones the filters match (= records_in_range without filters). */
  matching: number;
  checkpoints: number;
  shards: number;
  /** Neighbour entries in completeness.jsonl. */
  boundary_entries: number;
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  format_version: BundleFormatVersion;
  generator: { name: string; version: string };
  export_id: string;
  /** RFC 3339 UTC with milliseconds: when the manifest was signed. */
  created_at: string;
  /** The ledger's origin: every checkpoint in the bundle names it. */
  origin: string;
  query: ExportQuery;
  shards: ManifestShard[];
  counts: ManifestCounts;
  /** kid of the key that signed manifest.jws, and the kids of every checkpoint signature. */
  key_ids: { manifest: string; checkpoints: string[] };
  files: ManifestFile[];
}

/** One line of checkpoints.jsonl. Lines are sorted by (shard, tree_size). */
export interface CheckpointLine {
  shard: number;
  tree_size: number;
  /** Compact JWS of the checkpoint (docs/ledger-format.md §7). */
  jws: string;
  /** tree_size of the previous line of the same shard; null on a shard's first line. */
  prev_tree_size: number | null;
  /** RFC 6962 consistency proof from prev_tree_size to tree_size; [] on a shard's first line. */
  consistency_proof: string[];
}

/**
 * One line of checkpoint-notes.jsonl, one per shard of the manifest, in the same order: the
 * shard's anchor checkpoint as a C2SP signed note (docs/ledger-format.md §14), signed by the
 * ledger's key, followed by the witnesses' cosignatures of it the ledger holds.
 */
export interface CheckpointNoteLine {
  shard: number;
  /** The anchor's tree size (the shard's last line in checkpoints.jsonl). */
  tree_size: number;
  note: string;
}

/** One line of proofs.jsonl: line i proves line i of records.jsonl. */
export interface ProofLine {
  shard: number;
  index: number;
  leaf_hash: string;
  /** Size of the cited checkpoint's tree: the first checkpoint of the shard that covers the leaf. */
  tree_size: number;
  inclusion_proof: string[];
}

/** A neighbour entry just outside the range, with its own inclusion proof. */
export interface BoundaryEntry {
  entry: LedgerEntry;
  leaf_hash: string;
  tree_size: number;
  inclusion_proof: string[];
}

/** One line of completeness.jsonl, one per shard of the manifest, in the same order. */
export interface CompletenessLine {
  shard: number;
  /** The anchor checkpoint's tree size (the shard's last line in checkpoints.jsonl). */
  tree_size: number;
  /**
   * How many entries the tenant has in leaves [0, tree_size) of this shard. ATTESTED, not
   * proven: only the ledger's signature (through the manifest) vouches for it. See
   * docs/bundle-format.md §7.
   */
  tenant_chain_length: number;
  /** tenant_seq of the first and last record of this shard in records.jsonl, or both null. */
  first_seq: number | null;
  last_seq: number | null;
  /** The tenant's entry at first_seq - 1 (or the last entry before the gap when no records). */
  before: BoundaryEntry | null;
  /** The tenant's entry at last_seq + 1 (or the first entry after the gap when no records). */
  after: BoundaryEntry | null;
}

const LOWER_HEX_SHA256 = /^[0-9a-f]{64}$/;

export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isHexHash = (v: unknown): v is string => typeof v === 'string' && LOWER_HEX_SHA256.test(v);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether record.occurred_at lies in [from, to). Records without a valid occurred_at are outside. */
export function occurredInRange(record: unknown, query: Pick<ExportQuery, 'from' | 'to'>): boolean {
  const at = occurredAt(record);
  return at !== undefined && at >= Date.parse(query.from) && at < Date.parse(query.to);
}

/** Milliseconds of record.occurred_at, or undefined when it is missing or not a time. */
export function occurredAt(record: unknown): number | undefined {
  const value = isObject(record) ? record.occurred_at : undefined;
  const at = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(at) ? at : undefined;
}

/** Whether `record` matches every filter given (exact match; gateway_id is record.gateway.id). */
export function recordMatchesFilters(record: unknown, filters: ExportFilters): boolean {
  if (!isObject(record)) return false;
  const outcome = isObject(record.outcome) ? record.outcome.status : undefined;
  const gateway = isObject(record.gateway) ? record.gateway.id : undefined;
  const actual: Record<(typeof FILTER_FIELDS)[number], unknown> = {
    provider: record.provider,
    requested_model: record.requested_model,
    gateway_id: gateway,
    outcome_status: outcome,
  };
  return FILTER_FIELDS.every((f) => filters[f] === undefined || filters[f] === actual[f]);
}

/**
 * What the range and the filters read of a record (§2): its occurred_at in milliseconds (NaN
 * when missing or not a time) and the four filter members. An exporter may take them from
 * columns derived from the record at ingest instead of parsing the record; the verifier reads
 * the record, so a column that disagreed with it would fail the bundle's counts, never pass.
 */
export interface RecordFacts {
  occurredAtMs: number;
  provider: unknown;
  requested_model: unknown;
  gateway_id: unknown;
  outcome_status: unknown;
}

/** The facts of a parsed record. */
export function recordFacts(record: unknown): RecordFacts {
  const r = isObject(record) ? record : {};
  return {
    occurredAtMs: occurredAt(r) ?? NaN,
    provider: r.provider,
    requested_model: r.requested_model,
    gateway_id: isObject(r.gateway) ? r.gateway.id : undefined,
    outcome_status: isObject(r.outcome) ? r.outcome.status : undefined,
  };
}

/** occurredInRange and recordMatchesFilters, from a record's facts. */
export function factsInRange(facts: RecordFacts, query: Pick<ExportQuery, 'from' | 'to'>): boolean {
  return facts.occurredAtMs >= Date.parse(query.from) && facts.occurredAtMs < Date.parse(query.to);
}

export function factsMatchFilters(facts: RecordFacts, filters: ExportFilters): boolean {
  return FILTER_FIELDS.every((f) => filters[f] === undefined || filters[f] === facts[f]);
}

/** What is wrong with `q` as an export query, or null. */
export function exportQueryDefect(q: unknown): string | null {
  if (!isObject(q)) return 'query must be an object';
  if (!sameKeys(q, ['tenant', 'from', 'to', 'filters'])) return 'query must have exactly tenant, from, to, filters';
  if (typeof q.tenant !== 'string' || q.tenant === '') return 'query.tenant must be a non-empty string';
  if (!isUtcMillisTimestamp(q.from) || !isUtcMillisTimestamp(q.to))
    return 'query.from and query.to must be RFC 3339 UTC with milliseconds';
  if (!(Date.parse(q.from) < Date.parse(q.to))) return 'query.from must be before query.to';
  if (!isObject(q.filters)) return 'query.filters must be an object';
  for (const [k, v] of Object.entries(q.filters)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(k)) return `unknown filter ${k}`;
    if (typeof v !== 'string' || v === '') return `filter ${k} must be a non-empty string`;
  }
  return null;
}

/** What is wrong with `m` as a manifest (shape only; the verifier checks the content), or null. */
export function manifestDefect(m: unknown): string | null {
  if (!isObject(m)) return 'manifest must be a JSON object';
  if (
    !sameKeys(m, [
      'format',
      'format_version',
      'generator',
      'export_id',
      'created_at',
      'origin',
      'query',
      'shards',
      'counts',
      'key_ids',
      'files',
    ])
  ) {
    return `manifest members must be exactly format, format_version, generator, export_id, created_at, origin, query, shards, counts, key_ids, files; got ${Object.keys(m).sort().join(', ')}`;
  }
  if (m.format !== BUNDLE_FORMAT) return `format must be ${BUNDLE_FORMAT}`;
  if (!(BUNDLE_FORMAT_VERSIONS as readonly unknown[]).includes(m.format_version))
    return `format_version ${String(m.format_version)} is not supported (this verifier reads ${BUNDLE_FORMAT_VERSIONS.join(', ')})`;
  if (!isObject(m.generator) || typeof m.generator.name !== 'string' || typeof m.generator.version !== 'string')
    return 'generator must be {name, version}';
  if (typeof m.export_id !== 'string' || m.export_id === '') return 'export_id must be a non-empty string';
  if (!isUtcMillisTimestamp(m.created_at)) return 'created_at must be RFC 3339 UTC with milliseconds';
  if (typeof m.origin !== 'string' || m.origin === '') return 'origin must be a non-empty string';
  const q = exportQueryDefect(m.query);
  if (q !== null) return q;
  if (
    !Array.isArray(m.shards) ||
    !m.shards.every(
      (s) =>
        isObject(s) &&
        sameKeys(s, ['shard', 'tree_size', 'records']) &&
        isCount(s.shard) &&
        isCount(s.tree_size) &&
        s.tree_size > 0 &&
        isCount(s.records),
    )
  ) {
    return 'shards must be a list of {shard, tree_size > 0, records}';
  }
  for (let i = 1; i < m.shards.length; i++)
    if (m.shards[i].shard <= m.shards[i - 1].shard) return 'shards must be sorted by shard, without duplicates';
  const counts = m.counts;
  if (
    !isObject(counts) ||
    !sameKeys(counts, ['records', 'records_in_range', 'matching', 'checkpoints', 'shards', 'boundary_entries']) ||
    !Object.values(counts).every(isCount)
  ) {
    return 'counts must be {records, records_in_range, matching, checkpoints, shards, boundary_entries}, all counts';
  }
  const keys = m.key_ids;
  if (
    !isObject(keys) ||
    !sameKeys(keys, ['manifest', 'checkpoints']) ||
    typeof keys.manifest !== 'string' ||
    !Array.isArray(keys.checkpoints) ||
    !keys.checkpoints.every((k) => typeof k === 'string')
  ) {
    return 'key_ids must be {manifest, checkpoints: [...]}';
  }
  const hashed = hashedFiles(m.format_version as number);
  if (!Array.isArray(m.files) || m.files.length !== hashed.length)
    return `files must list exactly ${hashed.join(', ')}`;
  for (let i = 0; i < hashed.length; i++) {
    const f = m.files[i];
    if (
      !isObject(f) ||
      !sameKeys(f, ['name', 'size', 'sha256']) ||
      f.name !== hashed[i] ||
      !isCount(f.size) ||
      !isHexHash(f.sha256)
    ) {
      return `files[${i}] must be {name: "${hashed[i]}", size, sha256}`;
    }
  }
  return null;
}

/** What is wrong with `l` as a checkpoints.jsonl line (shape only), or null. */
export function checkpointLineDefect(l: unknown): string | null {
  if (!isObject(l) || !sameKeys(l, ['shard', 'tree_size', 'jws', 'prev_tree_size', 'consistency_proof'])) {
    return 'a checkpoint line has exactly shard, tree_size, jws, prev_tree_size, consistency_proof';
  }
  if (!isCount(l.shard) || !isCount(l.tree_size) || l.tree_size === 0)
    return 'shard and tree_size must be counts, tree_size > 0';
  if (typeof l.jws !== 'string') return 'jws must be a string';
  if (l.prev_tree_size !== null && !isCount(l.prev_tree_size)) return 'prev_tree_size must be a count or null';
  if (!Array.isArray(l.consistency_proof) || !l.consistency_proof.every(isHexHash))
    return 'consistency_proof must be a list of 64-digit lowercase hex hashes';
  return null;
}

/** What is wrong with `l` as a checkpoint-notes.jsonl line (shape only), or null. */
export function checkpointNoteLineDefect(l: unknown): string | null {
  if (!isObject(l) || !sameKeys(l, ['shard', 'tree_size', 'note']))
    return 'a checkpoint note line has exactly shard, tree_size, note';
  if (!isCount(l.shard) || !isCount(l.tree_size) || l.tree_size === 0)
    return 'shard and tree_size must be counts, tree_size > 0';
  if (typeof l.note !== 'string') return 'note must be a string';
  return null;
}

/** What is wrong with `l` as a proofs.jsonl line (shape only), or null. */
export function proofLineDefect(l: unknown): string | null {
  if (!isObject(l) || !sameKeys(l, ['shard', 'index', 'leaf_hash', 'tree_size', 'inclusion_proof'])) {
    return 'a proof line has exactly shard, index, leaf_hash, tree_size, inclusion_proof';
  }
  if (!isCount(l.shard) || !isCount(l.index) || !isCount(l.tree_size))
    return 'shard, index and tree_size must be counts';
  if (!isHexHash(l.leaf_hash)) return 'leaf_hash must be 64 lowercase hex digits';
  if (!Array.isArray(l.inclusion_proof) || !l.inclusion_proof.every(isHexHash))
    return 'inclusion_proof must be a list of 64-digit lowercase hex hashes';
  return null;
}

/** What is wrong with `l` as a completeness.jsonl line (shape only), or null. */
export function completenessLineDefect(l: unknown): string | null {
  if (
    !isObject(l) ||
    !sameKeys(l, ['shard', 'tree_size', 'tenant_chain_length', 'first_seq', 'last_seq', 'before', 'after'])
  ) {
    return 'a completeness line has exactly shard, tree_size, tenant_chain_length, first_seq, last_seq, before, after';
  }
  if (!isCount(l.shard) || !isCount(l.tree_size) || !isCount(l.tenant_chain_length))
    return 'shard, tree_size and tenant_chain_length must be counts';
  if ((l.first_seq === null) !== (l.last_seq === null)) return 'first_seq and last_seq are both null or both counts';
  if (l.first_seq !== null && !(isCount(l.first_seq) && isCount(l.last_seq) && l.first_seq <= l.last_seq))
    return 'first_seq <= last_seq must be counts';
  for (const side of ['before', 'after'] as const) {
    const b = l[side];
    if (b === null) continue;
    if (!isObject(b) || !sameKeys(b, ['entry', 'leaf_hash', 'tree_size', 'inclusion_proof']))
      return `${side} must be null or {entry, leaf_hash, tree_size, inclusion_proof}`;
    if (
      !isObject(b.entry) ||
      !isHexHash(b.leaf_hash) ||
      !isCount(b.tree_size) ||
      !Array.isArray(b.inclusion_proof) ||
      !b.inclusion_proof.every(isHexHash)
    ) {
      return `${side}: entry must be an object, leaf_hash a hash, tree_size a count, inclusion_proof a list of hashes`;
    }
  }
  return null;
}

function sameKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(o, k));
}

/**
 * canonicalJson(line) for a well-formed proof line (proofLineDefect null), written directly:
 * its members and their order are fixed (JCS order: inclusion_proof, index, leaf_hash, shard,
 * tree_size) and every value is a count or lowercase hex, which JSON writes as is.
 */
export function proofLineText(line: ProofLine): string {
  const proof = line.inclusion_proof.length === 0 ? '' : `"${line.inclusion_proof.join('","')}"`;
  return `{"inclusion_proof":[${proof}],"index":${line.index},"leaf_hash":"${line.leaf_hash}","shard":${line.shard},"tree_size":${line.tree_size}}`;
}

const HEX64 = '"[0-9a-f]{64}"';
const COUNT = '(0|[1-9][0-9]{0,15})';
const CANONICAL_PROOF_LINE = new RegExp(
  `^\\{"inclusion_proof":\\[((?:${HEX64}(?:,${HEX64})*)?)\\],"index":${COUNT},"leaf_hash":"([0-9a-f]{64})","shard":${COUNT},"tree_size":${COUNT}\\}$`,
);

/**
 * The proof line `text` is, when it is exactly proofLineText of a well-formed proof line; else
 * undefined (the caller then parses it the general way, which names what is wrong). A
 * shortcut for the verifier: no JSON.parse, no re-serialization.
 */
export function canonicalProofLine(text: string): ProofLine | undefined {
  const m = CANONICAL_PROOF_LINE.exec(text);
  if (m === null) return undefined;
  const [index, shard, treeSize] = [Number(m[2]), Number(m[4]), Number(m[5])];
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(shard) || !Number.isSafeInteger(treeSize)) return undefined;
  const list = m[1];
  const inclusion_proof: string[] = [];
  // Elements are 66 characters ("hex") plus a comma between them.
  for (let at = 1; at < list.length; at += 67) inclusion_proof.push(list.slice(at, at + 64));
  return { inclusion_proof, index, leaf_hash: m[3], shard, tree_size: treeSize };
}
