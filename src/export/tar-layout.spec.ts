import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { tarEnd, tarPadding, ustarHeader } from './tar-layout.js';

/** What tar-stream (the verifier's reader) makes of `bytes`. */
async function extract(bytes: Buffer): Promise<Array<{ name: string; size: number; mtime: number; body: Buffer }>> {
  const out: Array<{ name: string; size: number; mtime: number; body: Buffer }> = [];
  const ex = tar.extract();
  Readable.from([bytes]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    out.push({
      name: entry.header.name,
      size: entry.header.size ?? -1,
      mtime: entry.header.mtime!.getTime(),
      body: Buffer.concat(parts),
    });
  }
  return out;
}

async function packed(files: Array<{ name: string; body: Buffer }>, mtime: Date): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  for (const f of files)
    pack.entry({ name: f.name, size: f.body.length, mtime, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' }, f.body);
  pack.finalize();
  await new Promise<void>((r) => pack.on('end', () => r()));
  return Buffer.concat(chunks);
}

describe('ustar layout', () => {
  const mtime = new Date('2026-11-30T12:00:00.000Z');
  const files = [
    { name: 'README.txt', body: Buffer.from('hello\n') },
    { name: 'empty.jsonl', body: Buffer.alloc(0) },
    { name: 'records.jsonl', body: Buffer.alloc(1024, 0x61) },
    { name: 'proofs.jsonl', body: Buffer.alloc(1000, 0x62) },
  ];
  const layout = () =>
    Buffer.concat([
      ...files.flatMap((f) => [
        ustarHeader({ name: f.name, size: f.body.length, mtime }),
        f.body,
        tarPadding(f.body.length),
      ]),
      tarEnd(),
    ]);

  it('is byte for byte what tar-stream packs', async () => {
    expect(layout().equals(await packed(files, mtime))).toBe(true);
  });

  it('reads back as the same files', async () => {
    const read = await extract(layout());
    expect(read.map((r) => [r.name, r.size, r.mtime, r.body.toString('hex')])).toEqual(
      files.map((f) => [f.name, f.body.length, mtime.getTime(), f.body.toString('hex')]),
    );
  });

  it('writes sizes beyond 8 GiB in base-256, as tar-stream does', () => {
    const size = 9 * 1024 ** 3;
    const h = ustarHeader({ name: 'records.jsonl', size, mtime });
    expect(h[124]).toBe(0x80);
    let decoded = 0;
    for (let i = 125; i < 136; i++) decoded = decoded * 256 + h[i];
    expect(decoded).toBe(size);
  });

  it('pads to the next 512-byte boundary only when needed', () => {
    expect(tarPadding(512).length).toBe(0);
    expect(tarPadding(513).length).toBe(511);
    expect(tarPadding(0).length).toBe(0);
  });
});
