/**
 * Blocks of whole lines checked by worker threads (block-worker.ts), answers taken in file
 * order. The main thread cuts a file's bytes at the last newline of each chunk, hands the
 * block to the next worker, and keeps at most a few blocks per worker in flight, so memory
 * stays flat however long the file. Without workers (none asked for, or the compiled worker
 * is absent, as under ts-jest) blocks are checked in this thread by the same code.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FileDigest } from '../bundle-archive.js';
import { BlockChecker, type BlockAnswer, type BlockKind, type BlockParams } from './line-blocks.js';

const BLOCK_WORKER = new URL('./block-worker.js', import.meta.url);
/** Blocks in flight per worker: enough to keep each busy while the main thread reads on. */
const IN_FLIGHT_PER_WORKER = 3;
/**
 * A worker's heap: it holds one block's lines and results (a few MiB live), but left to
 * itself V8 lets a worker's old generation grow with the file (peak RSS rose from 169 to
 * 248 MiB between 100k and 300k records); a bound makes it collect instead. A worker that
 * still ran out would answer its blocks as failed, and the reference pass would decide.
 */
const WORKER_HEAP = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };
/** Bytes gathered before a block is handed over: fewer, larger messages. */
const BLOCK_BYTES = 1024 * 1024;
/** Spare block memories kept (as many as can be in flight, and one being filled). */
const MAX_SPARE = 16;

export class BlockPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, (a: BlockAnswer) => void>();
  private readonly inline?: BlockChecker;
  /** Block memory given back by the workers, for the next blocks. */
  private readonly spare: ArrayBuffer[] = [];
  private nextId = 0;
  private closed = false;

  /** `blockBytes`: bytes gathered before a block is handed over (smaller in tests). */
  constructor(
    params: BlockParams,
    threads: number,
    private readonly blockBytes = BLOCK_BYTES,
  ) {
    const usable = threads > 0 && existsSync(fileURLToPath(BLOCK_WORKER));
    if (!usable) {
      this.inline = new BlockChecker(params);
      return;
    }
    // Not the parent's flags: `--input-type` (a script given with -e) would stop the worker.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    for (let i = 0; i < threads; i++) {
      const w = new Worker(BLOCK_WORKER, { workerData: params, execArgv, resourceLimits: WORKER_HEAP });
      w.on('message', (m: { id: number; answer: BlockAnswer; memory?: ArrayBuffer }) =>
        this.answer(m.id, m.answer, m.memory),
      );
      // A worker that fails answers every block it held as failed (the reference pass then decides).
      w.on('error', () => this.stop());
      w.on('exit', () => this.stop());
      this.workers.push(w);
    }
  }

  /**
   * The answers for the blocks of `chunks` (a file's bytes, fed to `digest`), in order. A
   * block that fails, a last line without a newline or a line longer than `maxLine` ends the
   * sequence with a failed answer.
   */
  async *answers(
    kind: BlockKind,
    chunks: AsyncIterable<Uint8Array>,
    digest: FileDigest,
    maxLine: number,
  ): AsyncGenerator<BlockAnswer> {
    const limit = Math.max(1, this.workers.length) * IN_FLIGHT_PER_WORKER;
    const inFlight: Array<Promise<BlockAnswer>> = [];
    // Chunks gathered until a block is worth a message; what follows the last newline waits for the next block.
    let pieces: Buffer[] = [];
    let gathered = 0;
    for await (const raw of chunks) {
      digest.update(raw);
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      pieces.push(chunk);
      gathered += chunk.length;
      if (gathered < this.blockBytes) continue;
      const nl = chunk.lastIndexOf(0x0a);
      if (nl === -1) {
        if (gathered > maxLine + this.blockBytes) {
          yield { failed: true };
          return;
        }
        continue;
      }
      const cut = gathered - chunk.length + nl + 1;
      const block = this.blockOf(cut);
      let at = 0;
      for (const p of pieces) {
        const n = Math.min(p.length, cut - at);
        block.set(n === p.length ? p : p.subarray(0, n), at);
        at += n;
      }
      const rest = chunk.subarray(nl + 1);
      // Copied: the stream may reuse the chunk's memory.
      pieces = rest.length > 0 ? [Buffer.from(rest)] : [];
      gathered = rest.length;
      inFlight.push(this.submit(kind, block));
      while (inFlight.length >= limit) yield await inFlight.shift()!;
    }
    if (gathered > 0) {
      // The last block: every line must end with a newline (the checker refuses it otherwise).
      const block = this.blockOf(gathered);
      let at = 0;
      for (const p of pieces) {
        block.set(p, at);
        at += p.length;
      }
      inFlight.push(this.submit(kind, block));
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  }

  close(): void {
    for (const w of this.workers) void w.terminate();
    this.stop();
  }

  /**
   * A block of `size` bytes: the memory of a block the workers gave back when it is large
   * enough (fresh memory costs page faults on every block), else new memory.
   */
  private blockOf(size: number): Buffer {
    const spare = this.spare.pop();
    if (spare !== undefined && spare.byteLength >= size) return Buffer.from(spare, 0, size);
    return Buffer.from(new ArrayBuffer(Math.max(size, this.blockBytes + 256 * 1024)), 0, size);
  }

  /** Never rejects: a block that cannot be checked is answered as failed. */
  private submit(kind: BlockKind, block: Buffer): Promise<BlockAnswer> {
    if (this.inline) {
      const answer = this.inline.check(kind, block);
      this.spare.push(block.buffer as ArrayBuffer);
      return Promise.resolve(answer);
    }
    if (this.closed) return Promise.resolve({ failed: true });
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      const memory = block.buffer as ArrayBuffer;
      worker.postMessage({ id, kind, memory, length: block.length }, [memory]);
    });
  }

  private answer(id: number, a: BlockAnswer, memory: ArrayBuffer | undefined): void {
    if (memory !== undefined && this.spare.length < MAX_SPARE) this.spare.push(memory);
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(a);
  }

  private stop(): void {
    this.closed = true;
    for (const resolve of this.waiting.values()) resolve({ failed: true });
    this.waiting.clear();
  }
}
