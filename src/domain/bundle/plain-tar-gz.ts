/**
 * The single pass's reader of a bundle's tar.gz, for memory that stays flat however large the
 * bundle. node:zlib's streams give every output chunk new memory: dead once copied into a
 * block, it waits for a collection, and while the main thread makes almost no JS objects
 * (proofs.jsonl) nothing collects it before V8's external-memory trigger, some 64 MiB later.
 * Here the Gunzip's own handle inflates into one output memory, reused for every chunk, and
 * the tar is read from it directly: an entry's chunks are views of that memory, valid until
 * the next one is asked for (`transientChunks`), or copies (`stream`, for small files).
 *
 * It reads only the plain archives the exporter writes (ustar regular files, no pax or GNU
 * headers, a name without prefix, octal or base-256 sizes, gzip members that end with the input) and
 * throws on anything else: the single pass then gives way to the reference pass, whose
 * reader (bundle-archive.ts, tar-stream) names the problem. So it never has to agree with
 * tar-stream on an odd archive, only to read a plain one as tar-stream does.
 */
import { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { constants, createGunzip, type Gunzip } from 'node:zlib';
import type { ArchiveEntry } from './bundle-archive.js';

/** Inflated bytes per chunk (the one output memory). */
const OUT_BYTES = 256 * 1024;
/** Compressed bytes per read (the one input memory). */
const IN_BYTES = 64 * 1024;
const BLOCK = 512;

/** An archive the single pass does not read (the reference pass decides). */
export class NotPlainArchive extends Error {
  override readonly name = 'NotPlainArchive';
}

/** The Gunzip's native handle: zlib's inflate with caller-given input and output (what zlib.js's sync path calls). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
}

/**
 * The entries of the tar.gz `source`, in archive order, with the shape of archiveEntries
 * (bundle-archive.ts). An entry left unread is skipped when the next one is asked for.
 * `memory`: the bytes of the output and input memories (smaller in tests).
 */
export function plainArchiveEntries(
  source: Readable,
  memory: { out: number; input: number } = { out: OUT_BYTES, input: IN_BYTES },
): {
  entries: AsyncIterator<ArchiveEntry>;
  close(): void;
} {
  const gunzip = createGunzip();
  const chunks = inflated(source, gunzip, memory)[Symbol.asyncIterator]();
  // The inflated bytes not yet read: view[at, view.length).
  let view: Buffer = Buffer.alloc(0);
  let at = 0;
  let ended = false;
  /** Bytes of the current entry (then of its padding) not yet read. */
  let remaining = 0;
  let padding = 0;
  const header = Buffer.alloc(BLOCK);

  /** At least one unread byte in `view`, unless the inflated bytes have ended. */
  const fill = async (): Promise<boolean> => {
    if (at < view.length) return true;
    if (ended) return false;
    const r = await chunks.next();
    if (r.done) {
      ended = true;
      return false;
    }
    view = r.value;
    at = 0;
    return at < view.length || fill();
  };

  /** The current entry's next bytes (at most what is left of it), a view of the output memory. */
  const take = async (): Promise<Buffer | undefined> => {
    if (remaining === 0) return undefined;
    if (!(await fill())) throw new NotPlainArchive('the archive ends inside a file');
    const n = Math.min(remaining, view.length - at);
    const piece = view.subarray(at, at + n);
    at += n;
    remaining -= n;
    return piece;
  };

  async function* entryChunks(): AsyncGenerator<Buffer> {
    for (let piece = await take(); piece !== undefined; piece = await take()) yield piece;
  }

  const skip = async (bytes: number): Promise<void> => {
    for (let left = bytes; left > 0;) {
      if (!(await fill())) throw new NotPlainArchive('the archive ends inside a file');
      const n = Math.min(left, view.length - at);
      at += n;
      left -= n;
    }
  };

  /** The next 512-byte block into `header`; false at the end of the inflated bytes (none of it read). */
  const readBlock = async (): Promise<boolean> => {
    let got = 0;
    while (got < BLOCK) {
      if (!(await fill())) {
        if (got === 0) return false;
        throw new NotPlainArchive('the archive ends inside a header');
      }
      const n = Math.min(BLOCK - got, view.length - at);
      view.copy(header, got, at, at + n);
      at += n;
      got += n;
    }
    return true;
  };

  const next = async (): Promise<IteratorResult<ArchiveEntry>> => {
    await skip(remaining + padding);
    remaining = 0;
    padding = 0;
    if (!(await readBlock())) return { done: true, value: undefined };
    if (isZero(header)) {
      // The end of the archive: nothing but zero blocks after it.
      while (await readBlock()) if (!isZero(header)) throw new NotPlainArchive('data after the end of the archive');
      return { done: true, value: undefined };
    }
    const { name, size } = plainHeader(header);
    remaining = size;
    padding = (BLOCK - (size % BLOCK)) % BLOCK;
    const transientChunks = { [Symbol.asyncIterator]: entryChunks };
    const stream = Object.assign(copies(transientChunks), { resume: () => undefined });
    return { done: false, value: { name, type: 'file', size, stream, transientChunks } };
  };

  return {
    entries: { next },
    close: () => {
      source.destroy();
      // Ends the reading where it stands (the file it opened is closed), then the handle.
      void chunks.return(undefined).catch(() => undefined);
      gunzip.close();
    },
  };
}

/** Copies of `chunks` (for readers that may keep what they are given). */
async function* copies(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield Buffer.from(c);
}

/**
 * The gunzipped bytes of `source`, as views of one output memory reused for every chunk.
 * zlib.js's own sync path (processChunkSync) drives the handle the same way; a gzip error
 * destroys the Gunzip at once (its error event comes later).
 */
async function* inflated(
  source: Readable,
  gunzip: Gunzip,
  memory: { out: number; input: number },
): AsyncGenerator<Buffer> {
  const internals = gunzip as unknown as { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const handle = internals._handle;
  const state = internals._writeState;
  // (Not `instanceof Uint32Array`: under a vm context, as in tests, that is another realm's class.)
  if (typeof handle?.writeSync !== 'function' || !ArrayBuffer.isView(state) || state.length !== 2)
    throw new NotPlainArchive('this Node has no zlib handle to inflate into given memory');
  gunzip.on('error', () => undefined);
  const outBytes = memory.out;
  const out = Buffer.allocUnsafeSlow(outBytes);
  let filled = 0;
  const inflate = function* (flush: number, input: Uint8Array): Generator<Buffer> {
    let inOff = 0;
    let inLen = input.length;
    for (;;) {
      // Closed by close() while a read was awaited: the handle is gone.
      if (gunzip.destroyed) throw new NotPlainArchive('the archive was closed');
      handle.writeSync(flush, input, inOff, inLen, out, filled, outBytes - filled);
      if (gunzip.destroyed) throw new NotPlainArchive('not a readable gzip stream');
      const availOut = state[0];
      const availIn = state[1];
      inOff += inLen - availIn;
      inLen = availIn;
      filled = outBytes - availOut;
      if (availOut === 0) {
        yield out;
        filled = 0;
        continue;
      }
      // Output room left: zlib took all it wanted. Input it left is data after the gzip stream.
      if (availIn > 0) throw new NotPlainArchive('data after the gzip stream');
      return;
    }
  };
  for await (const input of inputChunks(source, memory.input)) {
    yield* inflate(constants.Z_NO_FLUSH, input);
  }
  // Z_FINISH: a gzip stream cut short is an error here (as for the stream at its end).
  yield* inflate(constants.Z_FINISH, Buffer.alloc(0));
  if (filled > 0) yield out.subarray(0, filled);
}

/**
 * The bytes of `source`. A file stream over a whole file is read here instead, into one input
 * memory reused for every read: fs streams give each read new memory, more garbage (the
 * compressed bytes, a fraction of the inflated) of the kind this reader avoids.
 */
async function* inputChunks(source: Readable, inBytes: number): AsyncGenerator<Buffer> {
  const stream = source as ReadStream & { start?: number; end?: number };
  const path = stream.path;
  const whole = stream.start === undefined && stream.end === Infinity && stream.bytesRead === 0;
  if (!(source instanceof ReadStream) || typeof path !== 'string' || !whole) {
    yield* source as AsyncIterable<Buffer>;
    return;
  }
  // Its own open may still fail after this (a missing file): the error is ours to report, from open() below.
  source.on('error', () => undefined);
  source.destroy();
  const file = await open(path, 'r');
  try {
    const input = Buffer.allocUnsafeSlow(inBytes);
    for (;;) {
      const { bytesRead } = await file.read(input, 0, inBytes, null);
      if (bytesRead === 0) return;
      yield input.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** A ustar header of a regular file, checksum verified; anything else throws. */
function plainHeader(h: Buffer): { name: string; size: number } {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += h[i];
  if (octal(h, 148, 156) !== sum) throw new NotPlainArchive('bad header checksum');
  if (h.toString('latin1', 257, 265) !== 'ustar\u000000') throw new NotPlainArchive('not a ustar header');
  const type = h[156];
  if (type !== 0x30 && type !== 0) throw new NotPlainArchive('not a regular file');
  if (h[345] !== 0) throw new NotPlainArchive('a name with a prefix');
  const end = h.indexOf(0, 0);
  const nameEnd = end === -1 || end > 100 ? 100 : end;
  for (let i = 0; i < nameEnd; i++)
    if (h[i] < 0x21 || h[i] > 0x7e) throw new NotPlainArchive('a name that is not plain ASCII');
  const name = h.toString('latin1', 0, nameEnd);
  if (name.length === 0 || name.endsWith('/')) throw new NotPlainArchive('not a file name');
  const size = h[124] === 0x80 ? base256(h, 125, 136) : octal(h, 124, 136);
  if (size === undefined) throw new NotPlainArchive('not a size');
  return { name, size };
}

/**
 * A size of 8 GiB or more, which 11 octal digits cannot hold (records.jsonl and proofs.jsonl
 * past some 8M records): big-endian base 256 after the 0x80 marker, as the bundle writer
 * (tar-layout.ts) writes it and tar-stream reads it; undefined past 2^53.
 */
function base256(h: Buffer, from: number, to: number): number | undefined {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 256 + h[i];
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Octal digits then only spaces and NULs, in h[from, to); undefined otherwise. */
function octal(h: Buffer, from: number, to: number): number | undefined {
  let value = 0;
  let i = from;
  for (; i < to && h[i] >= 0x30 && h[i] <= 0x37; i++) value = value * 8 + (h[i] - 0x30);
  if (i === from) return undefined;
  for (; i < to; i++) if (h[i] !== 0x20 && h[i] !== 0) return undefined;
  return value;
}
