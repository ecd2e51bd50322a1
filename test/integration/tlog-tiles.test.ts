import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { decodeEntryBundle } from '../../src/domain/merkle/entry-bundle.js';
import { leafHash } from '../../src/domain/merkle/hasher.js';
import { entryBundlePath, rootFromTiles, rootTiles, tilePath, type Tile } from '../../src/domain/merkle/tiles.js';
import { parseVerifierKey } from '../../src/domain/note/note-keys.js';
import { parseNote, verifyNote } from '../../src/domain/note/signed-note.js';
import { parseCheckpoint } from '../../src/domain/note/tlog-checkpoint.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { TlogController } from '../../src/tlog/tlog.controller.js';
import { TlogRepository } from '../../src/tlog/tlog.repository.js';
import { TlogService } from '../../src/tlog/tlog.service.js';
import { startQueryApp, type QueryApp } from '../support/query-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(120_000);

/** RFC 6962 MTH straight from leaf hashes: the test's own, independent of the ledger's tree code. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.concat([Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k))]))
    .digest();
}

const hashesOf = (bytes: Buffer) =>
  Array.from({ length: bytes.length / 32 }, (_, i) => bytes.subarray(i * 32, (i + 1) * 32));

describe('the ledger as C2SP tiled logs: signed-note checkpoints, tiles, entry bundles', () => {
  let db: TestDatabase;
  let q: QueryApp;
  const offsets = new Map<number, number>();

  /** Appends events [from, from + n) to a shard through the real append transaction. */
  async function append(shard: number, from: number, n: number): Promise<void> {
    const start = offsets.get(shard) ?? 0;
    const items: DecodedItem[] = Array.from({ length: n }, (_, k) => ({
      kind: 'record' as const,
      offset: String(start + k),
      record: validEvent(from + k),
    }));
    const res = await q.append.appendBatch({
      topic: 'routing.decisions',
      partition: shard,
      groupId: 'tlog-test',
      items,
      nextOffset: String(start + n),
    });
    expect(res.appended).toBe(n);
    offsets.set(shard, start + n);
  }

  async function bytes(path: string, token?: string): Promise<Buffer> {
    const res = await q.get(path, token);
    expect(`${path} ${res.status}`).toBe(`${path} 200`);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    return Buffer.from(await res.arrayBuffer());
  }

  async function verifiedCheckpoint(shard: number) {
    const keysRes = await q.get('/tlog/keys');
    expect(keysRes.headers.get('content-type')).toContain('text/plain');
    const verifiers = (await keysRes.text())
      .split('\n')
      .filter((l) => l !== '')
      .map(parseVerifierKey);
    const res = await q.get(`/tlog/${shard}/checkpoint`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const note = await res.text();
    return { note, verifiers, checkpoint: parseCheckpoint(verifyNote(note, verifiers).text) };
  }

  /** The root of the shard's tree of `size` leaves from the tiles rootTiles names, fetched over HTTP. */
  async function rootOverHttp(shard: number, size: number): Promise<Buffer> {
    const tiles = new Map<string, Tile>();
    for (const t of rootTiles(size))
      tiles.set(`${t.level}/${t.index}`, {
        ...t,
        hashes: await bytes(`/tlog/${shard}/${tilePath(t.level, t.index, t.width)}`),
      });
    return rootFromTiles(size, (id) => tiles.get(`${id.level}/${id.index}`));
  }

  beforeAll(async () => {
    db = await createTestDatabase('rl_tlog');
    q = await startQueryApp({
      databaseUrl: db.url,
      dataDir: `/tmp/rl/${db.name}`,
      controllers: [TlogController],
      providers: [TlogService, TlogRepository],
    });
    await append(0, 0, 250);
    await append(0, 250, 250);
    await append(0, 500, 100);
    await append(1, 10_000, 5);
  });

  afterAll(async () => {
    await q?.close();
    await db?.drop();
  });

  it('publishes one verifier key per shard, for the key of the JWKS', async () => {
    const lines = (await (await q.get('/tlog/keys')).text()).split('\n').filter((l) => l !== '');
    const origin = q.config.signing.ledgerOrigin;
    expect(lines.map((l) => parseVerifierKey(l).name)).toEqual([`${origin}/shard/0`, `${origin}/shard/1`]);
    const jwks = (await (await q.get('/.well-known/jwks.json')).json()) as {
      keys: Array<{ x: string; valid_until?: string }>;
    };
    const current = jwks.keys.filter((k) => k.valid_until === undefined).map((k) => Buffer.from(k.x, 'base64url'));
    expect(current).toHaveLength(1);
    for (const l of lines) expect(parseVerifierKey(l).publicKey.equals(current[0])).toBe(true);
  });

  it("serves each shard's latest checkpoint as a note that verifies, with the JSON checkpoint's size and root", async () => {
    const { note, checkpoint } = await verifiedCheckpoint(0);
    expect(checkpoint.origin).toBe(`${q.config.signing.ledgerOrigin}/shard/0`);
    expect(checkpoint.treeSize).toBe(600);
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual([checkpoint.origin]);
    const latest = (await (await q.get('/v1/ledger/checkpoints')).json()) as {
      latest: Array<{ shard: number; tree_size: number; root_hash: string }>;
    };
    const json = latest.latest.find((c) => c.shard === 0)!;
    expect([json.tree_size, json.root_hash]).toEqual([checkpoint.treeSize, checkpoint.rootHash.toString('hex')]);
    expect((await verifiedCheckpoint(1)).checkpoint.treeSize).toBe(5);
    // Shard 1's note does not verify as shard 0's: each shard has its own key name.
    const shard1Note = await (await q.get('/tlog/1/checkpoint')).text();
    const shard0Key = (await (await q.get('/tlog/keys')).text()).split('\n')[0];
    expect(() => verifyNote(shard1Note, [parseVerifierKey(shard0Key)])).toThrow(
      expect.objectContaining({ code: 'UNVERIFIED_NOTE' }) as Error,
    );
  });

  it("the root recomputed from tiles alone equals the note's root hash, at every level", async () => {
    const { checkpoint } = await verifiedCheckpoint(0);
    expect((await rootOverHttp(0, checkpoint.treeSize)).equals(checkpoint.rootHash)).toBe(true);

    // Independently: every leaf hash from the level-0 tiles, folded by the test's own MTH.
    const level0 = [
      await bytes('/tlog/0/tile/0/000'),
      await bytes('/tlog/0/tile/0/001'),
      await bytes('/tlog/0/tile/0/002.p/88'),
    ];
    expect(level0.map((t) => t.length)).toEqual([256 * 32, 256 * 32, 88 * 32]);
    const leaves = level0.flatMap(hashesOf);
    expect(mth(leaves).equals(checkpoint.rootHash)).toBe(true);
    // Level 1 holds the MTH of each full level-0 tile.
    expect(hashesOf(await bytes('/tlog/0/tile/1/000.p/2'))).toEqual([
      mth(hashesOf(level0[0])),
      mth(hashesOf(level0[1])),
    ]);

    const { checkpoint: small } = await verifiedCheckpoint(1);
    expect((await rootOverHttp(1, small.treeSize)).equals(small.rootHash)).toBe(true);
  });

  it('entry bundles hold each leaf input, which hashes to the level-0 tile', async () => {
    for (const [path, tile, first] of [
      [entryBundlePath(0), '/tlog/0/tile/0/000', 0],
      [entryBundlePath(2, 88), '/tlog/0/tile/0/002.p/88', 512],
    ] as const) {
      const entries = decodeEntryBundle(await bytes(`/tlog/0/${path}`));
      const leafHashes = hashesOf(await bytes(tile));
      expect(entries).toHaveLength(leafHashes.length);
      entries.forEach((e, i) => {
        expect(leafHash(e).equals(leafHashes[i])).toBe(true);
        const entry = JSON.parse(e.toString('utf8')) as { index: number; shard: number; record: { event_id: string } };
        expect([entry.shard, entry.index, entry.record.event_id]).toEqual([
          0,
          first + i,
          validEvent(first + i).event_id,
        ]);
      });
    }
  });

  it('caches full tiles for ever and partial ones briefly; serves a prefix of a full tile as a partial one', async () => {
    expect((await q.get('/tlog/0/tile/0/000')).headers.get('cache-control')).toBe(
      'public, max-age=31536000, immutable',
    );
    expect((await q.get('/tlog/0/tile/0/002.p/88')).headers.get('cache-control')).toBe('public, max-age=60');
    expect((await q.get('/tlog/0/checkpoint')).headers.get('cache-control')).toBe('no-cache');
    expect(
      (await bytes('/tlog/0/tile/0/000.p/5')).equals((await bytes('/tlog/0/tile/0/000')).subarray(0, 5 * 32)),
    ).toBe(true);
  });

  it('404 beyond the tree, 400 for malformed paths', async () => {
    for (const path of [
      '/tlog/0/tile/0/002',
      '/tlog/0/tile/0/002.p/89',
      '/tlog/0/tile/0/003.p/1',
      '/tlog/0/tile/1/000',
      '/tlog/0/tile/2/000.p/1',
      '/tlog/0/tile/entries/002',
      '/tlog/0/tile/entries/002.p/89',
      '/tlog/7/tile/0/000.p/1',
      '/tlog/7/checkpoint',
    ]) {
      expect(`${path} ${(await q.get(path)).status}`).toBe(`${path} 404`);
    }
    for (const path of [
      '/tlog/0/tile/0/x000/001',
      '/tlog/0/tile/0/1',
      '/tlog/0/tile/0/000.p/0',
      '/tlog/0/tile/0/000.p/256',
      '/tlog/0/tile/64/000',
      '/tlog/0/tile/00/000',
      '/tlog/x/checkpoint',
      '/tlog/01/tile/0/000',
      '/tlog/0/tile/entries/000.p/08',
    ]) {
      const res = await q.get(path);
      expect(`${path} ${res.status}`).toBe(`${path} 400`);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('entry bundles need a token for every tenant when one is presented', async () => {
    expect((await q.get('/tlog/0/tile/entries/000.p/1', await q.token('responder', ['acme']))).status).toBe(403);
    expect((await q.get('/tlog/0/tile/entries/000.p/1', await q.token('admin', ['acme']))).status).toBe(403);
    expect((await q.get('/tlog/0/tile/entries/000.p/1', await q.token('admin', ['*']))).status).toBe(200);
    expect((await q.get('/tlog/0/tile/entries/000.p/1', 'not-a-jwt')).status).toBe(401);
  });

  it('after more appends: a new note, the old partial tile unchanged, and tiles that filled become immutable', async () => {
    const before = await bytes('/tlog/0/tile/0/002.p/88');
    await append(0, 600, 200);
    const { checkpoint } = await verifiedCheckpoint(0);
    expect(checkpoint.treeSize).toBe(800);
    expect((await bytes('/tlog/0/tile/0/002.p/88')).equals(before)).toBe(true);
    expect((await bytes('/tlog/0/tile/0/002')).subarray(0, 88 * 32).equals(before)).toBe(true);
    expect((await rootOverHttp(0, 800)).equals(checkpoint.rootHash)).toBe(true);
    expect(
      (await rootOverHttp(0, 600)).equals(
        mth(hashesOf(Buffer.concat([await bytes('/tlog/0/tile/0/000'), await bytes('/tlog/0/tile/0/001'), before]))),
      ),
    ).toBe(true);
  });
});
