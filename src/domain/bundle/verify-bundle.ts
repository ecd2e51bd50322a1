/**
 * The offline verifier of audit bundles (docs/bundle-format.md §8): no database, no network,
 * only the bundle and a JWKS. Memory holds a few blocks of lines, the checkpoints of the bundle
 * (roots, for the inclusion proofs) and one summary per shard, however many records it has.
 *
 * Two passes decide alike. The single pass reads the tar.gz once, front to back: the lines of
 * records.jsonl and proofs.jsonl are checked by worker threads a block at a time
 * (verifier/block-pool.ts), the chain checks stay on this thread, and each proof line is matched
 * to the record on the same line through the SHA-256 of both files' (shard, index, leaf)
 * sequences. It only ever accepts: whatever it does not accept, the reference pass reads the
 * bundle again, this time opening it a second time to read proofs.jsonl in lockstep with
 * records.jsonl, and stops at the first problem with its name. So every verdict that is not
 * ok, and every problem code, is the reference pass's.
 *
 * It stops at the first problem and names it: file, line, record, what was expected and what
 * was found, with a stable code. Content is checked line by line before a file's hash is
 * compared with the manifest at the end of that file, so a changed record is reported as the
 * record it is, not only as "records.jsonl has the wrong hash".
 *
 * This module walks the archive and hands each file to the check of its part (verifier/).
 */
import {
  ArchiveError,
  archiveEntries,
  drain,
  FileDigest,
  readWhole,
  type ArchiveEntry,
  type BundleOpener,
} from './bundle-archive.js';
import { plainArchiveEntries } from './plain-tar-gz.js';
import { bundleEntryOrder, FILE, type Manifest } from './bundle-format.js';
import {
  BundleContext,
  type BundleCounts,
  type ShardState,
  type VerifyBundleOptions,
} from './verifier/bundle-context.js';
import { BundleVerificationError, fail, type BundleProblem } from './verifier/bundle-problem.js';
import { CheckpointsCheck } from './verifier/checkpoints-check.js';
import { CheckpointNotesCheck, type AnchorCosigners } from './verifier/checkpoint-notes-check.js';
import { CompletenessCheck } from './verifier/completeness-check.js';
import { ManifestCheck } from './verifier/manifest-check.js';
import { RecordsCheck, SinglePassRejected } from './verifier/records-check.js';
import { BlockPool } from './verifier/block-pool.js';
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';

export type { VerifyBundleOptions, VerifyProgress } from './verifier/bundle-context.js';
export {
  BundleVerificationError,
  describeProblem,
  type BundleProblem,
  type BundleProblemCode,
} from './verifier/bundle-problem.js';

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
  counts: BundleCounts;
  shards: ShardSummary[];
  /** With a witness policy: each shard's anchor and the policy's witnesses that cosigned it. */
  witnessed?: { quorum: number; anchors: AnchorCosigners[] };
  warnings: string[];
}

const SMALL_FILE_MAX = 64 * 1024 * 1024;

/** Block workers of the single pass: one per core, at most four (the main thread reads and inflates). */
const MAX_BLOCK_THREADS = 4;

/**
 * Verifies the bundle `open()` streams (called once by a single pass that accepts, else up to
 * twice more: see the module comment). Resolves with the verdict; never rejects for a bad
 * bundle (only for a programming error).
 */
export async function verifyBundle(open: BundleOpener, opts: VerifyBundleOptions = {}): Promise<BundleVerdict> {
  if (opts.singlePass !== false) {
    const fast = await verifySinglePass(open, opts);
    if (fast !== undefined) return fast;
  }
  return verifyOnce(open, opts, undefined);
}

/** The single pass's verdict when it accepts the bundle, else undefined (exported for tests). */
export async function verifySinglePass(
  open: BundleOpener,
  opts: VerifyBundleOptions = {},
): Promise<BundleVerdict | undefined> {
  const threads = opts.threads ?? Math.min(MAX_BLOCK_THREADS, availableParallelism());
  const verdict = await verifyOnce(open, opts, threads).catch(() => undefined);
  return verdict?.ok ? verdict : undefined;
}

/** One pass: the single pass with `threads` block workers, or the reference pass (undefined). */
async function verifyOnce(
  open: BundleOpener,
  opts: VerifyBundleOptions,
  threads: number | undefined,
): Promise<BundleVerdict> {
  const v = new BundleVerifier(open, opts, threads);
  try {
    await v.run();
    return v.verdict(undefined);
  } catch (e) {
    if (e instanceof BundleVerificationError) return v.verdict(e.problem);
    if (e instanceof ArchiveError) return v.verdictOfWholeFiles({ code: 'UNREADABLE_ARCHIVE', message: e.message });
    throw e;
  } finally {
    v.close();
  }
}

/** Walks the archive: each entry in its place, read by the check of its part, then the totals. */
class BundleVerifier {
  private readonly ctx: BundleContext;
  private readonly manifest: ManifestCheck;
  private readonly checkpoints: CheckpointsCheck;
  private readonly notes: CheckpointNotesCheck;
  private readonly completeness: CompletenessCheck;
  private readonly records: RecordsCheck;
  /** Single pass: the block workers (from records.jsonl on), the records' (shard, index, leaf) sequence. */
  private pool?: BlockPool;
  private sequence?: { hash: Hash; lines: number };
  /** The verdict as the files read whole left it (see verdictOfWholeFiles). */
  private wholeFiles: BundleVerdict;

  constructor(
    private readonly open: BundleOpener,
    opts: VerifyBundleOptions,
    private readonly singlePassThreads: number | undefined,
  ) {
    this.ctx = new BundleContext(opts);
    this.manifest = new ManifestCheck(this.ctx);
    this.checkpoints = new CheckpointsCheck(this.ctx);
    this.notes = new CheckpointNotesCheck(this.ctx, this.checkpoints);
    this.completeness = new CompletenessCheck(this.ctx, this.checkpoints);
    this.records = new RecordsCheck(this.ctx, this.checkpoints, open);
    this.wholeFiles = this.verdict(undefined);
  }

  close(): void {
    this.ctx.close();
  }

  async run(): Promise<void> {
    // The single pass reads plain archives only, into reused memory; the reference pass reads any.
    const archive =
      this.singlePassThreads !== undefined ? plainArchiveEntries(this.open()) : archiveEntries(this.open());
    this.ctx.onClose(archive.close);
    let position = 0;
    for (;;) {
      const { done, value: entry } = await archive.entries.next();
      if (done) break;
      checkEntryName(entry, position, bundleEntryOrder(this.ctx.manifest?.format_version));
      await this.readEntry(entry);
      position++;
      this.ctx.counts.files++;
      this.wholeFiles = this.verdict(undefined);
    }
    const order = bundleEntryOrder(this.ctx.manifest?.format_version);
    if (position < order.length) {
      const file = order[position];
      fail({ code: 'MISSING_FILE', file, message: `the bundle has no ${file} (it ends after ${position} files)` });
    }
    this.checkTotals();
    if (this.ctx.opts.witnessPolicy && this.ctx.manifest!.format_version === 1) {
      const message = `the bundle (format_version 1) carries no cosigned checkpoints, and the witness policy requires ${this.ctx.opts.witnessPolicy.quorum}`;
      fail({ code: 'QUORUM_NOT_MET', file: FILE.manifest, message });
    }
  }

  private async readEntry(entry: ArchiveEntry): Promise<void> {
    this.guardSize(entry);
    const digest = new FileDigest();
    switch (entry.name) {
      case FILE.readme:
        this.manifest.rememberReadme(digest);
        if ((await readWhole(entry.stream, digest, SMALL_FILE_MAX)) === undefined) tooLarge(entry.name);
        return;
      case FILE.manifest:
        return this.manifest.readManifest(await readSmall(entry, digest));
      case FILE.manifestJws:
        return this.manifest.readManifestJws(await readSmall(entry, digest));
      case FILE.jwks:
        return this.manifest.readJwks(await readSmall(entry, digest), digest);
      case FILE.checkpoints:
        return this.checkpoints.read(entry, digest);
      case FILE.checkpointNotes:
        return this.notes.read(entry, digest);
      case FILE.completeness:
        return this.completeness.read(entry, digest);
      case FILE.records:
        if (this.singlePassThreads !== undefined) return this.readRecordBlocks(entry, digest);
        return this.records.read(entry, digest);
      case FILE.proofs:
        if (this.singlePassThreads !== undefined) {
          if (!this.pool || !this.sequence) throw new SinglePassRejected(FILE.proofs);
          const { hash, lines } = this.sequence;
          return this.records.readProofBlocks(entry, digest, this.pool, { lines, sequence: hash.digest() });
        }
        // Checked in step with records.jsonl, from a second pass; here only its bytes are read.
        await drain(entry.stream, digest);
        return this.ctx.checkFileDigest(FILE.proofs, digest);
    }
  }

  private async readRecordBlocks(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const m = this.ctx.requireManifest(FILE.records);
    const roots = this.checkpoints.packedRoots();
    const pool = new BlockPool({ query: m.query, roots, maxLine: this.ctx.maxLineBytes }, this.singlePassThreads!);
    this.pool = pool;
    this.ctx.onClose(() => pool.close());
    const hash = createHash('sha256');
    const lines = await this.records.readBlocks(entry, digest, pool, hash);
    this.sequence = { hash, lines };
  }

  /** A file far larger than the signed manifest says is refused before it is read (gzip bombs). */
  private guardSize(entry: ArchiveEntry): void {
    const listed = this.ctx.manifest?.files.find((f) => f.name === entry.name);
    if (listed && entry.size > listed.size * 2 + 1024 * 1024) {
      fail({
        code: 'FILE_SIZE_MISMATCH',
        file: entry.name,
        expected: `${listed.size} bytes`,
        found: `${entry.size} bytes`,
        message: `${entry.name} is far larger than the manifest says`,
      });
    }
  }

  private checkTotals(): void {
    const m = this.ctx.manifest!;
    const c = this.ctx.counts;
    const pairs: Array<[string, number, number]> = [
      ['records', c.records, m.counts.records],
      ['records_in_range', c.records_in_range, m.counts.records_in_range],
      ['matching', c.matching, m.counts.matching],
      ['shards', c.shards, m.counts.shards],
    ];
    for (const [what, found, expected] of pairs) {
      if (found !== expected) {
        fail({
          code: 'COUNT_MISMATCH',
          file: FILE.manifest,
          expected: `${what} ${expected} (manifest)`,
          found: `${found}`,
          message: `the manifest's ${what} count is wrong`,
        });
      }
    }
  }

  /**
   * The verdict on an archive that breaks off inside a file: what the files before it
   * established, nothing of the broken one. How much of that file's start reached its check
   * before the archive's error depends on how the bytes arrived (chunking, timing: tar-stream
   * drops what an entry holds unread when the archive fails), so counting it would make the
   * same bytes give different verdicts.
   */
  verdictOfWholeFiles(problem: BundleProblem): BundleVerdict {
    return { ...this.wholeFiles, ok: false, problem };
  }

  verdict(problem: BundleProblem | undefined): BundleVerdict {
    const m = this.ctx.manifest;
    return {
      ok: problem === undefined,
      problem,
      export_id: m?.export_id,
      origin: m?.origin,
      query: m?.query,
      created_at: m?.created_at,
      keys: {
        source: this.ctx.opts.trustedJwks ? 'trusted' : 'bundle',
        manifest_kid: this.manifest.manifestKid,
        checkpoint_kids: [...this.checkpoints.kids].sort(),
      },
      counts: { ...this.ctx.counts },
      shards: [...this.ctx.shards.values()].map(shardSummary),
      ...(this.ctx.opts.witnessPolicy
        ? { witnessed: { quorum: this.ctx.opts.witnessPolicy.quorum, anchors: [...this.notes.anchors] } }
        : {}),
      warnings: [...this.ctx.warnings],
    };
  }
}

/** The entry at `position` must be the file the format puts there. */
function checkEntryName(entry: ArchiveEntry, position: number, order: readonly string[]): void {
  const expected = order[position];
  if (entry.name === expected) {
    if (entry.type !== 'file') {
      fail({ code: 'NOT_A_FILE', file: entry.name, message: `${entry.name} is a ${entry.type}, not a regular file` });
    }
    return;
  }
  if (!order.includes(entry.name)) {
    const message = `${entry.name} is not part of the bundle format and not listed in the manifest: a file was added`;
    fail({ code: 'UNEXPECTED_FILE', file: entry.name, message });
  }
  if (expected === undefined) {
    fail({
      code: 'UNEXPECTED_FILE',
      file: entry.name,
      message: `a second ${entry.name} after the last file of the bundle`,
    });
  }
  const message = `file ${position + 1} of the archive must be ${expected}`;
  fail({ code: 'FILE_OUT_OF_ORDER', file: entry.name, expected, found: entry.name, message });
}

async function readSmall(entry: ArchiveEntry, digest: FileDigest): Promise<Buffer> {
  const bytes = await readWhole(entry.stream, digest, SMALL_FILE_MAX);
  if (bytes === undefined) tooLarge(entry.name);
  return bytes!;
}

function tooLarge(file: string): never {
  fail({ code: 'FILE_TOO_LARGE', file, message: `${file} is larger than ${SMALL_FILE_MAX} bytes` });
}

function shardSummary(s: ShardState): ShardSummary {
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
