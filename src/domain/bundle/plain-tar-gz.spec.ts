/**
 * The single pass's tar.gz reader against tar-stream (the reference pass's reader): on every
 * archive, intact, cut short or with a byte changed, it either refuses it or reads the very
 * entries tar-stream reads. Small output and input memories put chunk boundaries inside
 * headers, files and the padding between them.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { archiveEntries } from './bundle-archive.js';
import { plainArchiveEntries } from './plain-tar-gz.js';

type Read = Array<{ name: string; type: string; size: number; bytes: string }> | 'refused';

async function tarOf(files: Array<[string, Buffer]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, bytes] of files) pack.entry({ name, size: bytes.length, mtime: new Date(0) }, bytes);
  pack.finalize();
  const out: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

const lines = (n: number, width: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => `${String(i).padStart(width, '0')}\n`).join(''));

/** Files whose ends fall at and around 512-byte and chunk boundaries. */
const FILES: Array<[string, Buffer]> = [
  ['README.txt', Buffer.from('hello\n')],
  ['empty.json', Buffer.alloc(0)],
  ['a.jsonl', lines(64, 7)], // 512 bytes
  ['b.jsonl', lines(700, 10)],
  ['c.jsonl', Buffer.from('x'.repeat(511))],
  ['d.jsonl', lines(300, 40)],
];

async function readWith(kind: 'reference' | 'plain', gz: Buffer, memory = { out: 700, input: 97 }): Promise<Read> {
  const source = Readable.from(chunksOf(gz, memory.input));
  const archive = kind === 'reference' ? archiveEntries(source) : plainArchiveEntries(source, memory);
  const read: Exclude<Read, 'refused'> = [];
  try {
    for (;;) {
      const r = await archive.entries.next();
      if (r.done) return read;
      const e = r.value;
      const parts: Buffer[] = [];
      // The transient chunks are copied at once: the next one may overwrite them.
      for await (const c of e.transientChunks ?? e.stream) parts.push(Buffer.from(c));
      const bytes = Buffer.concat(parts);
      read.push({ name: e.name, type: e.type, size: e.size, bytes: bytes.toString('latin1') });
    }
  } catch {
    return 'refused';
  } finally {
    archive.close();
  }
}

function chunksOf(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(Buffer.from(b.subarray(i, i + size)));
  return out;
}

/** The plain reader refuses `gz` or reads what tar-stream reads; returns what it did. */
async function expectAgreement(gz: Buffer, memory?: { out: number; input: number }): Promise<'refused' | 'read'> {
  const plain = await readWith('plain', gz, memory);
  if (plain === 'refused') return 'refused';
  expect(plain).toEqual(await readWith('reference', gz));
  return 'read';
}

let archive: Buffer;
let gz: Buffer;

beforeAll(async () => {
  archive = await tarOf(FILES);
  gz = gzipSync(archive);
});

describe('plainArchiveEntries', () => {
  it('reads an intact archive as tar-stream does, whatever the memory sizes', async () => {
    const reference = await readWith('reference', gz);
    expect(reference).not.toBe('refused');
    expect((reference as Exclude<Read, 'refused'>).map((e) => e.name)).toEqual(FILES.map(([name]) => name));
    for (const memory of [
      { out: 1, input: 1 },
      { out: 511, input: 7 },
      { out: 512, input: 4096 },
      { out: 700, input: 97 },
      { out: 256 * 1024, input: 64 * 1024 },
    ])
      expect(await readWith('plain', gz, memory)).toEqual(reference);
  });

  it('reads gzip members cut anywhere (as the bundle writer writes them) and base-256 sizes', async () => {
    const reference = await readWith('reference', gz);
    // Members of 1000 inflated bytes each, read 97 compressed bytes at a time.
    const members: Buffer[] = [];
    for (let i = 0; i < archive.length; i += 1000) members.push(gzipSync(archive.subarray(i, i + 1000)));
    expect(await readWith('plain', Buffer.concat(members))).toEqual(reference);
    // d.jsonl's size in base 256 (what sizes of 8 GiB and more need), the checksum made again.
    const at = archive.indexOf('d.jsonl');
    const big = Buffer.from(archive);
    big.fill(0, at + 124, at + 136);
    big[at + 124] = 0x80;
    big.writeUIntBE(FILES[5][1].length, at + 130, 6);
    big.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += big[at + i];
    big.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, at + 148, 'latin1');
    const readBig = await readWith('plain', gzipSync(big));
    expect(readBig).toEqual(await readWith('reference', gzipSync(big)));
    expect(readBig).toEqual(reference);
  });

  it('gives copies on `stream` and skips entries left unread', async () => {
    const entries = plainArchiveEntries(Readable.from(chunksOf(gz, 333)), { out: 600, input: 333 });
    const seen: string[] = [];
    for (let r = await entries.entries.next(); !r.done; r = await entries.entries.next()) {
      seen.push(r.value.name);
      if (r.value.name !== 'b.jsonl') continue;
      const kept: Buffer[] = [];
      for await (const c of r.value.stream) kept.push(c as Buffer);
      expect(Buffer.concat(kept)).toEqual(FILES[3][1]);
    }
    expect(seen).toEqual(FILES.map(([name]) => name));
  });

  it('reads a file stream itself, into its own memory, with the same bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plain-tar-gz-'));
    try {
      const path = join(dir, 'a.tar.gz');
      await writeFile(path, gz);
      const reference = await readWith('reference', gz);
      const entries = plainArchiveEntries(createReadStream(path), { out: 1000, input: 100 });
      const read = [];
      for (let r = await entries.entries.next(); !r.done; r = await entries.entries.next()) {
        const parts: Buffer[] = [];
        for await (const c of r.value.transientChunks!) parts.push(Buffer.from(c));
        read.push({
          name: r.value.name,
          type: r.value.type,
          size: r.value.size,
          bytes: Buffer.concat(parts).toString('latin1'),
        });
      }
      expect(read).toEqual(reference);
      const missing = plainArchiveEntries(createReadStream(join(dir, 'missing.tar.gz')));
      await expect(missing.entries.next()).rejects.toThrow('ENOENT');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a tar cut short anywhere but between files, or agrees with tar-stream', async () => {
    const outcomes = new Set<string>();
    for (let cut = 0; cut < archive.length; cut++) {
      if (cut % 512 <= 1 || cut % 512 === 511 || cut % 97 === 0)
        outcomes.add(await expectAgreement(gzipSync(archive.subarray(0, cut))));
    }
    // Cut right after a file's padding, the archive is a shorter one: both read the files before.
    expect(outcomes).toEqual(new Set(['read', 'refused']));
  });

  it('refuses a gzip stream cut short or followed by anything', async () => {
    for (let cut = 0; cut < gz.length; cut += cut < gz.length - 40 ? 211 : 1)
      expect(await expectAgreement(gz.subarray(0, cut))).toBe('refused');
    for (const tail of [Buffer.from([0]), Buffer.from('junk'), gz, Buffer.alloc(1024)])
      expect(await expectAgreement(Buffer.concat([gz, tail]))).toBe('refused');
  });

  it('refuses a byte changed in a header, or agrees with tar-stream', async () => {
    // Every byte of the first header (and README.txt's padding), some of the end-of-archive blocks.
    const positions = [...Array(1024).keys()];
    for (let at = archive.length - 1024; at < archive.length; at += 5) positions.push(at);
    const outcomes = new Set<string>();
    for (const at of positions) {
      for (const value of [0x00, 0x20, 0x37, 0x80, archive[at] ^ 0x01]) {
        if (value === archive[at]) continue;
        const changed = Buffer.from(archive);
        changed[at] = value;
        outcomes.add(await expectAgreement(gzipSync(changed)));
      }
    }
    expect(outcomes).toEqual(new Set(['read', 'refused']));
  });

  it('refuses a compressed byte changed (the gzip checks), or agrees with tar-stream', async () => {
    for (let at = 0; at < gz.length; at += 37) {
      const changed = Buffer.from(gz);
      changed[at] ^= 0x40;
      await expectAgreement(changed);
    }
    // The trailer (CRC-32 and size) changed: tar-stream's gunzip fails, and so does this one.
    const crc = Buffer.from(gz);
    crc[crc.length - 6] ^= 1;
    expect(() => gunzipSync(crc)).toThrow();
    expect(await expectAgreement(crc)).toBe('refused');
  });
});
