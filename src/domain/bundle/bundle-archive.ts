/**
 * Streaming reads of a bundle's tar.gz: entries one at a time (tar-stream over node:zlib, the
 * reference pass's reader; the single pass reads plain archives with plain-tar-gz.ts), each
 * either buffered whole (small files, with a cap) or split into lines with its SHA-256
 * computed on the way. Nothing here holds more than one line of a large file.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
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
 */
export function archiveEntries(source: Readable): { entries: AsyncIterator<ArchiveEntry>; close(): void } {
  // Large output chunks: each chunk costs a callback and a push through tar-stream on the main thread.
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  const extract = tar.extract();
  const fail = (e: Error) =>
    (extract as unknown as { destroy(e: Error): void }).destroy(
      new ArchiveError(`not a readable tar.gz: ${e.message}`),
    );
  let sourceFailed = false;
  source.on('error', (e: Error) => {
    sourceFailed = true;
    (extract as unknown as { destroy(e: Error): void }).destroy(e);
  });
  gunzip.on('error', fail);
  source.pipe(gunzip).pipe(extract as unknown as NodeJS.WritableStream);
  // tar-stream reports a bad tar (a header that does not parse, data that ends inside a file) as a
  // plain Error, from the next entry or from the entry being read: it is the archive's fault too.
  const unreadable = (e: unknown) =>
    sourceFailed || e instanceof ArchiveError ? e : new ArchiveError(`not a readable tar.gz: ${(e as Error).message}`);
  const iterator = extract[Symbol.asyncIterator]();
  return {
    entries: {
      next: async (): Promise<IteratorResult<ArchiveEntry>> => {
        const r = await iterator.next().catch((e: unknown) => Promise.reject(unreadable(e)));
        if (r.done) return { done: true, value: undefined };
        const h = r.value.header;
        const entry = r.value as unknown as ArchiveEntry['stream'];
        const stream = {
          resume: () => entry.resume(),
          async *[Symbol.asyncIterator]() {
            try {
              yield* entry;
            } catch (e) {
              throw unreadable(e);
            }
          },
        };
        return { done: false, value: { name: h.name, type: h.type ?? 'file', size: h.size ?? 0, stream } };
      },
    },
    close: () => {
      source.destroy();
      gunzip.destroy();
    },
  };
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
