import type { ExportQuery, RecordFacts } from '../domain/bundle/bundle-format.js';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import type { LedgerEntry } from '../domain/ledger-entry/ledger-entry.js';
import type { NodeReader } from '../domain/merkle/prover.js';
import type { NoteSignature } from '../domain/note/signed-note.js';

/**
 * What the bundle writer reads from a ledger. The PostgreSQL implementation is
 * ExportSourceRepository; tests use an in-memory ledger. Every method answers "as of" the
 * tree sizes it is given, so that the whole export sees one snapshot of an append-only log
 * even while ingestion goes on.
 */
export interface SourceCheckpoint {
  shard: number;
  treeSize: number;
  /** Compact JWS as signed by the ledger. */
  jws: string;
}

export interface SourceEntry {
  eventId: string;
  entry: LedgerEntry;
  /** The leaf hash the ledger stored (the writer re-derives it and refuses a mismatch). */
  leafHash: Buffer;
  /**
   * The record's canonical JSON as stored, when the source has it: the entry's bytes are then
   * spliced around it instead of recanonicalizing the parsed record. The leaf check still
   * applies, so stored text that is not what was signed is refused all the same.
   */
  recordJson?: string;
  /**
   * What the range and filters read of the record, when the source has it without parsing
   * the record (columns derived at ingest); otherwise the writer derives it from entry.record.
   */
  facts?: RecordFacts;
}

/**
 * One entry of a tenant's chain as the writer needs it: its position, the stored leaf hash,
 * and its ledger entry's canonical bytes (the records.jsonl line) as the source assembled them.
 * The writer hashes the line itself and refuses it unless it hashes to `leafHash`.
 */
export interface SourceLine {
  index: number;
  tenantSeq: number;
  /** The stored tenant_prev (32 bytes), null at the start of the chain. */
  tenantPrev: Buffer | null;
  leafHash: Buffer;
  line: Buffer;
  /**
   * Optional: 0x00 followed by the line's bytes (the leaf hash's input, RFC 6962 §2.1), when
   * the source can give it without a copy; the writer hashes it instead of prefixing the line.
   */
  leafInput?: Buffer;
  /** Whether the entry's occurred_at lies in the query's range, and whether it then matches its filters (§2). */
  inRange: boolean;
  matches: boolean;
  /** The record's event_id, for messages. */
  eventId(): string;
}

export interface BundleSource {
  /** The latest signed checkpoint of every shard, sorted by shard: the export's anchors. */
  anchors(): Promise<SourceCheckpoint[]>;
  /** Every public key that ever signed, with validity windows. */
  jwks(): Promise<Jwks>;
  /** Number of entries of `tenant` among leaves [0, treeSize) of `shard`. */
  tenantChainLength(shard: number, tenant: string, treeSize: number): Promise<number>;
  /** Smallest and largest tenant_seq of the tenant's entries with occurred_at in [from, to), among leaves [0, treeSize). */
  inRangeSeqBounds(
    shard: number,
    tenant: string,
    from: string,
    to: string,
    treeSize: number,
  ): Promise<{ min: number; max: number } | null>;
  /** Largest tenant_seq of the tenant's entries with occurred_at < from, among leaves [0, treeSize). */
  lastSeqBefore(shard: number, tenant: string, from: string, treeSize: number): Promise<number | null>;
  /** The tenant's entries with fromSeq <= tenant_seq <= toSeq, by tenant_seq, at most `limit` (keyset page). */
  chainPage(shard: number, tenant: string, fromSeq: number, toSeq: number, limit: number): Promise<SourceEntry[]>;
  /**
   * Optional, instead of chainPage: the tenant's entries with fromSeq <= tenant_seq <= toSeq, by
   * tenant_seq, streamed in pages of at most `pageSize`, with the range and filters of `query`
   * already decided (the PostgreSQL source assembles each line in the database).
   */
  chainLines?(
    shard: number,
    query: ExportQuery,
    fromSeq: number,
    toSeq: number,
    pageSize: number,
  ): AsyncIterable<SourceLine[]>;
  /** For each leaf index, the first checkpoint with index < tree_size <= maxSize (same order). */
  coveringCheckpoints(shard: number, indexes: number[], maxSize: number): Promise<SourceCheckpoint[]>;
  /** Stored Merkle nodes of the shard (throws on a missing node). */
  nodeReader(shard: number): NodeReader;
  /** The witnesses' stored cosignatures of the checkpoint (shard, treeSize, rootHash); none when absent. */
  cosignatures?(shard: number, treeSize: number, rootHash: Buffer): Promise<NoteSignature[]>;
}
