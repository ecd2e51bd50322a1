/**
 * The proof worker: a thread that reads the bundle file a second time up to proofs.jsonl and,
 * line by line, does what needs no record: the canonical shape of the line and its inclusion
 * proof against the checkpoints' roots (for the line's own leaf_hash). It hands the main
 * thread, in order, either the checked line's position and leaf hash, or the raw line when
 * any check failed or could not be decided (the main thread then checks that line itself, so
 * problems are reported exactly as without the worker). The main thread keeps the comparison
 * with records.jsonl. Batches wait for credit: the worker never runs far ahead (flat memory).
 *
 * Protocol (worker → main): ready | missing | batch {items} | end {bytes, sha256} |
 * lineError {code, line, message} | archiveError {message} | error {message}.
 * (main → worker): credit.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { InclusionRunVerifier } from '../../merkle/inclusion-run.js';
import { ArchiveError, archiveEntries, FileDigest, LineError, lines, type ArchiveEntry } from '../bundle-archive.js';
import { canonicalProofLine, FILE } from '../bundle-format.js';
import { RootTable, type PackedRoots } from './root-table.js';

export interface ProofWorkerData {
  file: string;
  roots: PackedRoots;
  maxLine: number;
}

/** A checked line: [shard, index, leaf_hash, tree_size]; a raw line: its bytes. */
export type ProofWorkerItem = [number, number, string, number] | Uint8Array;

export const PROOF_BATCH = 1024;
/** Batches the worker may post before the main thread has taken any. */
export const PROOF_CREDIT = 8;

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as ProofWorkerData;
  const roots = RootTable.fromPacked(data.roots);
  let credit = PROOF_CREDIT;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credit++;
    wake?.();
  });
  const post = async (items: ProofWorkerItem[]) => {
    while (credit === 0) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    credit--;
    port.postMessage({ type: 'batch', items });
  };

  const archive = archiveEntries(createReadStream(data.file));
  let batch: ProofWorkerItem[] = [];
  try {
    let proofs: ArchiveEntry | undefined;
    while (proofs === undefined) {
      const { done, value } = await archive.entries.next();
      if (done) {
        port.postMessage({ type: 'missing' });
        return;
      }
      if (value.name === FILE.proofs) proofs = value;
      else
        for await (const _ of value.stream) {
          /* skip to proofs.jsonl */
        }
    }
    port.postMessage({ type: 'ready' });
    const digest = new FileDigest();
    const run = new InclusionRunVerifier();
    for await (const bytes of lines(proofs.stream, digest, data.maxLine)) {
      batch.push(checkedLine(bytes, roots, run) ?? Uint8Array.from(bytes));
      if (batch.length === PROOF_BATCH) {
        await post(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await post(batch);
    port.postMessage({ type: 'end', bytes: digest.bytes, sha256: digest.hex() });
  } catch (e) {
    if (batch.length > 0) await post(batch);
    reportFailure(port, e);
  } finally {
    archive.close();
  }
}

/** The line's position and leaf hash when it is canonical and its proof verifies; else undefined. */
function checkedLine(bytes: Buffer, roots: RootTable, run: InclusionRunVerifier): ProofWorkerItem | undefined {
  const p = canonicalProofLine(bytes.toString('latin1'));
  if (p === undefined) return undefined;
  const root = roots.get(p.shard, p.tree_size);
  if (root === undefined) return undefined;
  try {
    run.verify(Buffer.from(p.leaf_hash, 'hex'), p.index, p.tree_size, p.inclusion_proof, root);
  } catch {
    return undefined;
  }
  return [p.shard, p.index, p.leaf_hash, p.tree_size];
}

function reportFailure(port: NonNullable<typeof parentPort>, e: unknown): void {
  if (e instanceof LineError) port.postMessage({ type: 'lineError', code: e.code, line: e.line, message: e.message });
  else if (e instanceof ArchiveError) port.postMessage({ type: 'archiveError', message: e.message });
  else port.postMessage({ type: 'error', message: (e as Error)?.message ?? String(e) });
}

void main();
