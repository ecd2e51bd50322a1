/**
 * Section 5, the ledger: the cost of appending to a small and a large tree, and how many
 * receipts and proofs per second the read side serves.
 *
 * A large shard is seeded directly (appendLeaves over synthetic leaf hashes, its Merkle tiles
 * COPYed into merkle_tiles and merkle_partial_tiles, its head written): proofs and appends need
 * only the tiles and the head, not the records.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { copyLine } from '../../src/database/copy-text.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { appendLeaves } from '../../src/domain/merkle/append.js';
import { leafHash } from '../../src/domain/merkle/hasher.js';
import { tilesAfterAppend, type Tile, type TileWrites } from '../../src/domain/merkle/tiles.js';
import { consistencyProof, inclusionProof, type NodeReader } from '../../src/domain/merkle/prover.js';
import { LedgerAppendRepository } from '../../src/ledger/ledger-append.repository.js';
import { LedgerReadRepository } from '../../src/ledger/ledger-read.repository.js';
import { ReadDatabase } from '../../src/database/read-database.js';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import type { SigningKeyService } from '../../src/ledger/signing-key.service.js';
import { median, quantile } from './env.js';

function syntheticLeaves(shard: number, from: number, count: number): Buffer[] {
  return Array.from({ length: count }, (_, j) => leafHash(Buffer.from(`bench leaf ${shard}/${from + j}`)));
}

/** Writes an append's tiles as the append transaction does (LedgerAppendRepository.closeBatch). */
async function writeTiles(client: PoolClient, shard: number, w: TileWrites): Promise<void> {
  for (const t of w.full)
    await client.query('INSERT INTO merkle_tiles (shard, level, idx, hashes) VALUES ($1, $2, $3, $4)', [
      shard,
      t.level,
      t.index,
      t.hashes,
    ]);
  for (const t of w.partial) {
    await client.query(
      'INSERT INTO merkle_partial_tiles (shard, level, idx, hashes) VALUES ($1, $2, $3, $4) ON CONFLICT (shard, level) DO UPDATE SET idx = EXCLUDED.idx, hashes = EXCLUDED.hashes',
      [shard, t.level, t.index, t.hashes],
    );
  }
  if (w.clearedLevels.length)
    await client.query('DELETE FROM merkle_partial_tiles WHERE shard = $1 AND level = ANY($2::smallint[])', [
      shard,
      w.clearedLevels,
    ]);
}

async function partialTiles(client: PoolClient, shard: number): Promise<Map<number, Tile>> {
  const { rows } = await client.query<{ level: number; idx: string; hashes: Buffer }>(
    'SELECT level, idx, hashes FROM merkle_partial_tiles WHERE shard = $1',
    [shard],
  );
  return new Map(rows.map((r) => [r.level, { level: r.level, index: Number(r.idx), hashes: r.hashes }]));
}

/** Seeds `shard` with a tree of `size` synthetic leaves: its tiles and its head. `nodes`: tree nodes the tiles stand for. */
export async function seedShard(
  pool: pg.Pool,
  shard: number,
  size: number,
): Promise<{ seconds: number; nodes: number }> {
  const started = performance.now();
  const client = await pool.connect();
  let nodes = 0;
  try {
    await client.query('BEGIN');
    const copy = client.query(copyFrom('COPY merkle_tiles (shard, level, idx, hashes) FROM STDIN'));
    let state = { treeSize: 0, frontier: [] as Buffer[] };
    let root: Buffer | undefined;
    let partials = new Map<number, Tile>();
    for (let i = 0; i < size; i += 65_536) {
      const r = appendLeaves(state, syntheticLeaves(shard, i, Math.min(65_536, size - i)));
      state = { treeSize: r.treeSize, frontier: r.frontier };
      root = r.root;
      nodes += r.nodes.length;
      const w = tilesAfterAppend(partials, r.nodes);
      for (const l of w.clearedLevels) partials.delete(l);
      partials = new Map([...partials, ...w.partial.map((t) => [t.level, t] as const)]);
      if (!copy.write(w.full.map((t) => copyLine([shard, t.level, t.index, t.hashes])).join('')))
        await once(copy, 'drain');
    }
    copy.end();
    await finished(copy);
    await writeTiles(client, shard, { full: [], partial: [...partials.values()], clearedLevels: [] });
    await client.query('INSERT INTO shard_heads (shard, tree_size, root_hash, frontier) VALUES ($1, $2, $3, $4)', [
      shard,
      state.treeSize,
      root,
      state.frontier,
    ]);
    await client.query('COMMIT');
    await client.query('ANALYZE merkle_tiles');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
  return { seconds: (performance.now() - started) / 1000, nodes };
}

export interface AppendCost {
  treeSize: number;
  batches: number;
  batchSize: number;
  /** Medians per batch. */
  appendLeavesUsPerLeaf: number;
  insertNodesMs: number;
  consistencyProofMs: number;
  transactionMs: number;
  nodesPerLeaf: number;
}

/**
 * `batches` appends of `batchSize` leaves to `shard`, each in one transaction as the service
 * does it: lock the head, appendLeaves (domain), COPY the new nodes, move the head, build the
 * consistency proof from the previous size (what the checkpoint carries), commit.
 */
export async function appendCost(
  pool: pg.Pool,
  shard: number,
  batches: number,
  batchSize: number,
): Promise<AppendCost> {
  const repo = new LedgerAppendRepository();
  const client = (await pool.connect()) as PoolClient;
  const per = { leaves: [] as number[], nodes: [] as number[], proof: [] as number[], tx: [] as number[] };
  let startSize = 0;
  let nodeCount = 0;
  try {
    for (let k = 0; k < batches + 1; k++) {
      const { rows } = await client.query<{ tree_size: string }>('SELECT tree_size FROM shard_heads WHERE shard = $1', [
        shard,
      ]);
      const leaves = syntheticLeaves(shard, Number(rows[0].tree_size), batchSize);
      const t0 = performance.now();
      await client.query('BEGIN');
      const head = await repo.lockShard(client, shard);
      if (k === 0) startSize = head.treeSize;
      const t1 = performance.now();
      const r = appendLeaves(head, leaves);
      const t2 = performance.now();
      await writeTiles(client, shard, tilesAfterAppend(await partialTiles(client, shard), r.nodes));
      const t3 = performance.now();
      await client.query('UPDATE shard_heads SET tree_size = $2, root_hash = $3, frontier = $4 WHERE shard = $1', [
        shard,
        r.treeSize,
        r.root,
        r.frontier,
      ]);
      const t4 = performance.now();
      await consistencyProof(repo.nodeReader(client, shard), head.treeSize, r.treeSize);
      const t5 = performance.now();
      await client.query('COMMIT');
      const t6 = performance.now();
      if (k === 0) continue; // warm-up
      nodeCount += r.nodes.length;
      per.leaves.push(((t2 - t1) * 1000) / batchSize);
      per.nodes.push(t3 - t2);
      per.proof.push(t5 - t4);
      per.tx.push(t6 - t0);
    }
  } finally {
    client.release();
  }
  return {
    treeSize: startSize,
    batches,
    batchSize,
    appendLeavesUsPerLeaf: median(per.leaves),
    insertNodesMs: median(per.nodes),
    consistencyProofMs: median(per.proof),
    transactionMs: median(per.tx),
    nodesPerLeaf: nodeCount / (batches * batchSize),
  };
}

export interface RateFigure {
  what: string;
  perS: number;
  p50Ms: number;
  p99Ms: number;
  calls: number;
  concurrency: number;
}

/** Calls `fn(i)` with `concurrency` in flight for `durationMs`. */
export async function rate(
  what: string,
  durationMs: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<RateFigure> {
  const lat: number[] = [];
  let i = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await fn(i++);
        lat.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return {
    what,
    perS: lat.length / seconds,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    calls: lat.length,
    concurrency,
  };
}

/** Deterministic pseudo-random integers, so runs ask for the same proofs. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

export async function proofRates(opts: {
  databaseUrl: string;
  bigShard: number;
  bigSize: number;
  durationMs: number;
  concurrency: number;
  eventIds: string[];
  pipelineShard?: { shard: number; size: number };
}): Promise<RateFigure[]> {
  const ds = new DataSource(dataSourceOptions({ url: opts.databaseUrl, poolSize: opts.concurrency + 1 }));
  await ds.initialize();
  try {
    const read = new LedgerReadRepository(ds);
    const ledger = new LedgerService(read, {} as SigningKeyService, new ReadDatabase(ds, ds));
    const reader = (shard: number): NodeReader => read.nodeReader(shard);
    const rnd = lcg(42);
    const out: RateFigure[] = [];
    if (opts.eventIds.length > 0) {
      out.push(
        await rate(
          'receipt: LedgerService.receipt(event_id) (record + covering checkpoint + inclusion proof)',
          opts.durationMs,
          opts.concurrency,
          (i) => ledger.receipt(opts.eventIds[i % opts.eventIds.length]),
        ),
      );
    }
    if (opts.pipelineShard && opts.pipelineShard.size > 1) {
      const { shard, size } = opts.pipelineShard;
      out.push(
        await rate(
          `consistency: LedgerService.consistency (shard of ${size.toLocaleString('en')} leaves)`,
          opts.durationMs,
          opts.concurrency,
          () => ledger.consistency(shard, 1 + (rnd() % (size - 1)), size),
        ),
      );
    }
    const big = opts.bigSize;
    out.push(
      await rate(
        `inclusion proof at ${big.toLocaleString('en')} leaves (domain prover, LedgerReadRepository.nodeReader)`,
        opts.durationMs,
        opts.concurrency,
        () => inclusionProof(reader(opts.bigShard), rnd() % big, big),
      ),
    );
    out.push(
      await rate(
        `consistency proof at ${big.toLocaleString('en')} leaves (domain prover, LedgerReadRepository.nodeReader)`,
        opts.durationMs,
        opts.concurrency,
        () => consistencyProof(reader(opts.bigShard), 1 + (rnd() % (big - 1)), big),
      ),
    );
    return out;
  } finally {
    await ds.destroy();
  }
}
