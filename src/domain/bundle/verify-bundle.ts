/**
 * The offline verifier of audit bundles (docs/bundle-format.md §8): no database, no network,
 * only the bundle and a JWKS. It reads the tar.gz front to back once, and opens it a second
 * time to read proofs.jsonl in lockstep with records.jsonl, so memory holds one line of each,
 * the checkpoints of the bundle (roots, for the inclusion proofs) and one summary per shard,
 * however many records the bundle has.
 *
 * It stops at the first problem and names it: file, line, record, what was expected and what
 * was found, with a stable code. Content is checked line by line before a file's hash is
 * compared with the manifest at the end of that file, so a changed record is reported as the
 * record it is, not only as "records.jsonl has the wrong hash".
 */
import { verifyCheckpoint, verifyJws, assertWithinKeyValidity, JwsVerificationError, type Checkpoint } from '../checkpoint/checkpoint-jws.js';
import type { Jwks } from '../checkpoint/signing-key.js';
import { canonicalBytes } from '../canonical/canonical-json.js';
import { ledgerEntryBytes, LedgerEntryError, type LedgerEntry } from '../ledger-entry/ledger-entry.js';
import { leafHash } from '../merkle/hasher.js';
import { MerkleProofError } from '../merkle/errors.js';
import { verifyConsistency, verifyInclusion } from '../merkle/verifier.js';
import { CanonicalizationError } from '../canonical/canonical-json.js';
import {
  archiveEntries, drain, FileDigest, LineError, lines, readWhole, ArchiveError, type ArchiveEntry, type BundleOpener,
} from './bundle-archive.js';
import {
  BUNDLE_ENTRY_ORDER, FILE, MANIFEST_TYP, checkpointLineDefect, completenessLineDefect, manifestDefect,
  occurredInRange, proofLineDefect, recordMatchesFilters,
  type BoundaryEntry, type CheckpointLine, type CompletenessLine, type Manifest, type ProofLine,
} from './bundle-format.js';
import { AppError } from '../../common/app-error.js';

export type BundleProblemCode =
  | 'UNREADABLE_ARCHIVE'
  | 'UNEXPECTED_FILE'
  | 'MISSING_FILE'
  | 'FILE_OUT_OF_ORDER'
  | 'NOT_A_FILE'
  | 'FILE_TOO_LARGE'
  | 'FILE_HASH_MISMATCH'
  | 'FILE_SIZE_MISMATCH'
  | 'BAD_LINE'
  | 'NON_CANONICAL'
  | 'BAD_MANIFEST'
  | 'MANIFEST_SIGNATURE'
  | 'MANIFEST_MISMATCH'
  | 'BAD_JWKS'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_ORDER'
  | 'CONSISTENCY_INVALID'
  | 'ANCHOR_MISMATCH'
  | 'UNKNOWN_CHECKPOINT'
  | 'BAD_ENTRY'
  | 'WRONG_TENANT'
  | 'SHARD_ORDER'
  | 'LEAF_HASH_MISMATCH'
  | 'INCLUSION_INVALID'
  | 'PROOF_MISMATCH'
  | 'MISSING_PROOF'
  | 'EXTRA_PROOF'
  | 'SEQ_GAP'
  | 'OUT_OF_ORDER'
  | 'PREV_MISMATCH'
  | 'INDEX_NOT_INCREASING'
  | 'BEYOND_ANCHOR'
  | 'RANGE_START_MISSING'
  | 'RANGE_END_MISSING'
  | 'SEGMENT_NOT_IN_RANGE'
  | 'NEIGHBOUR_IN_RANGE'
  | 'BAD_COMPLETENESS'
  | 'COUNT_MISMATCH';

/** The first problem found: where it is and what was expected there. */
export interface BundleProblem {
  code: BundleProblemCode;
  file?: string;
  /** 1-based line of `file`. */
  line?: number;
  /** event_id of the record concerned, when there is one. */
  record?: string;
  expected?: string;
  found?: string;
  message: string;
}

export class BundleVerificationError extends AppError {
  override readonly name = 'BundleVerificationError';
  readonly code: BundleProblemCode;

  constructor(readonly problem: BundleProblem) {
    super(describeProblem(problem));
    this.code = problem.code;
  }
}

export interface VerifyProgress {
  file: string;
  /** Records (or lines) checked so far in this file, and how many the manifest announces. */
  done: number;
  total: number;
}

export interface VerifyBundleOptions {
  /**
   * Keys to verify with. When given, the bundle's own jwks.json is only hash-checked, never
   * used: a bundle whose keys were swapped for an attacker's fails. Without it the verifier
   * uses jwks.json and says so (authentic only if you trust that file).
   */
  trustedJwks?: Jwks;
  /** Reject a bundle (and checkpoints) of another ledger. */
  origin?: string;
  onProgress?: (p: VerifyProgress) => void;
  /** Longest accepted line, in bytes. */
  maxLineBytes?: number;
}

export interface ShardSummary {
  shard: number;
  /** The anchor checkpoint: the export covers leaves [0, tree_size) of this shard. */
  tree_size: number;
  anchor_signed_at: string;
  records: number;
  first_seq: number | null;
  last_seq: number | null;
  /** tenant_seq of the proven neighbours, null when none. */
  before_seq: number | null;
  after_seq: number | null;
  tenant_chain_length: number;
  /** True when the tail ("no later entry of the tenant below tree_size") rests on the ledger's word only. */
  tail_attested: boolean;
}

export interface BundleVerdict {
  ok: boolean;
  problem?: BundleProblem;
  export_id?: string;
  origin?: string;
  query?: Manifest['query'];
  created_at?: string;
  keys: { source: 'trusted' | 'bundle'; manifest_kid?: string; checkpoint_kids: string[] };
  counts: {
    records: number;
    records_in_range: number;
    context_records: number;
    matching: number;
    proofs: number;
    checkpoints: number;
    consistency_proofs: number;
    shards: number;
    boundary_entries: number;
    files: number;
  };
  shards: ShardSummary[];
  warnings: string[];
}

const DEFAULT_MAX_LINE = 128 * 1024 * 1024;
const SMALL_FILE_MAX = 64 * 1024 * 1024;
const PROGRESS_EVERY = 1000;

/**
 * Verifies the bundle `open()` streams (called twice: see the module comment). Resolves with
 * the verdict; never rejects for a bad bundle (only for a programming error).
 */
export async function verifyBundle(open: BundleOpener, opts: VerifyBundleOptions = {}): Promise<BundleVerdict> {
  const v = new BundleVerifier(open, opts);
  try {
    await v.run();
    return v.verdict(undefined);
  } catch (e) {
    if (e instanceof BundleVerificationError) return v.verdict(e.problem);
    if (e instanceof ArchiveError) return v.verdict({ code: 'UNREADABLE_ARCHIVE', message: e.message });
    throw e;
  } finally {
    v.close();
  }
}

/** One line: "[CODE] file line N (record X): message (expected …, found …)". */
export function describeProblem(p: BundleProblem): string {
  const where = [p.file, p.line !== undefined ? `line ${p.line}` : undefined].filter(Boolean).join(' ');
  const record = p.record !== undefined ? ` (record ${p.record})` : '';
  const ef = p.expected !== undefined || p.found !== undefined ? `; expected ${p.expected ?? '-'}, found ${p.found ?? '-'}` : '';
  return `[${p.code}] ${where}${record}${where || record ? ': ' : ''}${p.message}${ef}`;
}

interface CheckpointState {
  root: Buffer;
  timestamp: string;
}

interface ShardState {
  manifest: Manifest['shards'][number];
  completeness?: CompletenessLine;
  beforeHash?: Buffer;
  anchorTimestamp?: string;
  lastCheckpointSize?: number;
  lastCheckpointRoot?: Buffer;
  records: number;
}

interface PrevRecord {
  shard: number;
  seq: number;
  index: number;
  leaf: Buffer;
  line: number;
  eventId?: string;
}

class BundleVerifier {
  private readonly maxLine: number;
  private manifest?: Manifest;
  private manifestBytes?: Buffer;
  private manifestJws?: string;
  private jwks?: Jwks;
  private readonly checkpoints = new Map<string, CheckpointState>();
  private readonly shards = new Map<number, ShardState>();
  private readonly checkpointKids = new Set<string>();
  private readonly warnings: string[] = [];
  private readonly closers: Array<() => void> = [];
  private manifestKid?: string;
  private readonly counts: BundleVerdict['counts'] = {
    records: 0, records_in_range: 0, context_records: 0, matching: 0, proofs: 0, checkpoints: 0, consistency_proofs: 0, shards: 0, boundary_entries: 0, files: 0,
  };

  constructor(
    private readonly open: BundleOpener,
    private readonly opts: VerifyBundleOptions,
  ) {
    this.maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
  }

  close(): void {
    for (const c of this.closers) c();
  }

  verdict(problem: BundleProblem | undefined): BundleVerdict {
    const m = this.manifest;
    return {
      ok: problem === undefined,
      problem,
      export_id: m?.export_id,
      origin: m?.origin,
      query: m?.query,
      created_at: m?.created_at,
      keys: { source: this.opts.trustedJwks ? 'trusted' : 'bundle', manifest_kid: this.manifestKid, checkpoint_kids: [...this.checkpointKids].sort() },
      counts: { ...this.counts },
      shards: [...this.shards.values()].map((s) => this.shardSummary(s)),
      warnings: [...this.warnings],
    };
  }

  async run(): Promise<void> {
    const archive = archiveEntries(this.open());
    this.closers.push(archive.close);
    let position = 0;
    for (;;) {
      const { done, value: entry } = await archive.entries.next();
      if (done) break;
      this.checkEntryName(entry, position);
      await this.readEntry(entry);
      position++;
      this.counts.files++;
    }
    if (position < BUNDLE_ENTRY_ORDER.length) {
      fail({ code: 'MISSING_FILE', file: BUNDLE_ENTRY_ORDER[position], message: `the bundle has no ${BUNDLE_ENTRY_ORDER[position]} (it ends after ${position} files)` });
    }
    this.checkTotals();
  }

  // -------------------------------------------------------------------------------------------
  // Entries

  private checkEntryName(entry: ArchiveEntry, position: number): void {
    const expected = BUNDLE_ENTRY_ORDER[position];
    if (entry.name === expected) {
      if (entry.type !== 'file') fail({ code: 'NOT_A_FILE', file: entry.name, message: `${entry.name} is a ${entry.type}, not a regular file` });
      return;
    }
    if (!(BUNDLE_ENTRY_ORDER as readonly string[]).includes(entry.name)) {
      fail({ code: 'UNEXPECTED_FILE', file: entry.name, message: `${entry.name} is not part of the bundle format and not listed in the manifest: a file was added` });
    }
    if (expected === undefined) fail({ code: 'UNEXPECTED_FILE', file: entry.name, message: `a second ${entry.name} after the last file of the bundle` });
    fail({ code: 'FILE_OUT_OF_ORDER', file: entry.name, expected, found: entry.name, message: `file ${position + 1} of the archive must be ${expected}` });
  }

  private async readEntry(entry: ArchiveEntry): Promise<void> {
    this.guardSize(entry);
    const digest = new FileDigest();
    switch (entry.name) {
      case FILE.readme:
        this.readmeDigest = digest;
        if ((await readWhole(entry.stream, digest, SMALL_FILE_MAX)) === undefined) this.tooLarge(entry.name);
        return;
      case FILE.manifest:
        return this.readManifest(await this.small(entry, digest));
      case FILE.manifestJws:
        this.manifestJws = (await this.small(entry, digest)).toString('latin1');
        return;
      case FILE.jwks:
        return this.readJwks(await this.small(entry, digest), digest);
      case FILE.checkpoints:
        return this.readCheckpoints(entry, digest);
      case FILE.completeness:
        return this.readCompleteness(entry, digest);
      case FILE.records:
        return this.readRecords(entry, digest);
      case FILE.proofs:
        await drain(entry.stream, digest);
        return this.checkFileDigest(FILE.proofs, digest);
    }
  }

  private readmeDigest?: FileDigest;

  /** A file far larger than the signed manifest says is refused before it is read (gzip bombs). */
  private guardSize(entry: ArchiveEntry): void {
    const listed = this.manifest?.files.find((f) => f.name === entry.name);
    if (listed && entry.size > listed.size * 2 + 1024 * 1024) {
      fail({ code: 'FILE_SIZE_MISMATCH', file: entry.name, expected: `${listed.size} bytes`, found: `${entry.size} bytes`, message: `${entry.name} is far larger than the manifest says` });
    }
  }

  private async small(entry: ArchiveEntry, digest: FileDigest): Promise<Buffer> {
    const bytes = await readWhole(entry.stream, digest, SMALL_FILE_MAX);
    if (bytes === undefined) this.tooLarge(entry.name);
    return bytes!;
  }

  private tooLarge(file: string): never {
    fail({ code: 'FILE_TOO_LARGE', file, message: `${file} is larger than ${SMALL_FILE_MAX} bytes` });
  }

  private checkFileDigest(file: string, digest: FileDigest): void {
    const listed = this.requireManifest(file).files.find((f) => f.name === file)!;
    const sha = digest.hex();
    if (digest.bytes !== listed.size) {
      fail({ code: 'FILE_SIZE_MISMATCH', file, expected: `${listed.size} bytes (manifest)`, found: `${digest.bytes} bytes`, message: `${file} does not have the size the signed manifest gives it` });
    }
    if (sha !== listed.sha256) {
      fail({ code: 'FILE_HASH_MISMATCH', file, expected: `sha256 ${listed.sha256} (manifest)`, found: `sha256 ${sha}`, message: `${file} is not the file the signed manifest describes` });
    }
  }

  private requireManifest(file: string): Manifest {
    if (!this.manifest || !this.jwks) fail({ code: 'FILE_OUT_OF_ORDER', file, message: `${file} comes before the manifest and jwks.json` });
    return this.manifest!;
  }

  // -------------------------------------------------------------------------------------------
  // Manifest and keys

  private readManifest(bytes: Buffer): void {
    const value = parseCanonical(bytes, FILE.manifest, undefined);
    const defect = manifestDefect(value);
    if (defect !== null) fail({ code: 'BAD_MANIFEST', file: FILE.manifest, message: defect });
    this.manifest = value as Manifest;
    this.manifestBytes = bytes;
    if (this.opts.origin !== undefined && this.manifest.origin !== this.opts.origin) {
      fail({ code: 'BAD_MANIFEST', file: FILE.manifest, expected: this.opts.origin, found: this.manifest.origin, message: 'the bundle is from another ledger (origin)' });
    }
    for (const s of this.manifest.shards) this.shards.set(s.shard, { manifest: s, records: 0 });
    this.counts.shards = this.manifest.shards.length;
    if (this.readmeDigest) this.checkFileDigestAgainst(FILE.readme, this.readmeDigest);
  }

  /** Like checkFileDigest, for a file read before the manifest (README.txt). */
  private checkFileDigestAgainst(file: string, digest: FileDigest): void {
    const listed = this.manifest!.files.find((f) => f.name === file)!;
    const sha = digest.hex();
    if (digest.bytes !== listed.size || sha !== listed.sha256) {
      fail({ code: 'FILE_HASH_MISMATCH', file, expected: `sha256 ${listed.sha256} (manifest)`, found: `sha256 ${sha}`, message: `${file} is not the file the signed manifest describes` });
    }
  }

  private async readJwks(bytes: Buffer, digest: FileDigest): Promise<void> {
    if (!this.manifest || this.manifestJws === undefined) fail({ code: 'FILE_OUT_OF_ORDER', file: FILE.jwks, message: 'jwks.json comes before the manifest' });
    let bundleJwks: Jwks | undefined;
    try {
      bundleJwks = JSON.parse(bytes.toString('utf8')) as Jwks;
    } catch {
      bundleJwks = undefined;
    }
    if (!this.opts.trustedJwks && (!bundleJwks || !Array.isArray(bundleJwks.keys))) {
      fail({ code: 'BAD_JWKS', file: FILE.jwks, message: 'jwks.json is not a JWKS ({"keys": [...]})' });
    }
    this.jwks = this.opts.trustedJwks ?? bundleJwks;
    if (!this.opts.trustedJwks) {
      this.warnings.push('keys were taken from the bundle\'s own jwks.json: the bundle is consistent, but authentic only if you trust those keys; pass --jwks with keys obtained independently (e.g. the ledger\'s /.well-known/jwks.json)');
    } else if (bundleJwks && Array.isArray(bundleJwks.keys)) {
      const trusted = new Set(this.opts.trustedJwks.keys.map((k) => k.kid));
      const foreign = bundleJwks.keys.filter((k) => !trusted.has(k?.kid));
      if (foreign.length > 0) this.warnings.push(`jwks.json lists ${foreign.length} key(s) not in the trusted JWKS (${foreign.map((k) => k?.kid).join(', ')}); they were not used`);
    }
    await this.verifyManifestSignature();
    this.checkFileDigest(FILE.jwks, digest);
  }

  private async verifyManifestSignature(): Promise<void> {
    const source = this.opts.trustedJwks ? 'the trusted JWKS' : 'jwks.json';
    try {
      const { payload, key, header } = await verifyJws(this.manifestJws!, MANIFEST_TYP, this.jwks!);
      this.manifestKid = header.kid;
      if (!payload.equals(this.manifestBytes!)) {
        fail({ code: 'MANIFEST_MISMATCH', file: FILE.manifest, message: 'manifest.json differs from the manifest signed in manifest.jws: the manifest was edited' });
      }
      assertWithinKeyValidity(key, this.manifest!.created_at);
      if (this.manifest!.key_ids.manifest !== header.kid) {
        fail({ code: 'BAD_MANIFEST', file: FILE.manifest, expected: header.kid, found: this.manifest!.key_ids.manifest, message: 'key_ids.manifest is not the key that signed manifest.jws' });
      }
    } catch (e) {
      if (e instanceof JwsVerificationError) {
        const why = e.code === 'UNKNOWN_KID' ? `it is signed by a key that is not in ${source}` : e.message;
        fail({ code: 'MANIFEST_SIGNATURE', file: FILE.manifestJws, message: `the manifest signature does not verify against ${source}: ${why} (${e.code})` });
      }
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // checkpoints.jsonl

  private async readCheckpoints(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const m = this.requireManifest(FILE.checkpoints);
    let lineNo = 0;
    let prevShard = -1;
    for await (const bytes of this.linesOf(entry, digest, FILE.checkpoints)) {
      lineNo++;
      const where = { file: FILE.checkpoints, line: lineNo };
      const value = parseCanonical(bytes, FILE.checkpoints, lineNo);
      const defect = checkpointLineDefect(value);
      if (defect !== null) fail({ code: 'BAD_LINE', ...where, message: defect });
      const line = value as CheckpointLine;
      const shard = this.shards.get(line.shard);
      if (!shard) fail({ code: 'CHECKPOINT_ORDER', ...where, message: `checkpoint of shard ${line.shard}, which the manifest does not list` });
      if (line.shard < prevShard) fail({ code: 'CHECKPOINT_ORDER', ...where, message: `shard ${line.shard} after shard ${prevShard}: lines must be sorted by shard, then tree_size` });
      if (line.shard !== prevShard && prevShard >= 0) this.closeCheckpointShard(prevShard, lineNo - 1);
      prevShard = line.shard;
      const cp = await this.verifyCheckpointLine(line, where);
      this.checkConsistency(shard!, line, Buffer.from(cp.root_hash, 'hex'), where);
      shard!.lastCheckpointSize = line.tree_size;
      shard!.lastCheckpointRoot = Buffer.from(cp.root_hash, 'hex');
      shard!.anchorTimestamp = cp.timestamp;
      this.checkpoints.set(cpKey(line.shard, line.tree_size), { root: Buffer.from(cp.root_hash, 'hex'), timestamp: cp.timestamp });
      this.counts.checkpoints++;
    }
    if (prevShard >= 0) this.closeCheckpointShard(prevShard, lineNo);
    for (const s of this.shards.values()) {
      if (s.lastCheckpointSize === undefined) fail({ code: 'ANCHOR_MISMATCH', file: FILE.checkpoints, message: `no checkpoint for shard ${s.manifest.shard}, which the manifest lists` });
    }
    if (this.counts.checkpoints !== m.counts.checkpoints) {
      fail({ code: 'COUNT_MISMATCH', file: FILE.checkpoints, expected: `${m.counts.checkpoints} (manifest)`, found: `${this.counts.checkpoints}`, message: 'number of checkpoints' });
    }
    const kids = [...this.checkpointKids].sort();
    if (kids.join() !== [...m.key_ids.checkpoints].sort().join()) {
      fail({ code: 'BAD_MANIFEST', file: FILE.manifest, expected: kids.join(', '), found: m.key_ids.checkpoints.join(', '), message: 'key_ids.checkpoints does not list the keys that signed the checkpoints' });
    }
    this.checkFileDigest(FILE.checkpoints, digest);
  }

  private async verifyCheckpointLine(line: CheckpointLine, where: { file: string; line: number }): Promise<Checkpoint> {
    try {
      const cp = await verifyCheckpoint(line.jws, this.jwks!, { origin: this.manifest!.origin, shard: line.shard });
      if (cp.tree_size !== line.tree_size) {
        fail({ code: 'CHECKPOINT_INVALID', ...where, expected: `tree_size ${line.tree_size}`, found: `tree_size ${cp.tree_size}`, message: 'the signed checkpoint is for another tree size than its line says' });
      }
      this.checkpointKids.add(JSON.parse(Buffer.from(line.jws.split('.')[0], 'base64url').toString('utf8')).kid as string);
      return cp;
    } catch (e) {
      if (e instanceof JwsVerificationError) {
        const source = this.opts.trustedJwks ? 'the trusted JWKS' : 'jwks.json';
        const why = e.code === 'UNKNOWN_KID' ? `it is signed by a key that is not in ${source}` : e.message;
        fail({ code: 'CHECKPOINT_INVALID', ...where, message: `checkpoint of shard ${line.shard} at tree_size ${line.tree_size} does not verify: ${why} (${e.code})` });
      }
      throw e;
    }
  }

  private checkConsistency(shard: ShardState, line: CheckpointLine, root: Buffer, where: { file: string; line: number }): void {
    const prev = shard.lastCheckpointSize ?? null;
    if (line.prev_tree_size !== prev) {
      fail({ code: 'CHECKPOINT_ORDER', ...where, expected: `prev_tree_size ${prev}`, found: `prev_tree_size ${line.prev_tree_size}`, message: `prev_tree_size must be the tree_size of the shard's previous checkpoint line` });
    }
    if (prev === null) {
      if (line.consistency_proof.length !== 0) fail({ code: 'CONSISTENCY_INVALID', ...where, message: 'a shard\'s first checkpoint has no consistency proof' });
      return;
    }
    if (line.tree_size <= prev) {
      fail({ code: 'CHECKPOINT_ORDER', ...where, expected: `tree_size > ${prev}`, found: `${line.tree_size}`, message: `checkpoints of shard ${line.shard} must have increasing tree sizes` });
    }
    try {
      verifyConsistency(prev, line.tree_size, line.consistency_proof.map(hexBytes), shard.lastCheckpointRoot!, root);
      this.counts.consistency_proofs++;
    } catch (e) {
      if (e instanceof MerkleProofError) {
        fail({ code: 'CONSISTENCY_INVALID', ...where, message: `consistency proof of shard ${line.shard} from tree_size ${prev} to ${line.tree_size} does not verify: ${e.message} (${e.code}); the later tree does not extend the earlier one` });
      }
      throw e;
    }
  }

  private closeCheckpointShard(shard: number, lineNo: number): void {
    const s = this.shards.get(shard)!;
    if (s.lastCheckpointSize !== s.manifest.tree_size) {
      fail({ code: 'ANCHOR_MISMATCH', file: FILE.checkpoints, line: lineNo, expected: `tree_size ${s.manifest.tree_size} (manifest)`, found: `tree_size ${s.lastCheckpointSize}`, message: `the last checkpoint of shard ${shard} must be the anchor the manifest names` });
    }
  }

  // -------------------------------------------------------------------------------------------
  // completeness.jsonl

  private async readCompleteness(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const m = this.requireManifest(FILE.completeness);
    let lineNo = 0;
    for await (const bytes of this.linesOf(entry, digest, FILE.completeness)) {
      lineNo++;
      const where = { file: FILE.completeness, line: lineNo };
      const value = parseCanonical(bytes, FILE.completeness, lineNo);
      const defect = completenessLineDefect(value);
      if (defect !== null) fail({ code: 'BAD_LINE', ...where, message: defect });
      const line = value as CompletenessLine;
      const expectedShard = m.shards[lineNo - 1]?.shard;
      if (line.shard !== expectedShard) {
        fail({ code: 'BAD_COMPLETENESS', ...where, expected: `shard ${expectedShard ?? '(none: one line per manifest shard)'}`, found: `shard ${line.shard}`, message: 'completeness.jsonl has one line per shard of the manifest, in the same order' });
      }
      const shard = this.shards.get(line.shard)!;
      if (line.tree_size !== shard.manifest.tree_size) {
        fail({ code: 'ANCHOR_MISMATCH', ...where, expected: `${shard.manifest.tree_size}`, found: `${line.tree_size}`, message: 'tree_size must be the shard\'s anchor' });
      }
      shard.completeness = line;
      this.checkBoundaries(line, where);
      shard.beforeHash = line.before ? hexBytes(line.before.leaf_hash) : undefined;
    }
    if (lineNo !== m.shards.length) {
      fail({ code: 'BAD_COMPLETENESS', file: FILE.completeness, expected: `${m.shards.length} lines`, found: `${lineNo}`, message: 'completeness.jsonl needs one line per shard of the manifest' });
    }
    if (this.counts.boundary_entries !== m.counts.boundary_entries) {
      fail({ code: 'COUNT_MISMATCH', file: FILE.completeness, expected: `${m.counts.boundary_entries} (manifest)`, found: `${this.counts.boundary_entries}`, message: 'number of boundary entries' });
    }
    this.checkFileDigest(FILE.completeness, digest);
  }

  /** The neighbours: genuine, outside the range, and where the segment says they are. */
  private checkBoundaries(l: CompletenessLine, where: { file: string; line: number }): void {
    const bad = (message: string, expected?: string, found?: string): never => fail({ code: 'BAD_COMPLETENESS', ...where, expected, found, message: `shard ${l.shard}: ${message}` });
    const before = l.before ? this.checkBoundaryEntry(l, 'before', l.before, where) : undefined;
    const after = l.after ? this.checkBoundaryEntry(l, 'after', l.after, where) : undefined;
    const m = l.tenant_chain_length;
    if (l.first_seq !== null && l.last_seq !== null) {
      if (l.last_seq >= m) bad('last_seq must be below tenant_chain_length', `< ${m}`, `${l.last_seq}`);
      if ((before === undefined) !== (l.first_seq === 0)) bad(l.first_seq === 0 ? 'the chain starts at tenant_seq 0: no entry can come before it' : `the entry before the range (tenant_seq ${l.first_seq - 1}) is missing`);
      if (before && before.tenant_seq !== l.first_seq - 1) bad('before must be the entry at first_seq - 1', `tenant_seq ${l.first_seq - 1}`, `${before.tenant_seq}`);
      if ((after === undefined) !== (l.last_seq === m - 1)) {
        bad(after ? `after is present but the tenant's chain ends at tenant_seq ${m - 1}` : `the entry after the range (tenant_seq ${l.last_seq + 1}) is missing`);
      }
      if (after && after.tenant_seq !== l.last_seq + 1) bad('after must be the entry at last_seq + 1', `tenant_seq ${l.last_seq + 1}`, `${after.tenant_seq}`);
      return;
    }
    // No record of the tenant in the range in this shard: the neighbours must be adjacent.
    if (!before && !after && m !== 0) bad(`no records and no neighbours, but the tenant has ${m} entries in this shard`);
    if (before && !after && before.tenant_seq !== m - 1) bad('with no entry after, before must be the tenant\'s last entry', `tenant_seq ${m - 1}`, `${before.tenant_seq}`);
    if (!before && after && after.tenant_seq !== 0) bad('with no entry before, after must be the tenant\'s first entry', 'tenant_seq 0', `${after.tenant_seq}`);
    if (after && after.tenant_seq >= m) bad('after must be below tenant_chain_length', `< ${m}`, `${after.tenant_seq}`);
    if (before && after) {
      if (after.tenant_seq !== before.tenant_seq + 1) bad('before and after must be adjacent in the tenant chain (nothing in between)', `tenant_seq ${before.tenant_seq + 1}`, `${after.tenant_seq}`);
      if (after.tenant_prev !== l.before!.leaf_hash) bad('after.tenant_prev must be the leaf hash of before', l.before!.leaf_hash, `${after.tenant_prev}`);
      if (after.index <= before.index) bad('after must come after before in the log', `index > ${before.index}`, `${after.index}`);
    }
  }

  private checkBoundaryEntry(l: CompletenessLine, side: 'before' | 'after', b: BoundaryEntry, where: { file: string; line: number }): LedgerEntry {
    const entry = b.entry;
    const record = eventIdOf(entry);
    const at = { ...where, record };
    let bytes: Buffer;
    try {
      bytes = ledgerEntryBytes(entry);
    } catch (e) {
      fail({ code: 'BAD_ENTRY', ...at, message: `${side}: not a valid ledger entry: ${(e as Error).message}` });
    }
    const leaf = leafHash(bytes!);
    if (leaf.toString('hex') !== b.leaf_hash) fail({ code: 'LEAF_HASH_MISMATCH', ...at, expected: b.leaf_hash, found: leaf.toString('hex'), message: `${side}: leaf_hash is not the hash of the entry` });
    if (entry.tenant_id !== this.manifest!.query.tenant) fail({ code: 'WRONG_TENANT', ...at, expected: this.manifest!.query.tenant, found: entry.tenant_id, message: `${side} entry is another tenant's` });
    if (entry.shard !== l.shard) fail({ code: 'BAD_COMPLETENESS', ...at, expected: `shard ${l.shard}`, found: `shard ${entry.shard}`, message: `${side} entry is in another shard` });
    if (entry.index >= l.tree_size) fail({ code: 'BEYOND_ANCHOR', ...at, expected: `index < ${l.tree_size}`, found: `${entry.index}`, message: `${side} entry lies beyond the shard's anchor checkpoint` });
    if (occurredInRange(entry.record, this.manifest!.query)) {
      fail({ code: 'NEIGHBOUR_IN_RANGE', ...at, expected: `occurred_at outside [${this.manifest!.query.from}, ${this.manifest!.query.to})`, found: String((entry.record as { occurred_at?: unknown }).occurred_at), message: `the ${side} neighbour (tenant_seq ${entry.tenant_seq}) is inside the range: it should have been exported as a record` });
    }
    this.checkInclusion(leaf, entry.shard, entry.index, b.tree_size, b.inclusion_proof, at);
    this.counts.boundary_entries++;
    return entry;
  }

  private checkInclusion(leaf: Buffer, shard: number, index: number, treeSize: number, proof: string[], at: Omit<BundleProblem, 'code' | 'message'>): void {
    const cp = this.checkpoints.get(cpKey(shard, treeSize));
    if (!cp) fail({ code: 'UNKNOWN_CHECKPOINT', ...at, message: `the proof cites a checkpoint (shard ${shard}, tree_size ${treeSize}) that is not in checkpoints.jsonl` });
    try {
      verifyInclusion(leaf, index, treeSize, proof.map(hexBytes), cp!.root);
    } catch (e) {
      if (e instanceof MerkleProofError) {
        fail({ code: 'INCLUSION_INVALID', ...at, message: `inclusion proof of leaf ${index} in checkpoint (shard ${shard}, tree_size ${treeSize}) does not verify: ${e.message} (${e.code})` });
      }
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // records.jsonl with proofs.jsonl in lockstep

  private async readRecords(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const m = this.requireManifest(FILE.records);
    const proofs = await this.openProofs();
    let prev: PrevRecord | undefined;
    let pendingGap: BundleProblem | undefined;
    let lineNo = 0;
    for await (const bytes of this.linesOf(entry, digest, FILE.records)) {
      lineNo++;
      const { entry: e, leaf } = this.parseRecord(bytes, lineNo);
      const record = eventIdOf(e);
      const at = { file: FILE.records, line: lineNo, record };
      if (e.tenant_id !== m.query.tenant) fail({ code: 'WRONG_TENANT', ...at, expected: m.query.tenant, found: e.tenant_id, message: 'a record of another tenant' });
      const shard = this.shards.get(e.shard);
      if (!shard || (prev && e.shard < prev.shard)) {
        fail({ code: 'SHARD_ORDER', ...at, message: !shard ? `record of shard ${e.shard}, which the manifest does not list` : `shard ${e.shard} after shard ${prev!.shard}: records are sorted by shard, then tenant_seq` });
      }
      if (prev && e.shard !== prev.shard) {
        if (pendingGap) fail(pendingGap);
        this.closeRecordShard(prev);
        prev = undefined;
      }
      if (pendingGap) {
        // A gap followed by the missing seq is two records swapped, not one left out.
        if (prev && e.tenant_seq < prev.seq) {
          fail({ code: 'OUT_OF_ORDER', ...at, expected: `tenant_seq ${prev.seq + 1} after ${prev.seq}`, found: `tenant_seq ${e.tenant_seq}`, message: `records.jsonl lines ${lineNo - 1} and ${lineNo} are out of order (swapped): tenant_seq ${e.tenant_seq} comes after ${prev.seq}` });
        }
        fail(pendingGap);
      }
      if (e.index >= shard!.manifest.tree_size) {
        fail({ code: 'BEYOND_ANCHOR', ...at, expected: `index < ${shard!.manifest.tree_size}`, found: `${e.index}`, message: `the record lies beyond shard ${e.shard}'s anchor checkpoint` });
      }
      if (prev) pendingGap = this.checkLink(prev, e, at);
      else this.checkSegmentStart(shard!, e, at);
      const inRange = occurredInRange(e.record, m.query);
      if (inRange) {
        this.counts.records_in_range++;
        if (recordMatchesFilters(e.record, m.query.filters)) this.counts.matching++;
      } else {
        this.counts.context_records++;
        if (!prev) fail({ code: 'SEGMENT_NOT_IN_RANGE', ...at, found: String((e.record as { occurred_at?: unknown }).occurred_at), message: `the first record of shard ${e.shard} must be inside the range` });
      }
      await this.checkProof(proofs, lineNo, e, leaf, record);
      shard!.records++;
      this.counts.records++;
      prev = { shard: e.shard, seq: e.tenant_seq, index: e.index, leaf, line: lineNo, eventId: record };
      this.lastInRange = inRange;
      if (this.counts.records % PROGRESS_EVERY === 0) this.opts.onProgress?.({ file: FILE.records, done: this.counts.records, total: m.counts.records });
    }
    if (pendingGap) fail(pendingGap);
    if (prev) this.closeRecordShard(prev);
    const extra = await proofs.next();
    if (!extra.done) fail({ code: 'EXTRA_PROOF', file: FILE.proofs, line: lineNo + 1, message: `proofs.jsonl has more lines than records.jsonl (${lineNo})` });
    this.checkFileDigest(FILE.proofs, proofs.digest);
    this.opts.onProgress?.({ file: FILE.records, done: this.counts.records, total: m.counts.records });
    for (const s of this.shards.values()) {
      const c = s.completeness!;
      if (c.first_seq !== null && s.records === 0) {
        fail({ code: 'RANGE_START_MISSING', file: FILE.records, expected: `records of shard ${s.manifest.shard} from tenant_seq ${c.first_seq} to ${c.last_seq}`, found: 'none', message: `every record of shard ${s.manifest.shard} is missing` });
      }
      if (s.records !== s.manifest.records) {
        fail({ code: 'COUNT_MISMATCH', file: FILE.records, expected: `${s.manifest.records} (manifest)`, found: `${s.records}`, message: `number of records of shard ${s.manifest.shard}` });
      }
    }
    this.checkFileDigest(FILE.records, digest);
  }

  private lastInRange = false;

  private parseRecord(bytes: Buffer, lineNo: number): { entry: LedgerEntry; leaf: Buffer } {
    const value = parseJson(bytes, FILE.records, lineNo) as LedgerEntry;
    const record = eventIdOf(value);
    let canonical: Buffer;
    try {
      canonical = ledgerEntryBytes(value);
    } catch (e) {
      if (e instanceof LedgerEntryError || e instanceof CanonicalizationError) {
        fail({ code: 'BAD_ENTRY', file: FILE.records, line: lineNo, record, message: `not a valid ledger entry: ${e.message} (${e.code})` });
      }
      throw e;
    }
    if (!canonical!.equals(bytes)) fail({ code: 'NON_CANONICAL', file: FILE.records, line: lineNo, record, message: 'the line is not the RFC 8785 canonical form of its entry' });
    return { entry: value, leaf: leafHash(bytes) };
  }

  /** The first record of a shard starts the segment completeness.jsonl announces, linked to `before`. */
  private checkSegmentStart(shard: ShardState, e: LedgerEntry, at: Omit<BundleProblem, 'code' | 'message'>): void {
    const c = shard.completeness!;
    if (c.first_seq === null) {
      fail({ code: 'BAD_COMPLETENESS', ...at, message: `completeness.jsonl says the tenant has no record in the range in shard ${e.shard}, but records.jsonl has some` });
    }
    if (e.tenant_seq !== c.first_seq) {
      const missing = e.tenant_seq > c.first_seq!;
      fail({
        code: missing ? 'RANGE_START_MISSING' : 'BAD_COMPLETENESS', ...at,
        expected: `tenant_seq ${c.first_seq} (completeness.jsonl)`, found: `tenant_seq ${e.tenant_seq}`,
        message: missing
          ? `shard ${e.shard}'s records must start at tenant_seq ${c.first_seq}: ${e.tenant_seq - c.first_seq!} record(s) at the start of the range are missing`
          : `shard ${e.shard}'s records start before the segment completeness.jsonl announces`,
      });
    }
    const expectedPrev = c.before ? c.before.leaf_hash : null;
    if (e.tenant_prev !== expectedPrev) {
      fail({ code: 'PREV_MISMATCH', ...at, expected: `tenant_prev ${expectedPrev}`, found: `${e.tenant_prev}`, message: 'the first record of the shard does not link to the proven entry before the range' });
    }
    if (c.before && e.index <= c.before.entry.index) fail({ code: 'INDEX_NOT_INCREASING', ...at, expected: `index > ${c.before.entry.index}`, found: `${e.index}`, message: 'the first record must come after the entry before the range' });
  }

  /**
   * Chain link from the previous record of the same shard (docs/ledger-format.md §10). A gap is
   * returned, not thrown, so that the next line can tell a swap from a removal.
   */
  private checkLink(prev: PrevRecord, e: LedgerEntry, at: Omit<BundleProblem, 'code' | 'message'>): BundleProblem | undefined {
    if (e.tenant_seq !== prev.seq + 1) {
      if (e.tenant_seq > prev.seq + 1) {
        const n = e.tenant_seq - prev.seq - 1;
        return { code: 'SEQ_GAP', ...at, expected: `tenant_seq ${prev.seq + 1}`, found: `tenant_seq ${e.tenant_seq}`, message: `${n} record(s) of tenant ${e.tenant_id} in shard ${e.shard} are missing after tenant_seq ${prev.seq} (records.jsonl line ${prev.line})` };
      }
      fail({ code: 'OUT_OF_ORDER', ...at, expected: `tenant_seq ${prev.seq + 1}`, found: `tenant_seq ${e.tenant_seq}`, message: `tenant_seq ${e.tenant_seq} comes after ${prev.seq}: records are duplicated or out of order` });
    }
    if (e.tenant_prev !== prev.leaf.toString('hex')) {
      fail({ code: 'PREV_MISMATCH', ...at, expected: `tenant_prev ${prev.leaf.toString('hex')} (leaf hash of line ${prev.line})`, found: `${e.tenant_prev}`, message: 'the record does not link to the previous record of the chain' });
    }
    if (e.index <= prev.index) fail({ code: 'INDEX_NOT_INCREASING', ...at, expected: `index > ${prev.index}`, found: `${e.index}`, message: 'the chain goes backwards in the log' });
    return undefined;
  }

  /** The last record of a shard ends the segment, linked to `after`. */
  private closeRecordShard(last: PrevRecord): void {
    const c = this.shards.get(last.shard)!.completeness!;
    const at = { file: FILE.records, line: last.line, record: last.eventId };
    if (last.seq !== c.last_seq) {
      const missing = last.seq < c.last_seq!;
      fail({
        code: missing ? 'RANGE_END_MISSING' : 'BAD_COMPLETENESS', ...at,
        expected: `tenant_seq ${c.last_seq} (completeness.jsonl)`, found: `tenant_seq ${last.seq}`,
        message: missing
          ? `shard ${last.shard}'s records must end at tenant_seq ${c.last_seq}: ${c.last_seq! - last.seq} record(s) at the end of the range are missing`
          : `shard ${last.shard}'s records go past the segment completeness.jsonl announces`,
      });
    }
    if (!this.lastInRange) fail({ code: 'SEGMENT_NOT_IN_RANGE', ...at, message: `the last record of shard ${last.shard} must be inside the range` });
    if (c.after) {
      if (c.after.entry.tenant_prev !== last.leaf.toString('hex')) {
        fail({ code: 'PREV_MISMATCH', file: FILE.completeness, record: eventIdOf(c.after.entry), expected: `tenant_prev ${last.leaf.toString('hex')} (records.jsonl line ${last.line})`, found: `${c.after.entry.tenant_prev}`, message: `the entry after the range in shard ${last.shard} does not link to the last exported record` });
      }
      if (c.after.entry.index <= last.index) fail({ code: 'INDEX_NOT_INCREASING', file: FILE.completeness, expected: `index > ${last.index}`, found: `${c.after.entry.index}`, message: 'the entry after the range must come after the last record' });
    }
  }

  private async checkProof(proofs: ProofReader, lineNo: number, e: LedgerEntry, leaf: Buffer, record: string | undefined): Promise<void> {
    const next = await proofs.next();
    if (next.done) fail({ code: 'MISSING_PROOF', file: FILE.proofs, line: lineNo, record, message: `proofs.jsonl has no line ${lineNo} for records.jsonl line ${lineNo}` });
    const at = { file: FILE.proofs, line: lineNo, record };
    const value = parseCanonical(next.value!, FILE.proofs, lineNo);
    const defect = proofLineDefect(value);
    if (defect !== null) fail({ code: 'BAD_LINE', ...at, message: defect });
    const p = value as ProofLine;
    if (p.shard !== e.shard || p.index !== e.index) {
      fail({ code: 'PROOF_MISMATCH', ...at, expected: `shard ${e.shard} index ${e.index} (records.jsonl line ${lineNo})`, found: `shard ${p.shard} index ${p.index}`, message: 'the proof is for another leaf than the record on the same line' });
    }
    if (p.leaf_hash !== leaf.toString('hex')) {
      fail({ code: 'LEAF_HASH_MISMATCH', file: FILE.records, line: lineNo, record, expected: `${p.leaf_hash} (proofs.jsonl line ${lineNo})`, found: leaf.toString('hex'), message: 'the record does not hash to the leaf its proof is for: the record was changed' });
    }
    this.checkInclusion(leaf, p.shard, p.index, p.tree_size, p.inclusion_proof, at);
    this.counts.proofs++;
  }

  private async openProofs(): Promise<ProofReader> {
    const archive = archiveEntries(this.open());
    this.closers.push(archive.close);
    for (;;) {
      const { done, value } = await archive.entries.next();
      if (done) fail({ code: 'MISSING_FILE', file: FILE.proofs, message: 'the bundle has no proofs.jsonl' });
      if (value!.name === FILE.proofs) {
        const digest = new FileDigest();
        const it = this.linesOf(value!, digest, FILE.proofs);
        return { next: () => it.next(), digest };
      }
      for await (const _ of value!.stream) { /* skip to proofs.jsonl */ }
    }
  }

  private async *linesOf(entry: ArchiveEntry, digest: FileDigest, file: string): AsyncGenerator<Buffer> {
    try {
      yield* lines(entry.stream, digest, this.maxLine);
    } catch (e) {
      if (e instanceof LineError) fail({ code: 'BAD_LINE', file, line: e.line, message: e.message });
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------

  private checkTotals(): void {
    const m = this.manifest!;
    const c = this.counts;
    const pairs: Array<[string, number, number]> = [
      ['records', c.records, m.counts.records],
      ['records_in_range', c.records_in_range, m.counts.records_in_range],
      ['matching', c.matching, m.counts.matching],
      ['shards', c.shards, m.counts.shards],
    ];
    for (const [what, found, expected] of pairs) {
      if (found !== expected) fail({ code: 'COUNT_MISMATCH', file: FILE.manifest, expected: `${what} ${expected} (manifest)`, found: `${found}`, message: `the manifest's ${what} count is wrong` });
    }
  }

  private shardSummary(s: ShardState): ShardSummary {
    const c = s.completeness;
    return {
      shard: s.manifest.shard,
      tree_size: s.manifest.tree_size,
      anchor_signed_at: s.anchorTimestamp ?? '',
      records: s.records,
      first_seq: c?.first_seq ?? null,
      last_seq: c?.last_seq ?? null,
      before_seq: c?.before?.entry.tenant_seq ?? null,
      after_seq: c?.after?.entry.tenant_seq ?? null,
      tenant_chain_length: c?.tenant_chain_length ?? 0,
      tail_attested: c !== undefined && c.after === null,
    };
  }
}

interface ProofReader {
  next(): Promise<IteratorResult<Buffer>>;
  digest: FileDigest;
}

function fail(problem: BundleProblem): never {
  throw new BundleVerificationError(problem);
}

const cpKey = (shard: number, size: number) => `${shard}/${size}`;

function hexBytes(h: string): Buffer {
  return Buffer.from(h, 'hex');
}

function eventIdOf(entry: unknown): string | undefined {
  const id = (entry as { record?: { event_id?: unknown } })?.record?.event_id;
  return typeof id === 'string' ? id : undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseJson(bytes: Buffer, file: string, line: number | undefined): unknown {
  try {
    return JSON.parse(UTF8.decode(bytes)) as unknown;
  } catch (e) {
    fail({ code: 'BAD_LINE', file, line, message: `not UTF-8 JSON: ${(e as Error).message}` });
  }
}

/** Parses `bytes` and requires them to be exactly the canonical JSON of what they parse to. */
function parseCanonical(bytes: Buffer, file: string, line: number | undefined): unknown {
  const value = parseJson(bytes, file, line);
  let canonical: Buffer | undefined;
  try {
    canonical = canonicalBytes(value);
  } catch {
    canonical = undefined;
  }
  if (!canonical || !canonical.equals(bytes)) fail({ code: 'NON_CANONICAL', file, line, message: 'not in RFC 8785 canonical form' });
  return value;
}
