/**
 * Blocks of whole lines checked by worker threads (block-worker.ts), answers taken in file
 * order. The main thread cuts a file's bytes at the last newline of each chunk, hands the
 * block to the next worker, and keeps at most a few blocks per worker in flight; the file is
 * read no faster than the answers are taken. Blocks and their results travel in a fixed set
 * of memories passed back and forth (block-worker.ts), so memory stays flat however long the
 * file: nothing per block is left for a garbage collector to free later. Without workers (none
 * asked for, or the compiled worker is absent, as under ts-jest) blocks are checked in this
 * thread by the same code.
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
 * A worker's heap: it holds one block's lines and parsed entries (a few MiB live). Left to
 * itself V8 lets a worker's old generation grow with the file, and its young generation
 * grows to 16 MiB of semi-spaces per worker; a small young generation costs no time here
 * (each line's objects die with the line) and keeps each worker's heap near 12 MiB. A worker
 * that still ran out would answer its blocks as failed, and the reference pass would decide.
 */
const WORKER_HEAP = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 4 };
/** Bytes gathered before a block is handed over: fewer, larger messages. */
const BLOCK_BYTES = 1024 * 1024;
/** A chunk's worth of inflated bytes beyond BLOCK_BYTES (plain-tar-gz.ts: 256 KiB chunks). */
const BLOCK_SLACK = 256 * 1024;

export class BlockPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, (a: BlockAnswer) => void>();
  private readonly inline?: BlockChecker;
  /** Memory given back by the workers (blocks, results), for the next blocks. */
  private readonly spare: ArrayBuffer[] = [];
  /** Blocks in flight at most. */
  private readonly limit: number;
  /**
   * Spare memories kept: two per block in flight (the block, its results), the results the
   * caller is reading and the block being filled. More are never needed at once.
   */
  private readonly maxSpare: number;
  private nextId = 0;
  private closed = false;

  /**
   * `blockBytes`: bytes gathered before a block is handed over (smaller in tests); `workerUrl`:
   * the worker's script (tests give one that misbehaves).
   */
  constructor(
    params: BlockParams,
    threads: number,
    private readonly blockBytes = BLOCK_BYTES,
    workerUrl: URL = BLOCK_WORKER,
  ) {
    const usable = threads > 0 && (workerUrl.protocol !== 'file:' || existsSync(fileURLToPath(workerUrl)));
    this.limit = (usable ? threads : 1) * IN_FLIGHT_PER_WORKER;
    this.maxSpare = 2 * this.limit + 2;
    if (!usable) {
      this.inline = new BlockChecker(params);
      return;
    }
    // Not the parent's flags: `--input-type` (a script given with -e) would stop the worker.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    for (let i = 0; i < threads; i++) {
      const w = new Worker(workerUrl, { workerData: params, execArgv, resourceLimits: WORKER_HEAP });
      w.on('message', (m: { id: number; answer: BlockAnswer; memory?: ArrayBuffer; spare?: ArrayBuffer }) =>
        this.answer(m.id, m.answer, m.memory, m.spare),
      );
      // A worker that fails answers every block it held as failed (the reference pass then
      // decides); so does an answer that cannot be read, which would otherwise leave its block
      // waiting for good (the caller's await would never settle).
      w.on('error', () => this.stop());
      w.on('exit', () => this.stop());
      w.on('messageerror', () => this.stop());
      this.workers.push(w);
    }
  }

  /**
   * The answers for the blocks of `chunks` (a file's bytes, fed to `digest`), in order. A
   * block that fails, a last line without a newline or a line longer than `maxLine` ends the
   * sequence with a failed answer. An answer's memory is reused once the next one is asked
   * for: read it before.
   */
  async *answers(
    kind: BlockKind,
    chunks: AsyncIterable<Uint8Array>,
    digest: FileDigest,
    maxLine: number,
  ): AsyncGenerator<BlockAnswer> {
    const limit = this.limit;
    const inFlight: Array<Promise<BlockAnswer>> = [];
    // Each chunk is copied into the block being filled as it comes (the reader may reuse its
    // memory once the next chunk is asked for); what follows a block's last newline starts the next.
    let block = this.emptyBlock();
    let gathered = 0;
    for await (const chunk of chunks) {
      digest.update(chunk);
      if (gathered + chunk.length > block.length) {
        // A line longer than a block (bounded by the check below): larger memory.
        const larger = Buffer.from(new ArrayBuffer(Math.max(2 * block.length, gathered + chunk.length)));
        block.copy(larger, 0, 0, gathered);
        block = larger;
      }
      block.set(chunk, gathered);
      gathered += chunk.length;
      if (gathered < this.blockBytes) continue;
      const nl = chunk.lastIndexOf(0x0a);
      if (nl === -1) {
        // No newline in this chunk: the line goes on.
        if (gathered > maxLine + this.blockBytes) {
          yield { failed: true };
          return;
        }
        continue;
      }
      const cut = gathered - chunk.length + nl + 1;
      const next = this.emptyBlock();
      block.copy(next, 0, cut, gathered);
      gathered -= cut;
      inFlight.push(this.submit(kind, block.subarray(0, cut)));
      block = next;
      while (inFlight.length >= limit) {
        const a = await inFlight.shift()!;
        yield a;
        this.recycle(a);
      }
    }
    // The last block: every line must end with a newline (the checker refuses it otherwise).
    if (gathered > 0) inFlight.push(this.submit(kind, block.subarray(0, gathered)));
    else this.keep(block.buffer as ArrayBuffer);
    while (inFlight.length > 0) {
      const a = await inFlight.shift()!;
      yield a;
      this.recycle(a);
    }
  }

  close(): void {
    for (const w of this.workers) void w.terminate();
    this.stop();
  }

  /**
   * A block to fill, the whole of its memory: memory the workers gave back when it is large
   * enough (fresh memory costs page faults on every block), else new memory.
   */
  private emptyBlock(): Buffer {
    return Buffer.from(this.memory(this.blockBytes + BLOCK_SLACK));
  }

  /** Spare memory of at least `size` bytes, else new memory of the usual size. */
  private memory(size: number): ArrayBuffer {
    const spare = this.spare.pop();
    if (spare !== undefined && spare.byteLength >= size) return spare;
    return new ArrayBuffer(Math.max(size, this.blockBytes + BLOCK_SLACK));
  }

  private keep(memory: ArrayBuffer | undefined): void {
    if (memory !== undefined && memory.byteLength > 0 && this.spare.length < this.maxSpare) this.spare.push(memory);
  }

  /** An answer the caller has read: its results' memory serves the next blocks. */
  private recycle(a: BlockAnswer): void {
    if (!a.failed) this.keep(a.seq.buffer as ArrayBuffer);
  }

  /** Never rejects: a block that cannot be checked is answered as failed. */
  private submit(kind: BlockKind, block: Buffer): Promise<BlockAnswer> {
    if (this.inline) {
      const out = this.memory(0);
      const answer = this.inline.check(kind, block, out);
      this.keep(block.buffer as ArrayBuffer);
      if (answer.failed || answer.seq.buffer !== out) this.keep(out);
      return Promise.resolve(answer);
    }
    if (this.closed) return Promise.resolve({ failed: true });
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      const memory = block.buffer as ArrayBuffer;
      const out = this.memory(0);
      try {
        worker.postMessage({ id, kind, memory, length: block.length, out }, [memory, out]);
      } catch {
        // A worker that cannot take the block (it is going away): failed, as if it had died.
        this.waiting.delete(id);
        resolve({ failed: true });
      }
    });
  }

  private answer(id: number, a: BlockAnswer, memory: ArrayBuffer | undefined, spare: ArrayBuffer | undefined): void {
    this.keep(memory);
    this.keep(spare);
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
