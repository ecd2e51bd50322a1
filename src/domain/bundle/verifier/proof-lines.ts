/**
 * proofs.jsonl, read in step with records.jsonl from a second pass over the archive: line N
 * proves the leaf of records.jsonl line N, so memory holds one line of each.
 */
import type { LedgerEntry } from '../../ledger-entry/ledger-entry.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ArchiveError, archiveEntries, FileDigest, type BundleOpener } from '../bundle-archive.js';
import type { ProofWorkerData, ProofWorkerItem } from './proof-worker.js';
import { canonicalProofLine, FILE, proofLineDefect, type ProofLine } from '../bundle-format.js';
import { InclusionRunVerifier } from '../../merkle/inclusion-run.js';
import type { BundleContext } from './bundle-context.js';
import type { CheckpointRoots } from './checkpoints-check.js';
import { fail, type ProblemPlace } from './bundle-problem.js';
import { parseCanonical } from './bundle-parse.js';
import { checkInclusion } from './inclusion-check.js';

/**
 * One proofs.jsonl line as a source hands it over: its bytes, or (from the proof worker) the
 * line already parsed, found canonical and its inclusion proof verified for its own leaf_hash.
 */
export type ProofItem = { bytes: Buffer } | { checked: Omit<ProofLine, 'inclusion_proof'> };

/** Where proof lines come from: a second pass in this thread, or the proof worker. */
export interface ProofSource {
  /** The next line, or undefined after the last. */
  next(): Promise<ProofItem | undefined>;
  /** proofs.jsonl's size and SHA-256, once next() returned undefined. */
  digest(): Pick<FileDigest, 'bytes' | 'hex'>;
}

export class ProofLines {
  /** Records come in leaf order: their proofs share most of their paths (merkle/inclusion-run.ts). */
  private readonly run = new InclusionRunVerifier();

  constructor(
    private readonly ctx: BundleContext,
    private readonly roots: CheckpointRoots,
    private readonly source: ProofSource,
  ) {}

  /** Opens the archive again and skips to proofs.jsonl. */
  static async open(open: BundleOpener, ctx: BundleContext, roots: CheckpointRoots): Promise<ProofLines> {
    const archive = archiveEntries(open());
    ctx.onClose(archive.close);
    for (;;) {
      const { done, value } = await archive.entries.next();
      if (done) failMissingProofs();
      if (value!.name === FILE.proofs) {
        const digest = new FileDigest();
        const lines = ctx.linesOf(value!, digest, FILE.proofs);
        const source: ProofSource = {
          next: async () => {
            const n = await lines.next();
            return n.done ? undefined : { bytes: n.value };
          },
          digest: () => digest,
        };
        return new ProofLines(ctx, roots, source);
      }
      for await (const _ of value!.stream) {
        /* skip to proofs.jsonl */
      }
    }
  }

  /** The next proof line is for the record on line `lineNo`, whose leaf hash is `leaf`, and verifies. */
  async checkNext(lineNo: number, e: LedgerEntry, leaf: Buffer, record: string | undefined): Promise<void> {
    const next = await this.source.next();
    if (next === undefined) {
      const message = `proofs.jsonl has no line ${lineNo} for records.jsonl line ${lineNo}`;
      fail({ code: 'MISSING_PROOF', file: FILE.proofs, line: lineNo, record, message });
    }
    const at = { file: FILE.proofs, line: lineNo, record };
    const p = 'checked' in next! ? next.checked : parseLine(next!.bytes, at);
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
    // A checked line's proof was verified for its leaf_hash, which is this record's leaf.
    if (!('checked' in next!)) {
      const position = { shard: p.shard, index: p.index, treeSize: p.tree_size };
      checkInclusion(this.roots, leaf, position, (p as ProofLine).inclusion_proof, at, this.run);
    }
    this.ctx.counts.proofs++;
  }

  /** After the last of `records` records: no proof is left over, and the file is the one listed. */
  async checkEnd(records: number): Promise<void> {
    const extra = await this.source.next();
    if (extra !== undefined) {
      const message = `proofs.jsonl has more lines than records.jsonl (${records})`;
      fail({ code: 'EXTRA_PROOF', file: FILE.proofs, line: records + 1, message });
    }
    this.ctx.checkFileDigest(FILE.proofs, this.source.digest());
  }
}

/** The compiled proof worker beside this module; absent when running from TypeScript sources (tests). */
const PROOF_WORKER = new URL('./proof-worker.js', import.meta.url);

/**
 * Proof lines checked by the proof worker (proof-worker.ts) reading `file` itself, or
 * undefined when the worker is not available (the caller then reads them in this thread).
 */
export async function workerProofSource(
  file: string,
  ctx: BundleContext,
  roots: CheckpointRoots,
  maxLine: number,
): Promise<ProofSource | undefined> {
  if (!existsSync(fileURLToPath(PROOF_WORKER))) return undefined;
  const data: ProofWorkerData = { file, roots: roots.packedRoots(), maxLine };
  // Not the parent's flags: `--input-type` (a script given with -e) would stop the worker.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new Worker(PROOF_WORKER, { workerData: data, execArgv });
  ctx.onClose(() => void worker.terminate());
  const batches: ProofWorkerItem[][] = [];
  let ended: { bytes: number; sha256: string } | undefined;
  let failure: (() => never) | undefined;
  let ready: ((state: 'ready' | 'missing' | 'failed') => void) | undefined;
  let wake: (() => void) | undefined;
  const started = new Promise<'ready' | 'missing' | 'failed'>((r) => (ready = r));
  const onMessage = (m: {
    type: string;
    items?: ProofWorkerItem[];
    bytes?: number;
    sha256?: string;
    code?: string;
    line?: number;
    message?: string;
  }) => {
    switch (m.type) {
      case 'ready':
        return ready?.('ready');
      case 'missing':
        return ready?.('missing');
      case 'batch':
        batches.push(m.items!);
        break;
      case 'end':
        ended = { bytes: m.bytes!, sha256: m.sha256! };
        break;
      case 'lineError':
        failure = () => fail({ code: 'BAD_LINE', file: FILE.proofs, line: m.line, message: m.message! });
        break;
      case 'archiveError':
        failure = () => {
          throw new ArchiveError(m.message!);
        };
        break;
      default:
        failure = () => {
          throw new Error(`proof worker: ${m.message}`);
        };
    }
    // A failure before proofs.jsonl is reached is reported when opening, as in this thread.
    ready?.('failed');
    wake?.();
  };
  worker.on('message', onMessage);
  worker.on('error', (e: Error) => onMessage({ type: 'error', message: e.message }));
  worker.on('exit', (code) => {
    if (ended === undefined && failure === undefined) onMessage({ type: 'error', message: `exited (${code})` });
  });
  const state = await started;
  if (state === 'missing') failMissingProofs();
  if (state === 'failed') {
    // Whatever stopped the worker before proofs.jsonl (a worker that cannot start, an archive
    // it cannot read), the second pass in this thread meets it again and reports it as usual.
    await worker.terminate();
    return undefined;
  }
  let current: ProofWorkerItem[] = [];
  let at = 0;
  return {
    next: async () => {
      while (at === current.length) {
        const batch = batches.shift();
        if (batch !== undefined) {
          current = batch;
          at = 0;
          worker.postMessage('credit');
        } else if (failure) failure();
        else if (ended) return undefined;
        else await new Promise<void>((r) => (wake = r));
      }
      const item = current[at++];
      if (Array.isArray(item))
        return { checked: { shard: item[0], index: item[1], leaf_hash: item[2], tree_size: item[3] } };
      return { bytes: Buffer.from(item.buffer, item.byteOffset, item.byteLength) };
    },
    digest: () => ({ bytes: ended!.bytes, hex: () => ended!.sha256 }),
  };
}

export function failMissingProofs(): never {
  fail({ code: 'MISSING_FILE', file: FILE.proofs, message: 'the bundle has no proofs.jsonl' });
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
