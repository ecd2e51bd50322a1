/**
 * proofs.jsonl, read in step with records.jsonl from a second pass over the archive: line N
 * proves the leaf of records.jsonl line N, so memory holds one line of each.
 */
import type { LedgerEntry } from '../../ledger-entry/ledger-entry.js';
import { archiveEntries, FileDigest, type BundleOpener } from '../bundle-archive.js';
import { canonicalProofLine, FILE, proofLineDefect, type ProofLine } from '../bundle-format.js';
import { InclusionRunVerifier } from '../../merkle/inclusion-run.js';
import type { BundleContext } from './bundle-context.js';
import type { CheckpointRoots } from './checkpoints-check.js';
import { fail, type ProblemPlace } from './bundle-problem.js';
import { parseCanonical } from './bundle-parse.js';
import { checkInclusion } from './inclusion-check.js';

export class ProofLines {
  /** Records come in leaf order: their proofs share most of their paths (merkle/inclusion-run.ts). */
  private readonly run = new InclusionRunVerifier();

  private constructor(
    private readonly ctx: BundleContext,
    private readonly roots: CheckpointRoots,
    private readonly lines: AsyncGenerator<Buffer>,
    private readonly digest: FileDigest,
  ) {}

  /** Opens the archive again and skips to proofs.jsonl. */
  static async open(open: BundleOpener, ctx: BundleContext, roots: CheckpointRoots): Promise<ProofLines> {
    const archive = archiveEntries(open());
    ctx.onClose(archive.close);
    for (;;) {
      const { done, value } = await archive.entries.next();
      if (done) fail({ code: 'MISSING_FILE', file: FILE.proofs, message: 'the bundle has no proofs.jsonl' });
      if (value!.name === FILE.proofs) {
        const digest = new FileDigest();
        return new ProofLines(ctx, roots, ctx.linesOf(value!, digest, FILE.proofs), digest);
      }
      for await (const _ of value!.stream) {
        /* skip to proofs.jsonl */
      }
    }
  }

  /** The next proof line is for the record on line `lineNo`, whose leaf hash is `leaf`, and verifies. */
  async checkNext(lineNo: number, e: LedgerEntry, leaf: Buffer, record: string | undefined): Promise<void> {
    const next = await this.lines.next();
    if (next.done) {
      const message = `proofs.jsonl has no line ${lineNo} for records.jsonl line ${lineNo}`;
      fail({ code: 'MISSING_PROOF', file: FILE.proofs, line: lineNo, record, message });
    }
    const at = { file: FILE.proofs, line: lineNo, record };
    const p = parseLine(next.value!, at);
    if (p.shard !== e.shard || p.index !== e.index) {
      fail({
        code: 'PROOF_MISMATCH',
        ...at,
        expected: `shard ${e.shard} index ${e.index} (records.jsonl line ${lineNo})`,
        found: `shard ${p.shard} index ${p.index}`,
        message: 'the proof is for another leaf than the record on the same line',
      });
    }
    if (p.leaf_hash !== leaf.toString('hex')) {
      fail({
        code: 'LEAF_HASH_MISMATCH',
        file: FILE.records,
        line: lineNo,
        record,
        expected: `${p.leaf_hash} (proofs.jsonl line ${lineNo})`,
        found: leaf.toString('hex'),
        message: 'the record does not hash to the leaf its proof is for: the record was changed',
      });
    }
    const position = { shard: p.shard, index: p.index, treeSize: p.tree_size };
    checkInclusion(this.roots, leaf, position, p.inclusion_proof, at, this.run);
    this.ctx.counts.proofs++;
  }

  /** After the last of `records` records: no proof is left over, and the file is the one listed. */
  async checkEnd(records: number): Promise<void> {
    const extra = await this.lines.next();
    if (!extra.done) {
      const message = `proofs.jsonl has more lines than records.jsonl (${records})`;
      fail({ code: 'EXTRA_PROOF', file: FILE.proofs, line: records + 1, message });
    }
    this.ctx.checkFileDigest(FILE.proofs, this.digest);
  }
}

function parseLine(bytes: Buffer, at: ProblemPlace & { file: string; line: number }): ProofLine {
  // Proof lines have one shape and one canonical text: a line that is exactly that text needs
  // neither JSON.parse nor re-serialization (non-ASCII is never part of it: latin1 is exact).
  const quick = canonicalProofLine(bytes.toString('latin1'));
  if (quick !== undefined) return quick;
  const value = parseCanonical(bytes, at.file, at.line);
  const defect = proofLineDefect(value);
  if (defect !== null) fail({ code: 'BAD_LINE', ...at, message: defect });
  return value as ProofLine;
}
