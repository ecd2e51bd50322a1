import { FileDigest, LineError, lines } from './bundle-archive.js';
import { createHash } from 'node:crypto';

async function collect(chunks: string[], max = 1 << 20): Promise<{ lines: string[]; digest: FileDigest }> {
  const digest = new FileDigest();
  const out: string[] = [];
  async function* source() {
    for (const c of chunks) yield Buffer.from(c, 'utf8');
  }
  for await (const l of lines(source(), digest, max)) out.push(l.toString('utf8'));
  return { lines: out, digest };
}

describe('lines', () => {
  it('splits at LF across chunk boundaries and hashes every byte', async () => {
    const { lines: got, digest } = await collect(['{"a":1}\n{"b"', ':2}\n', '{"c":"x\\ny"}\n']);
    expect(got).toEqual(['{"a":1}', '{"b":2}', '{"c":"x\\ny"}']);
    expect(digest.bytes).toBe(29);
    expect(digest.hex()).toBe(createHash('sha256').update('{"a":1}\n{"b":2}\n{"c":"x\\ny"}\n').digest('hex'));
  });

  it('keeps a CR as data', async () => {
    expect((await collect(['a\rb\n'])).lines).toEqual(['a\rb']);
  });

  it('yields nothing for an empty file', async () => {
    expect((await collect([])).lines).toEqual([]);
  });

  it('rejects a last line without its newline, naming the line', async () => {
    await expect(collect(['x\n', 'y'])).rejects.toMatchObject({ code: 'NO_FINAL_NEWLINE', line: 2 });
  });

  it('rejects a line longer than the limit before buffering it whole', async () => {
    await expect(collect(['12345', '67890', '\n'], 8)).rejects.toBeInstanceOf(LineError);
  });
});
