/**
 * Streaming reads of a bundle's tar.gz: entries one at a time (tar-stream over node:zlib, the
 * reference pass's reader; the single pass reads plain archives with plain-tar-gz.ts), each
 * either buffered whole (small files, with a cap) or split into lines with its SHA-256
 * computed on the way. Nothing here holds more than one line of a large file.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { createGunzip, type Gunzip } from 'node:zlib';
import tar from 'tar-stream';
import { AppError } from '../../common/app-error.js';

const GUNZIP_CHUNK = 256 * 1024;

/** A source of the bundle's bytes: a fresh stream over the whole tar.gz on each call. */
export type BundleOpener = () => Readable;

export interface ArchiveEntry {
  name: string;
  type: string;
  /** Size from the tar header. */
  size: number;
  stream: AsyncIterable<Uint8Array> & { resume(): unknown };
  /**
   * The same bytes as views of memory the reader reuses, each valid until the next is asked
   * for (plain-tar-gz.ts; absent here): for a reader that copies what it keeps.
   */
  transientChunks?: AsyncIterable<Uint8Array>;
}

/**
 * The entries of the tar.gz read from `source`, in archive order. Each entry's stream must be
 * consumed (or resumed) before the next one is asked for. Call `close()` when stopping early.
 *
 * A broken archive fails the same way however its bytes arrive. Every byte gunzip inflated
 * before its error reaches tar-stream (a destroyed stream drops what it holds unread, and how
 * much that is depends on chunking and timing), every entry whose data is whole is delivered,
 * and every ArchiveError carries the archive's first error: the gzip stream's, else the tar's.
 * Only the entry the archive breaks off in may lose a varying part of its start; the verifier
 * counts nothing of that entry.
 */
export function archiveEntries(source: Readable): { entries: AsyncIterator<ArchiveEntry>; close(): void } {
  // Large output chunks: each chunk costs a callback and a push through tar-stream on the main thread.
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  const extract = tar.extract();
  let sourceError: Error | undefined;
  let gzipError: Error | undefined;
  let tarError: Error | undefined;
  extract.on('error', (e: Error) => (tarError ??= e));
  const extractClosed = new Promise<void>((resolve) => extract.on('close', () => resolve()));
  void inflateInFixedBlocks(source, gunzip).catch((e: Error) => {
    sourceError = e;
    extract.destroy(e);
  });
  // gunzip -> tar-stream by hand, with backpressure, so that an error of gunzip's can hand over
  // what it inflated before it (read() still returns a destroyed stream's buffer) and end the tar.
  gunzip.on('data', (chunk: Buffer) => {
    if (!extract.write(chunk)) {
      gunzip.pause();
      extract.once('drain', () => gunzip.resume());
    }
  });
  const endTar = () => (extract as unknown as { end(): void }).end();
  gunzip.on('end', endTar);
  gunzip.on('error', (e: Error) => {
    gzipError = e;
    for (let chunk: Buffer | null; (chunk = gunzip.read() as Buffer | null) !== null;) extract.write(chunk);
    endTar();
  });
  // tar-stream reports a bad tar (a header that does not parse, data that ends inside a file) as
  // a plain Error from the next entry or from the entry being read (an entry destroyed along
  // with the archive may only say "Stream was destroyed"), so the error to report is chosen once
  // the archive has closed, by where it sits in the bytes: a complaint of tar-stream's about
  // bytes it had comes first; its end-of-data error when gunzip failed is gunzip's error. A
  // failing source is not the archive's fault.
  const unreadable = async (e: unknown): Promise<unknown> => {
    if (!sourceError) await extractClosed;
    if (sourceError) return sourceError;
    const tarEndedByGzip = gzipError !== undefined && tarError?.message === TAR_END_OF_DATA;
    const first = (tarEndedByGzip ? undefined : tarError) ?? gzipError ?? (e as Error);
    return new ArchiveError(`not a readable tar.gz: ${first.message}`);
  };
  const iterator = extract[Symbol.asyncIterator]();
  return {
    entries: {
      next: async (): Promise<IteratorResult<ArchiveEntry>> => {
        const r = await iterator.next().catch(async (e: unknown) => Promise.reject(await unreadable(e)));
        if (r.done) {
          // All the tar there is, but the gzip stream around it is broken (cut, bad checksum).
          if (gzipError) throw await unreadable(gzipError);
          return { done: true, value: undefined };
        }
        const h = r.value.header;
        const entry = r.value as unknown as ArchiveEntry['stream'];
        const stream = {
          resume: () => entry.resume(),
          async *[Symbol.asyncIterator]() {
            try {
              yield* entry;
            } catch (e) {
              throw await unreadable(e);
            }
          },
        };
        return { done: false, value: { name: h.name, type: h.type ?? 'file', size: h.size ?? 0, stream } };
      },
    },
    close: () => {
      source.destroy();
      gunzip.destroy();
      extract.destroy();
    },
  };
}

/** tar-stream's error when the tar ends inside a file or header. */
const TAR_END_OF_DATA = 'Unexpected end of data';

/** Compressed bytes per gunzip write (a file stream's chunk, so a file's chunks pass as they are). */
const INFLATE_BLOCK = 64 * 1024;

/**
 * Writes `source` into `gunzip` in blocks of INFLATE_BLOCK bytes (the last one shorter), and
 * ends it only once the last block is inflated. What gunzip emits before an error then depends
 * on the bytes alone: zlib loses the output of the call that fails, and a call's input, and
 * whether it is the finishing one, would otherwise follow the source's chunks and timing.
 * Rejects (and destroys gunzip) if the source fails; resolves early if gunzip fails.
 */
async function inflateInFixedBlocks(source: Readable, gunzip: Gunzip): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lastInflated: Promise<void> = Promise.resolve();
  const write = async (block: Buffer): Promise<boolean> => {
    if (gunzip.destroyed) return false;
    lastInflated = new Promise((resolve) => gunzip.write(block, () => resolve()));
    if (gunzip.writableNeedDrain) await once(gunzip, 'drain').catch(() => undefined);
    return !gunzip.destroyed;
  };
  try {
    for await (const raw of source) {
      let chunk = raw as Buffer;
      while (chunk.length > 0) {
        if (pendingBytes === 0 && chunk.length >= INFLATE_BLOCK) {
          if (!(await write(chunk.subarray(0, INFLATE_BLOCK)))) return;
          chunk = chunk.subarray(INFLATE_BLOCK);
          continue;
        }
        const take = Math.min(chunk.length, INFLATE_BLOCK - pendingBytes);
        pending.push(chunk.subarray(0, take));
        pendingBytes += take;
        chunk = chunk.subarray(take);
        if (pendingBytes === INFLATE_BLOCK) {
          const block = Buffer.concat(pending);
          pending = [];
          pendingBytes = 0;
          if (!(await write(block))) return;
        }
      }
    }
  } catch (e) {
    gunzip.destroy();
    throw e;
  }
  if (pendingBytes > 0 && !(await write(Buffer.concat(pending)))) return;
  // Ended only after the last block is inflated: the finishing call is one of its own, on no input.
  if (gunzip.destroyed) return;
  await Promise.race([lastInflated, once(gunzip, 'close').catch(() => undefined)]);
  if (!gunzip.destroyed) gunzip.end();
}

/** The archive itself is unreadable (bad gzip, bad tar). */
export class ArchiveError extends AppError {
  override readonly name = 'ArchiveError';
  readonly code = 'UNREADABLE_ARCHIVE';
}

/** A file's SHA-256 and size, accumulated while it is read. */
export class FileDigest {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/** A line too long, or a file whose last line has no newline. */
export class LineError extends AppError {
  override readonly name = 'LineError';

  constructor(
    readonly code: 'LINE_TOO_LONG' | 'NO_FINAL_NEWLINE',
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The lines of `chunks`, split at 0x0A only (canonical JSON never contains a raw newline, and
 * a CR is data, not a line end), without the newline. Every byte read is fed to `digest`.
 * Every line, the last one included, must end with a newline; a line longer than `maxLine`
 * bytes is rejected before it is buffered whole.
 */
export async function* lines(
  chunks: AsyncIterable<Uint8Array>,
  digest: FileDigest,
  maxLine: number,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    digest.update(chunk);
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      lineNo++;
      if (pendingBytes + piece.length > maxLine)
        throw new LineError('LINE_TOO_LONG', lineNo, `line ${lineNo} is longer than ${maxLine} bytes`);
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      yield line;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (pendingBytes + rest.length > maxLine)
        throw new LineError('LINE_TOO_LONG', lineNo + 1, `line ${lineNo + 1} is longer than ${maxLine} bytes`);
      // Copy: the chunk's buffer may be reused by the stream after we yield.
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0)
    throw new LineError(
      'NO_FINAL_NEWLINE',
      lineNo + 1,
      `line ${lineNo + 1} does not end with a newline (file truncated?)`,
    );
}

/** The whole content of a small entry, at most `max` bytes, fed to `digest`. */
export async function readWhole(
  chunks: AsyncIterable<Uint8Array>,
  digest: FileDigest,
  max: number,
): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    digest.update(chunk);
    if (digest.bytes > max) return undefined;
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** Reads and discards an entry, feeding `digest`. */
export async function drain(chunks: AsyncIterable<Uint8Array>, digest: FileDigest): Promise<void> {
  for await (const chunk of chunks) digest.update(chunk);
}
