/**
 * The offline verifier against bundles written by the real bundle writer from an in-memory
 * ledger (same domain functions as the append path). Each tampering is caught with its own
 * code and a message naming the file, line and record. "Resealed" bundles are what a
 * dishonest operator holding the signing key would hand over: every manifest hash recomputed
 * and signed again, so only proofs and chains can expose them.
 */
import { jest } from '@jest/globals';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { canonicalBytes } from '../canonical/canonical-json.js';
import { signCheckpoint } from '../checkpoint/checkpoint-jws.js';
import { generateSigningKey, jwksEntry, type SigningKey } from '../checkpoint/signing-key.js';
import { writeBundle } from '../../export/bundle-writer.js';
import { MemoryLedger } from '../../../test/support/memory-ledger.js';
import {
  fromLines,
  get,
  linesOf,
  readBundleFiles,
  resealBundle,
  set,
  writeBundleFiles,
  type BundleFiles,
} from '../../../test/support/bundle-files.js';
import {
  FILE,
  type CheckpointLine,
  type CheckpointNoteLine,
  type CompletenessLine,
  type ExportQuery,
  type Manifest,
  type ProofLine,
} from './bundle-format.js';
import { describeProblem, verifyBundle, verifySinglePass, type BundleVerdict } from './verify-bundle.js';
import { ed25519NoteSigner } from '../note/note-keys.js';
import { parseNote, signNote } from '../note/signed-note.js';
import { formatCheckpoint, parseCheckpoint, shardOrigin } from '../note/tlog-checkpoint.js';
import { generateKeyPairSync } from 'node:crypto';
import { cosigner } from '../witness/cosignature.js';
import { parseWitnessPolicy } from '../witness/witness-policy.js';
import type { BundleSource } from '../../export/bundle-source.js';
import { BlockPool } from './verifier/block-pool.js';
import { FileDigest } from './bundle-archive.js';

jest.setTimeout(60_000);

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
let n = 0;
const rec = (tenant: string, minute: number, extra: Record<string, unknown> = {}) => ({
  event_id: `e${String(n++).padStart(4, '0')}`,
  tenant_id: tenant,
  occurred_at: at(minute),
  provider: n % 3 === 0 ? 'openai' : 'anthropic',
  ...extra,
});

const QUERY: ExportQuery = { tenant: 'acme', from: at(10), to: at(30), filters: {} };

let dir: string;
let key: SigningKey;
let ledger: MemoryLedger;
let bundle: string;
let files: BundleFiles;

async function buildLedger(): Promise<MemoryLedger> {
  const l = new MemoryLedger(key);
  // Shard 0: acme before, inside (with one late arrival ingested out of time order) and after the range.
  for (let b = 0; b < 8; b++) {
    const batch = [];
    for (let i = 0; i < 5; i++) {
      const minute = b * 5 + i;
      batch.push(rec(i % 2 === 0 ? 'acme' : 'globex', minute));
    }
    if (b === 6) batch.push(rec('acme', 12)); // late: occurred inside the range, appended after it
    await l.appendBatch(0, batch);
  }
  // Shard 1: acme only before the range: the tail rests on the ledger's word (tenant_chain_length).
  await l.appendBatch(1, [rec('acme', 1), rec('globex', 2), rec('acme', 3)]);
  await l.appendBatch(1, [rec('globex', 15), rec('acme', 5)]);
  // Shard 2: no acme at all.
  await l.appendBatch(2, [rec('globex', 11), rec('globex', 12)]);
  // Shard 3: acme only after the range: the chain start (tenant_seq 0) is proven.
  await l.appendBatch(3, [rec('acme', 40), rec('acme', 41)]);
  // Shard 4: acme before and after, nothing inside: two adjacent neighbours.
  await l.appendBatch(4, [rec('acme', 2), rec('acme', 35), rec('acme', 36)]);
  return l;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-spec-'));
  key = await generateSigningKey();
  ledger = await buildLedger();
  bundle = join(dir, 'bundle.tar.gz');
  await writeBundle({
    source: ledger,
    query: QUERY,
    exportId: 'spec-export',
    origin: ledger.origin,
    generator: { name: 'routing-ledger', version: 'test' },
    signingKey: key,
    outFile: bundle,
    workDir: join(dir, 'work'),
    pageSize: 3,
    now: () => new Date('2026-06-02T00:00:00.000Z'),
  });
  files = await readBundleFiles(bundle);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The verdict on `f`, checked to be the same from the reference pass alone and by default; the
 * single pass accepts exactly what the reference pass accepts, with the same verdict.
 */
async function verifyFiles(f: BundleFiles, opts: Parameters<typeof verifyBundle>[1] = {}): Promise<BundleVerdict> {
  const path = join(dir, `t-${n++}.tar.gz`);
  await writeBundleFiles(path, f);
  const open = () => createReadStream(path);
  const reference = await verifyBundle(open, { ...opts, singlePass: false });
  const single = await verifySinglePass(open, opts);
  if (reference.ok) expect(single).toEqual(reference);
  else expect(single).toBeUndefined();
  const verdict = await verifyBundle(open, opts);
  expect(verdict).toEqual(reference);
  return verdict;
}

const trusted = async () => ({ trustedJwks: await ledger.jwks() });
const records = () => linesOf(get(files, FILE.records));
const proofs = () => linesOf(get(files, FILE.proofs));
const recordLine = (i: number) =>
  JSON.parse(records()[i]) as { shard: number; tenant_seq: number; record: { event_id: string; occurred_at: string } };
/** records.jsonl line numbers (0-based) of one shard. */
const shardLines = (shard: number) =>
  records()
    .map((l, i) => [JSON.parse(l).shard as number, i] as const)
    .filter(([s]) => s === shard)
    .map(([, i]) => i);

function expectProblem(
  v: BundleVerdict,
  code: string,
  where: { file?: string; line?: number; record?: string } = {},
): void {
  expect(v.ok).toBe(false);
  expect({
    code: v.problem?.code,
    ...Object.fromEntries(Object.keys(where).map((k) => [k, (v.problem as never)[k]])),
  }).toEqual({ code, ...where });
}

describe('a bundle written from the ledger', () => {
  it('verifies, with the counts the ledger implies', async () => {
    const v = await verifyBundle(() => createReadStream(bundle), await trusted());
    expect(v.problem).toBeUndefined();
    expect(v.ok).toBe(true);
    const acmeInRange = [...ledger.shards.values()]
      .flatMap((s) => s.entries)
      .filter(
        (e) =>
          e.entry.tenant_id === 'acme' &&
          e.entry.record &&
          (e.entry.record as { occurred_at: string }).occurred_at >= QUERY.from &&
          (e.entry.record as { occurred_at: string }).occurred_at < QUERY.to,
      );
    expect(v.counts.records_in_range).toBe(acmeInRange.length);
    expect(v.counts.matching).toBe(acmeInRange.length);
    expect(v.counts.shards).toBe(5);
    expect(v.keys).toEqual({ source: 'trusted', manifest_kid: key.kid, checkpoint_kids: [key.kid] });
    expect(v.warnings).toEqual([]);
    const byShard = new Map(v.shards.map((s) => [s.shard, s]));
    // Shard 0: a segment with both neighbours; the late arrival makes the segment longer than the range.
    expect(byShard.get(0)).toMatchObject({
      before_seq: expect.any(Number),
      after_seq: expect.any(Number),
      tail_attested: false,
    });
    expect(v.counts.context_records).toBeGreaterThan(0);
    // Shard 1: only earlier entries: one neighbour, and the tail is attested.
    expect(byShard.get(1)).toMatchObject({
      records: 0,
      first_seq: null,
      before_seq: 2,
      after_seq: null,
      tenant_chain_length: 3,
      tail_attested: true,
    });
    expect(byShard.get(2)).toMatchObject({ records: 0, tenant_chain_length: 0, before_seq: null, after_seq: null });
    expect(byShard.get(3)).toMatchObject({ records: 0, before_seq: null, after_seq: 0, tail_attested: false });
    expect(byShard.get(4)).toMatchObject({ records: 0, before_seq: 0, after_seq: 1 });
  });

  it('counts filter matches without shrinking what is proven', async () => {
    const path = join(dir, 'filtered.tar.gz');
    await writeBundle({
      source: ledger,
      query: { ...QUERY, filters: { provider: 'openai' } },
      exportId: 'f',
      origin: ledger.origin,
      generator: { name: 'x', version: 'y' },
      signingKey: key,
      outFile: path,
      workDir: join(dir, 'work-f'),
    });
    const v = await verifyBundle(() => createReadStream(path), await trusted());
    expect(v.ok).toBe(true);
    expect(v.counts.matching).toBeLessThan(v.counts.records_in_range);
    expect(v.counts.matching).toBeGreaterThan(0);
  });

  it('reads one snapshot: records appended while the export runs are not in it, and it still verifies', async () => {
    const live = await buildLedger();
    const source = Object.create(live) as MemoryLedger;
    source.anchors = async () => {
      const anchors = await live.anchors();
      // Ingestion goes on after the anchors are fixed: in-range records of the tenant, in two shards.
      await live.appendBatch(0, [rec('acme', 15), rec('acme', 16)]);
      await live.appendBatch(1, [rec('acme', 17)]);
      return anchors;
    };
    const path = join(dir, 'snapshot.tar.gz');
    await writeBundle({
      source,
      query: QUERY,
      exportId: 's',
      origin: live.origin,
      generator: { name: 'x', version: 'y' },
      signingKey: key,
      outFile: path,
      workDir: join(dir, 'work-s'),
    });
    const v = await verifyBundle(() => createReadStream(path), { trustedJwks: await live.jwks() });
    expect(v.ok).toBe(true);
    const before = await verifyBundle(() => createReadStream(bundle), await trusted());
    expect(v.counts.records_in_range).toBe(before.counts.records_in_range);
    expect(v.shards.map((s) => s.tree_size)).toEqual(before.shards.map((s) => s.tree_size));
  });

  it('is byte-identical when written twice from the same ledger at the same instant', async () => {
    const again = join(dir, 'again.tar.gz');
    await writeBundle({
      source: ledger,
      query: QUERY,
      exportId: 'spec-export',
      origin: ledger.origin,
      generator: { name: 'routing-ledger', version: 'test' },
      signingKey: key,
      outFile: again,
      workDir: join(dir, 'work2'),
      pageSize: 1000,
      now: () => new Date('2026-06-02T00:00:00.000Z'),
    });
    expect(await readBundleFiles(again)).toEqual(files);
  });
});

describe('the single pass', () => {
  it('accepts the bundle as the reference pass does, with the same verdict', async () => {
    const v = await verifyFiles(files, await trusted());
    expect(v.ok).toBe(true);
    expect(await verifySinglePass(() => createReadStream(bundle), await trusted())).toEqual(v);
  });

  it('cuts blocks at newlines whatever the chunks: the same answers from 7-byte chunks and 64-byte blocks', async () => {
    const text = get(files, FILE.records);
    const params = { query: QUERY, roots: { keys: [], hashes: new Uint8Array(0) }, maxLine: 1 << 20 };
    const collect = async (pool: BlockPool, chunks: Buffer[]) => {
      const seq: Buffer[] = [];
      let lines = 0;
      for await (const a of pool.answers(
        'records',
        (async function* () {
          yield* chunks;
        })(),
        new FileDigest(),
        1 << 20,
      )) {
        expect(a.failed).toBe(false);
        if (!a.failed) {
          seq.push(Buffer.from(a.seq));
          lines += a.lines;
        }
      }
      return { lines, seq: Buffer.concat(seq) };
    };
    const whole = await collect(new BlockPool(params, 0), [text]);
    const small: Buffer[] = [];
    for (let i = 0; i < text.length; i += 7) small.push(text.subarray(i, i + 7));
    const cut = await collect(new BlockPool(params, 0, 64), small);
    expect(whole.lines).toBe(linesOf(text).length);
    expect(cut).toEqual(whole);
    // Chunks that are views of one memory, overwritten once the next is asked for (plain-tar-gz.ts).
    const shared = Buffer.alloc(7);
    const reused = (async function* () {
      for (let i = 0; i < text.length; i += 7) yield shared.subarray(0, text.copy(shared, 0, i, i + 7));
    })();
    const pool = new BlockPool(params, 0, 64);
    const fromReused = { lines: 0, seq: [] as Buffer[] };
    for await (const a of pool.answers('records', reused, new FileDigest(), 1 << 20)) {
      expect(a.failed).toBe(false);
      if (!a.failed) {
        fromReused.seq.push(Buffer.from(a.seq));
        fromReused.lines += a.lines;
      }
    }
    expect({ lines: fromReused.lines, seq: Buffer.concat(fromReused.seq) }).toEqual(whole);
    // A last line without its newline fails the block.
    const answers = [];
    for await (const a of new BlockPool(params, 0, 64).answers(
      'records',
      (async function* () {
        yield text.subarray(0, text.length - 1);
      })(),
      new FileDigest(),
      1 << 20,
    ))
      answers.push(a);
    expect(answers.some((a) => a.failed)).toBe(true);
  });
});

describe('an archive cut short or damaged', () => {
  /** The bytes a few at a time, a turn of the event loop apart: each check reads all that has come. */
  const trickle = (bytes: Buffer) =>
    Readable.from(
      (async function* () {
        for (let i = 0; i < bytes.length; i += 64) {
          await new Promise((resolve) => setImmediate(resolve));
          yield bytes.subarray(i, i + 64);
        }
      })(),
    );

  /**
   * What verifyBundle makes of `bytes`: the reference pass's verdict (the single pass gives
   * way), not ok unless `mayPass`; 'threw' if it throws (it must not: a tar cut inside a file or
   * header, in a whole gzip stream, is UNREADABLE_ARCHIVE). The same verdict however the bytes
   * arrive: from the file, all at once, or a trickle.
   */
  async function verifyBytes(bytes: Buffer, mayPass = false): Promise<string> {
    const path = join(dir, `t-${n++}.tar.gz`);
    await writeFile(path, bytes);
    const open = () => createReadStream(path);
    const opts = await trusted();
    const settle = (p: Promise<BundleVerdict>) => p.catch((e: Error) => ({ threw: e.message }));
    const outcome = await settle(verifyBundle(open, opts));
    expect(outcome).toEqual(await settle(verifyBundle(open, { ...opts, singlePass: false })));
    expect(outcome).toEqual(await settle(verifyBundle(() => Readable.from([bytes]), { ...opts, singlePass: false })));
    expect(outcome).toEqual(await settle(verifyBundle(() => trickle(bytes), { ...opts, singlePass: false })));
    if ('threw' in outcome) return 'threw';
    if (!mayPass) expect(outcome.ok).toBe(false);
    return outcome.problem?.code ?? 'ok';
  }

  it("is refused with the reference pass's problem wherever the tar is cut or a header byte changed", async () => {
    const tarBytes = gunzipSync(await readFile(bundle));
    const codes = new Set<string>();
    for (let at = 0; at < tarBytes.length; at += 512) {
      const isHeader = tarBytes.toString('latin1', at + 257, at + 262) === 'ustar';
      for (const cut of isHeader ? [at, at + 1, at + 511] : [at + 1])
        codes.add(await verifyBytes(gzipSync(tarBytes.subarray(0, cut))));
      if (!isHeader) continue;
      // The size, the checksum, the type and the magic of each header.
      for (const field of [124 + 10, 148 + 3, 156, 257]) {
        const changed = Buffer.from(tarBytes);
        changed[at + field] ^= 0x02;
        codes.add(await verifyBytes(gzipSync(changed)));
      }
    }
    // Cut between files: a file missing; inside one, or a header changed: an unreadable archive.
    expect([...codes].sort()).toEqual(['MISSING_FILE', 'UNREADABLE_ARCHIVE']);
  });

  it("is refused with the reference pass's problem wherever the gzip is cut, changed or followed by more", async () => {
    const gz = await readFile(bundle);
    for (let cut = 0; cut < gz.length; cut += cut < gz.length - 24 ? Math.ceil(gz.length / 40) : 1)
      await verifyBytes(gz.subarray(0, cut));
    for (let at = 10; at < gz.length; at += Math.ceil(gz.length / 20)) {
      const changed = Buffer.from(gz);
      changed[at] ^= 0x10;
      await verifyBytes(changed);
    }
    await verifyBytes(Buffer.concat([gz, Buffer.from('junk')]), true);
    // A second gzip member (the whole bundle again): whatever the reference pass makes of it.
    await verifyBytes(Buffer.concat([gz, gz]), true);
  });
});

describe('tampering is caught with the right message', () => {
  it('a byte changed in a record', async () => {
    const lines = records();
    const i = 2;
    lines[i] = lines[i]
      .replace('"provider":"anthropic"', '"provider":"anthropiC"')
      .replace('"provider":"openai"', '"provider":"openaI"');
    const v = await verifyFiles(set(files, FILE.records, fromLines(lines)), await trusted());
    expectProblem(v, 'LEAF_HASH_MISMATCH', { file: FILE.records, line: i + 1, record: recordLine(i).record.event_id });
    expect(describeProblem(v.problem!)).toMatch(
      /records\.jsonl line 3 \(record e\d+\): the record does not hash to the leaf its proof is for/,
    );
  });

  it('a record removed from the middle of the range, even from a resealed bundle', async () => {
    const lines0 = shardLines(0);
    const i = lines0[3];
    const removed = recordLine(i);
    const tampered = await resealBundle(
      set(
        set(files, FILE.records, fromLines(records().filter((_, k) => k !== i))),
        FILE.proofs,
        fromLines(proofs().filter((_, k) => k !== i)),
      ),
      key,
    );
    const v = await verifyFiles(tampered, await trusted());
    expectProblem(v, 'SEQ_GAP', { file: FILE.records, line: i + 1 });
    expect(v.problem!.message).toContain(
      `1 record(s) of tenant acme in shard 0 are missing after tenant_seq ${removed.tenant_seq - 1}`,
    );
  });

  it('a record removed from the start of the range', async () => {
    const i = shardLines(0)[0];
    const v = await verifyFiles(
      await resealBundle(
        set(
          set(files, FILE.records, fromLines(records().filter((_, k) => k !== i))),
          FILE.proofs,
          fromLines(proofs().filter((_, k) => k !== i)),
        ),
        key,
      ),
      await trusted(),
    );
    expectProblem(v, 'RANGE_START_MISSING', { file: FILE.records, line: i + 1 });
    expect(v.problem!.message).toMatch(
      /shard 0's records must start at tenant_seq \d+: 1 record\(s\) at the start of the range are missing/,
    );
  });

  it('a record removed from the start, with completeness.jsonl moved to hide it', async () => {
    const i = shardLines(0)[0];
    const completeness = linesOf(get(files, FILE.completeness)).map((l) => JSON.parse(l) as CompletenessLine);
    const c0 = completeness.find((c) => c.shard === 0)!;
    const removedEntry = JSON.parse(records()[i]);
    const proof = JSON.parse(proofs()[i]) as ProofLine;
    c0.before = {
      entry: removedEntry,
      leaf_hash: proof.leaf_hash,
      tree_size: proof.tree_size,
      inclusion_proof: proof.inclusion_proof,
    };
    c0.first_seq! += 1;
    let f = set(files, FILE.records, fromLines(records().filter((_, k) => k !== i)));
    f = set(f, FILE.proofs, fromLines(proofs().filter((_, k) => k !== i)));
    f = set(f, FILE.completeness, fromLines(completeness.map((c) => canonicalBytes(c).toString('utf8'))));
    const v = await verifyFiles(await resealBundle(f, key), await trusted());
    expectProblem(v, 'NEIGHBOUR_IN_RANGE', { file: FILE.completeness, line: 1, record: removedEntry.record.event_id });
  });

  it('a record removed from the end of the range', async () => {
    const lines0 = shardLines(0);
    const i = lines0[lines0.length - 1];
    const v = await verifyFiles(
      await resealBundle(
        set(
          set(files, FILE.records, fromLines(records().filter((_, k) => k !== i))),
          FILE.proofs,
          fromLines(proofs().filter((_, k) => k !== i)),
        ),
        key,
      ),
      await trusted(),
    );
    expectProblem(v, 'RANGE_END_MISSING', { file: FILE.records, line: i });
    expect(v.problem!.message).toMatch(/1 record\(s\) at the end of the range are missing/);
  });

  it('two records swapped', async () => {
    const i = shardLines(0)[2];
    const swap = (l: string[]) => {
      const out = [...l];
      [out[i], out[i + 1]] = [out[i + 1], out[i]];
      return fromLines(out);
    };
    const v = await verifyFiles(
      await resealBundle(set(set(files, FILE.records, swap(records())), FILE.proofs, swap(proofs())), key),
      await trusted(),
    );
    expectProblem(v, 'OUT_OF_ORDER', { file: FILE.records, line: i + 2 });
    expect(v.problem!.message).toContain(`lines ${i + 1} and ${i + 2} are out of order (swapped)`);
  });

  it('a proof truncated', async () => {
    const lines = proofs();
    const i = lines.findIndex((l) => (JSON.parse(l) as ProofLine).inclusion_proof.length > 1);
    const p = JSON.parse(lines[i]) as ProofLine;
    p.inclusion_proof.pop();
    lines[i] = canonicalBytes(p).toString('utf8');
    const v = await verifyFiles(set(files, FILE.proofs, fromLines(lines)), await trusted());
    expectProblem(v, 'INCLUSION_INVALID', { file: FILE.proofs, line: i + 1, record: recordLine(i).record.event_id });
    expect(v.problem!.message).toContain('BAD_PROOF_LENGTH');
  });

  it('proofs.jsonl truncated mid-line', async () => {
    const bytes = get(files, FILE.proofs);
    const v = await verifyFiles(set(files, FILE.proofs, bytes.subarray(0, bytes.length - 40)), await trusted());
    expectProblem(v, 'BAD_LINE', { file: FILE.proofs });
    expect(v.problem!.message).toMatch(/does not end with a newline/);
  });

  it('a checkpoint re-signed with another key', async () => {
    const attacker = await generateSigningKey();
    const lines = linesOf(get(files, FILE.checkpoints));
    const cp = JSON.parse(lines[1]) as CheckpointLine;
    const payload = JSON.parse(Buffer.from(cp.jws.split('.')[1], 'base64url').toString('utf8'));
    cp.jws = await signCheckpoint(payload, attacker);
    lines[1] = canonicalBytes(cp).toString('utf8');
    const v = await verifyFiles(set(files, FILE.checkpoints, fromLines(lines)), await trusted());
    expectProblem(v, 'CHECKPOINT_INVALID', { file: FILE.checkpoints, line: 2 });
    expect(v.problem!.message).toContain('signed by a key that is not in the trusted JWKS (UNKNOWN_KID)');
  });

  it('the manifest edited', async () => {
    const m = JSON.parse(get(files, FILE.manifest).toString('utf8')) as Manifest;
    m.counts.records_in_range += 1;
    const v = await verifyFiles(set(files, FILE.manifest, canonicalBytes(m)), await trusted());
    expectProblem(v, 'MANIFEST_MISMATCH', { file: FILE.manifest });
  });

  it("jwks.json swapped for an attacker's key set, everything re-signed: fails against a trusted JWKS", async () => {
    const attacker = await generateSigningKey();
    const lines = linesOf(get(files, FILE.checkpoints)).map((l) => JSON.parse(l) as CheckpointLine);
    for (const cp of lines)
      cp.jws = await signCheckpoint(
        JSON.parse(Buffer.from(cp.jws.split('.')[1], 'base64url').toString('utf8')),
        attacker,
      );
    let f = set(files, FILE.checkpoints, fromLines(lines.map((l) => canonicalBytes(l).toString('utf8'))));
    f = set(f, FILE.checkpointNotes, resignNotes(get(f, FILE.checkpointNotes), attacker));
    f = set(f, FILE.jwks, Buffer.from(JSON.stringify({ keys: [jwksEntry(attacker, '2026-01-01T00:00:00.000Z')] })));
    f = await resealBundle(f, attacker, (m) => {
      m.key_ids.checkpoints = [attacker.kid];
    });
    // Consistent in itself: with only the bundle's keys it passes, and says why that is weak.
    const selfContained = await verifyFiles(f);
    expect(selfContained.ok).toBe(true);
    expect(selfContained.warnings.join()).toMatch(/authentic only if you trust those keys/);
    const v = await verifyFiles(f, await trusted());
    expectProblem(v, 'MANIFEST_SIGNATURE', { file: FILE.manifestJws });
    expect(v.problem!.message).toContain('signed by a key that is not in the trusted JWKS');
  });

  it('a file added', async () => {
    const v = await verifyFiles([...files, ['notes.txt', Buffer.from('trust me\n')]], await trusted());
    expectProblem(v, 'UNEXPECTED_FILE', { file: 'notes.txt' });
    const early = await verifyFiles(
      [files[0], ['evil.jsonl', Buffer.from('{}\n')], ...files.slice(1)],
      await trusted(),
    );
    expectProblem(early, 'UNEXPECTED_FILE', { file: 'evil.jsonl' });
  });

  it('a file missing', async () => {
    const v = await verifyFiles(
      files.filter(([name]) => name !== FILE.proofs),
      await trusted(),
    );
    expectProblem(v, 'MISSING_FILE', { file: FILE.proofs });
  });

  it('README.txt edited', async () => {
    const v = await verifyFiles(set(files, FILE.readme, Buffer.from('all good, no need to verify\n')), await trusted());
    expectProblem(v, 'FILE_HASH_MISMATCH', { file: FILE.readme });
  });

  it('a neighbour entry edited', async () => {
    const completeness = linesOf(get(files, FILE.completeness)).map((l) => JSON.parse(l) as CompletenessLine);
    (completeness[0].before!.entry.record as { occurred_at: string }).occurred_at = at(-100);
    const v = await verifyFiles(
      await resealBundle(
        set(files, FILE.completeness, fromLines(completeness.map((c) => canonicalBytes(c).toString('utf8')))),
        key,
      ),
      await trusted(),
    );
    expectProblem(v, 'LEAF_HASH_MISMATCH', { file: FILE.completeness, line: 1 });
  });

  it('a shard left out of the bundle', async () => {
    const drop = (name: string) => fromLines(linesOf(get(files, name)).filter((l) => JSON.parse(l).shard !== 1));
    let f = set(set(files, FILE.checkpoints, drop(FILE.checkpoints)), FILE.completeness, drop(FILE.completeness));
    f = await resealBundle(f, key);
    const v = await verifyFiles(f, await trusted());
    expectProblem(v, 'ANCHOR_MISMATCH', { file: FILE.checkpoints });
  });

  it('a signature from the right key outside its validity window', async () => {
    const v = await verifyBundle(() => createReadStream(bundle), {
      trustedJwks: { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z')] },
    });
    expectProblem(v, 'MANIFEST_SIGNATURE', { file: FILE.manifestJws });
    expect(v.problem!.message).toContain('OUTSIDE_KEY_VALIDITY');
  });

  it('not a tar.gz at all', async () => {
    const path = join(dir, 'garbage.tar.gz');
    await writeBundleFiles(path, []);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, Buffer.from('definitely not gzip'));
    const v = await verifyBundle(() => createReadStream(path));
    expectProblem(v, 'UNREADABLE_ARCHIVE');
  });
});

/** checkpoint-notes.jsonl with every note signed again by `key` instead (cosignatures dropped). */
function resignNotes(bytes: Buffer, key: SigningKey): Buffer {
  const lines = linesOf(bytes).map((l) => {
    const line = JSON.parse(l) as CheckpointNoteLine;
    const text = parseNote(line.note).text;
    line.note = signNote(text, [ed25519NoteSigner(parseCheckpoint(text).origin, key.privateKey)]);
    return canonicalBytes(line).toString('utf8');
  });
  return fromLines(lines);
}

describe('checkpoint-notes.jsonl and --witness-policy', () => {
  const witnessKeys = [0, 1, 2].map(() => generateKeyPairSync('ed25519').privateKey);
  const cosigners = witnessKeys.map((k, i) => cosigner(`w${i}.test/w`, k, () => 1767225600));
  const policy = (quorum: number) =>
    parseWitnessPolicy([...cosigners.map((c) => `witness ${c.vkey}`), `quorum ${quorum}`].join('\n'));

  /** The ledger as a source whose anchors were cosigned by witnesses `by` (each over the anchor's note text). */
  function cosignedSource(by: number[]): BundleSource {
    const cosignatures = async (shard: number, treeSize: number, rootHash: Buffer) => {
      const text = formatCheckpoint({ origin: shardOrigin(ledger.origin, shard), treeSize, rootHash });
      return by.map((i) => ({
        name: cosigners[i].name,
        keyId: cosigners[i].keyId,
        signature: cosigners[i].sign(Buffer.from(text)),
      }));
    };
    return new Proxy(ledger, {
      get: (target, prop) => {
        if (prop === 'cosignatures') return cosignatures;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as BundleSource;
  }

  async function writeFrom(source: BundleSource): Promise<BundleFiles> {
    const out = join(dir, `cosigned-${n++}.tar.gz`);
    await writeBundle({
      source,
      query: QUERY,
      exportId: 'spec-cosigned',
      origin: ledger.origin,
      generator: { name: 'routing-ledger', version: 'test' },
      signingKey: key,
      outFile: out,
      workDir: join(dir, `work-${n}`),
    });
    return readBundleFiles(out);
  }

  it('carries one signed note per shard anchor; without a policy the bundle verifies, with one it needs k', async () => {
    const notes = linesOf(get(files, FILE.checkpointNotes)).map((l) => JSON.parse(l) as CheckpointNoteLine);
    const m = JSON.parse(get(files, FILE.manifest).toString('utf8')) as Manifest;
    expect(notes.map((l) => [l.shard, l.tree_size])).toEqual(m.shards.map((s) => [s.shard, s.tree_size]));
    expect(parseCheckpoint(parseNote(notes[0].note).text).origin).toBe(`${ledger.origin}/shard/${notes[0].shard}`);
    expect((await verifyFiles(files, await trusted())).ok).toBe(true);
    const v = await verifyFiles(files, { ...(await trusted()), witnessPolicy: policy(1) });
    expectProblem(v, 'QUORUM_NOT_MET', { file: FILE.checkpointNotes, line: 1 });
    expect(v.problem!.message).toMatch(/has 0 valid cosignatures of the 1 required/);
  });

  it('verifies with k valid cosignatures per anchor and names the cosigners; refuses k+1', async () => {
    const f = await writeFrom(cosignedSource([0, 2]));
    const ok = await verifyFiles(f, { ...(await trusted()), witnessPolicy: policy(2) });
    expect(ok.ok).toBe(true);
    expect(ok.witnessed!.anchors.map((a) => a.cosigners)).toEqual(
      ok.shards.map(() => [cosigners[0].name, cosigners[2].name]),
    );
    const v = await verifyFiles(f, { ...(await trusted()), witnessPolicy: policy(3) });
    expectProblem(v, 'QUORUM_NOT_MET', { file: FILE.checkpointNotes, line: 1 });
    expect(v.problem!.message).toMatch(/has 2 valid cosignatures of the 3 required/);
  });

  it('refuses a note that is not the anchor, even resealed, and a cosignature of another tree', async () => {
    const f = await writeFrom(cosignedSource([0, 1, 2]));
    const lines = linesOf(get(f, FILE.checkpointNotes)).map((l) => JSON.parse(l) as CheckpointNoteLine);
    // The note of shard 1 put in place of shard 0's (same key, valid signatures): another root and size.
    const swapped = lines.map((l, i) => (i === 0 ? { ...l, note: lines[1].note } : l));
    const resealed = await resealBundle(
      set(f, FILE.checkpointNotes, fromLines(swapped.map((l) => canonicalBytes(l).toString('utf8')))),
      key,
    );
    const v = await verifyFiles(resealed, await trusted());
    expectProblem(v, 'BAD_CHECKPOINT_NOTE', { file: FILE.checkpointNotes, line: 1 });
    // Cosignatures made over another size of the same shard count for nothing.
    const source = cosignedSource([0, 1, 2]);
    const skewed = new Proxy(source, {
      get: (target, prop) =>
        prop === 'cosignatures'
          ? (s: number, size: number, root: Buffer) => target.cosignatures!(s, size + 1, root)
          : Reflect.get(target, prop),
    });
    const g = await writeFrom(skewed);
    const w = await verifyFiles(g, { ...(await trusted()), witnessPolicy: policy(1) });
    expectProblem(w, 'QUORUM_NOT_MET', { file: FILE.checkpointNotes, line: 1 });
    expect(w.problem!.message).toMatch(/has 0 valid cosignatures of the 1 required \(invalid: w0.test\/w, w1/);
  });

  it('still reads format_version 1 bundles (no notes), which a witness policy refuses', async () => {
    let v1 = await resealBundle(files, key, (m) => {
      (m as { format_version: number }).format_version = 1;
      m.files = m.files.filter((x) => x.name !== FILE.checkpointNotes);
    });
    v1 = v1.filter(([name]) => name !== FILE.checkpointNotes);
    expect((await verifyFiles(v1, await trusted())).ok).toBe(true);
    const v = await verifyFiles(v1, { ...(await trusted()), witnessPolicy: policy(1) });
    expectProblem(v, 'QUORUM_NOT_MET', { file: FILE.manifest });
    // A version 2 bundle without its notes is missing a file.
    const stripped = files.filter(([name]) => name !== FILE.checkpointNotes);
    expectProblem(await verifyFiles(stripped, await trusted()), 'FILE_OUT_OF_ORDER');
  });
});
