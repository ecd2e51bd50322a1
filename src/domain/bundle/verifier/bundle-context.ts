/**
 * What the checks of one bundle share while it is read: the options, the signed manifest and
 * the keys once they are read, one state per shard, the running counts, and the streams to
 * close at the end.
 */
import type { Jwks } from '../../checkpoint/signing-key.js';
import type { WitnessPolicy } from '../../witness/witness-policy.js';
import { LineError, lines, type ArchiveEntry, type FileDigest } from '../bundle-archive.js';
import type { CompletenessLine, Manifest, ManifestFile } from '../bundle-format.js';
import { fail } from './bundle-problem.js';

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
  /**
   * Require every shard's anchor checkpoint to carry k valid cosignatures of the policy's
   * witnesses (checkpoint-notes.jsonl); a bundle without notes (format version 1) is refused.
   */
  witnessPolicy?: WitnessPolicy;
  onProgress?: (p: VerifyProgress) => void;
  /** Longest accepted line, in bytes. */
  maxLineBytes?: number;
  /**
   * The path of the bundle, when it is a file that the opener reads: proofs.jsonl is then
   * checked in a worker thread that reads the file itself (the main thread keeps records.jsonl).
   * The file must not change while it is verified.
   */
  bundleFile?: string;
  /**
   * The single pass (verify-bundle.ts), on by default; false runs the reference pass only.
   * Either way the verdict is the same.
   */
  singlePass?: boolean;
  /** Worker threads of the single pass (default: one per core, at most four); 0 checks lines in this thread. */
  threads?: number;
}

export interface BundleCounts {
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
}

/** One shard of the manifest, as far as the files read so far describe it. */
export interface ShardState {
  manifest: Manifest['shards'][number];
  completeness?: CompletenessLine;
  anchorTimestamp?: string;
  lastCheckpointSize?: number;
  lastCheckpointRoot?: Buffer;
  records: number;
}

const DEFAULT_MAX_LINE = 128 * 1024 * 1024;

export class BundleContext {
  manifest?: Manifest;
  /** The keys everything is verified with: the trusted JWKS, or else the bundle's jwks.json. */
  jwks?: Jwks;
  readonly shards = new Map<number, ShardState>();
  readonly counts: BundleCounts = {
    records: 0,
    records_in_range: 0,
    context_records: 0,
    matching: 0,
    proofs: 0,
    checkpoints: 0,
    consistency_proofs: 0,
    shards: 0,
    boundary_entries: 0,
    files: 0,
  };
  readonly warnings: string[] = [];
  private readonly closers: Array<() => void> = [];
  readonly maxLineBytes: number;

  constructor(readonly opts: VerifyBundleOptions) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
  }

  /** Where the keys come from, as messages name it. */
  get keySource(): string {
    return this.opts.trustedJwks ? 'the trusted JWKS' : 'jwks.json';
  }

  onClose(close: () => void): void {
    this.closers.push(close);
  }

  close(): void {
    for (const c of this.closers) c();
  }

  /** The manifest, for a file that may only be read once the manifest and keys are known. */
  requireManifest(file: string): Manifest {
    if (!this.manifest || !this.jwks) {
      fail({ code: 'FILE_OUT_OF_ORDER', file, message: `${file} comes before the manifest and jwks.json` });
    }
    return this.manifest!;
  }

  /** Compares a file read to its end with the size and SHA-256 the signed manifest lists. */
  checkFileDigest(file: string, digest: Pick<FileDigest, 'bytes' | 'hex'>): void {
    const listed = this.requireManifest(file).files.find((f) => f.name === file)!;
    const sha = digest.hex();
    if (digest.bytes !== listed.size) {
      fail({
        code: 'FILE_SIZE_MISMATCH',
        file,
        expected: `${listed.size} bytes (manifest)`,
        found: `${digest.bytes} bytes`,
        message: `${file} does not have the size the signed manifest gives it`,
      });
    }
    if (sha !== listed.sha256) failHashMismatch(listed, sha);
  }

  /** The lines of a .jsonl entry; a line too long or unterminated is a BAD_LINE of `file`. */
  async *linesOf(entry: ArchiveEntry, digest: FileDigest, file: string): AsyncGenerator<Buffer> {
    try {
      yield* lines(entry.stream, digest, this.maxLineBytes);
    } catch (e) {
      if (e instanceof LineError) fail({ code: 'BAD_LINE', file, line: e.line, message: e.message });
      throw e;
    }
  }
}

/** FILE_HASH_MISMATCH: the file read, whose SHA-256 is `sha`, is not the one the manifest lists. */
export function failHashMismatch(listed: ManifestFile, sha: string): never {
  const file = listed.name;
  fail({
    code: 'FILE_HASH_MISMATCH',
    file,
    expected: `sha256 ${listed.sha256} (manifest)`,
    found: `sha256 ${sha}`,
    message: `${file} is not the file the signed manifest describes`,
  });
}
