/**
 * Bulk records for the read hooks (section 6): demo traffic of the real shape, COPYed into
 * `records` in shards from 10_000 up (never the pipeline's), with the summaries the append
 * would have written for them (traffic_minutes, finding_hours, cost_hours). Without them, every
 * summary-backed answer (incidents, findings, alias history) would be measured over nothing.
 *
 * Built for 10M records on two cores: worker threads build the chunks (seed-chunk.ts: the
 * canonical forms, hashes and COPY tuples cost ~0.2 ms a record, the bulk of the work) while this
 * thread COPYs the previous one; and a seed that at least doubles the table drops the secondary
 * indexes of `records` and builds them again afterwards (one sorted build is several times
 * cheaper than maintaining eight btrees and a GIN row by row). The same definitions are
 * recreated from the catalog, so the reads that follow run on the real index set.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { upsertSummariesSql } from '../../src/ledger/summary-sql.js';
import { upsertFindingSummariesSql } from '../../src/ledger/finding-summary-sql.js';
import { upsertCostSummariesSql } from '../../src/ledger/cost-summary-sql.js';
import type { TestDatabase } from '../../test/support/test-database.js';
import { copyInTransaction } from './ceiling.js';
import { SEED_FIRST_SHARD, seedChunk, type SeedChunk, type SeedChunkSpec } from './seed-chunk.js';

export { SEED_FIRST_SHARD } from './seed-chunk.js';

const CHUNK = 10_000;
/** Below this, the index rebuild and the workers' start cost more than they save. */
const BULK_MIN = 100_000;

export interface SeedOptions {
  /** occurred_at step between consecutive records (seed-chunk.ts); default 1 ms, benchEvent's clock. */
  spacingMs?: number;
  /** Threads that build chunks; 0 builds them on this thread. Default: one per core for a bulk seed, else 0. */
  workers?: number;
  /** Drop and rebuild the secondary indexes of `records` around the seed. Default: for a bulk seed that at least doubles the table. */
  rebuildIndexes?: boolean;
  log?: (m: string) => void;
}

/** Appends `n` seeded records after those already seeded; seq = firstSeq + their ordinal. */
export async function seedRecords(
  db: TestDatabase,
  n: number,
  firstSeq: number,
  logOrOptions?: ((m: string) => void) | SeedOptions,
): Promise<{ rows: number; seconds: number; indexSeconds?: number }> {
  const opts: SeedOptions = typeof logOrOptions === 'function' ? { log: logOrOptions } : (logOrOptions ?? {});
  const log = opts.log;
  const spacingMs = opts.spacingMs ?? 1;
  if (!(spacingMs > 0)) throw new Error(`spacingMs must be positive: ${spacingMs}`);
  const t = performance.now();
  const [{ c }] = await db.query<{ c: string }>('SELECT count(*) AS c FROM records WHERE shard >= $1', [
    SEED_FIRST_SHARD,
  ]);
  const base = Number(c);
  const [{ all }] = await db.query<{ all: string }>('SELECT count(*) AS all FROM records');
  const bulk = n >= BULK_MIN;
  const rebuild = opts.rebuildIndexes ?? (bulk && n >= Number(all));
  const workers = opts.workers ?? (bulk ? cpus().length : 0);

  const specs: SeedChunkSpec[] = [];
  for (let i = 0; i < n; i += CHUNK)
    specs.push({ firstSeq, from: base + i, to: base + Math.min(n, i + CHUNK), spacingMs });

  const client = await db.pool.connect();
  const pool = workers > 0 ? new ChunkPool(workers) : undefined;
  let dropped: IndexDef[] = [];
  let indexSeconds: number | undefined;
  try {
    // A bench seed: nothing is lost that the bench would not rebuild, so no flush per commit.
    await client.query('SET synchronous_commit = off');
    if (rebuild) {
      dropped = await secondaryIndexes(client);
      for (const ix of dropped) await client.query(`DROP INDEX ${quoteIdent(ix.name)}`);
      log?.(`   dropped ${dropped.length} secondary indexes of records for the seed`);
    }
    // Chunks in flight: each worker busy with one and one queued, while this thread COPYs.
    const ahead = Math.max(1, workers * 2);
    const pending: Array<Promise<SeedChunk>> = [];
    const build = (k: number) => {
      const p = pool ? pool.run(specs[k]) : Promise.resolve(seedChunk(specs[k]));
      // Awaited in turn below; a failure while queued must not be an unhandled rejection meanwhile.
      p.catch(() => undefined);
      return p;
    };
    let done = 0;
    for (let k = 0; k < specs.length; k++) {
      while (pending.length < ahead && k + pending.length < specs.length) pending.push(build(k + pending.length));
      const chunk = await pending.shift()!;
      await writeChunk(client, chunk);
      done += chunk.rows;
      if (log && k % 50 === 49) {
        const s = (performance.now() - t) / 1000;
        log(`   seeded ${done.toLocaleString('en')} of ${n.toLocaleString('en')} (${(done / s).toFixed(0)} records/s)`);
      }
    }
  } catch (e) {
    client.release();
    // The database is the bench's own and is dropped after a failure (unless kept).
    if (dropped.length) log?.(`   seed failed: records' secondary indexes were not rebuilt`);
    throw e;
  } finally {
    await pool?.close();
  }
  try {
    if (dropped.length) indexSeconds = await rebuildIndexes(client, dropped, log);
    await client.query('RESET ALL');
  } finally {
    client.release();
  }
  await db.query('ANALYZE records');
  await db.query('ANALYZE traffic_minutes');
  await db.query('ANALYZE finding_hours');
  await db.query('ANALYZE cost_hours');
  const [{ total }] = await db.query<{ total: string }>('SELECT count(*) AS total FROM records');
  return { rows: Number(total), seconds: (performance.now() - t) / 1000, ...(indexSeconds ? { indexSeconds } : {}) };
}

/** Builds the dropped indexes again from their definitions and checks the set is as before; seconds taken. */
async function rebuildIndexes(client: pg.PoolClient, dropped: IndexDef[], log?: (m: string) => void): Promise<number> {
  const t = performance.now();
  log?.(`   rebuilding ${dropped.length} secondary indexes of records…`);
  // Sorted builds with room to sort in memory, a parallel worker on the second core.
  await client.query(`SET maintenance_work_mem = '1GB'`);
  await client.query('SET max_parallel_maintenance_workers = 1');
  for (const ix of dropped) {
    const ts = performance.now();
    await client.query(ix.def);
    log?.(`     ${ix.name} in ${((performance.now() - ts) / 1000).toFixed(0)} s`);
  }
  const now = await secondaryIndexes(client);
  if (JSON.stringify(now) !== JSON.stringify(dropped))
    throw new Error(`records' indexes after the rebuild differ from before: ${JSON.stringify(now)}`);
  return (performance.now() - t) / 1000;
}

/** The chunk's rows and the summaries they add, in one transaction (as one append's are). */
async function writeChunk(client: pg.PoolClient, chunk: SeedChunk): Promise<void> {
  await copyInTransaction(
    client,
    'records',
    Buffer.from(chunk.body.buffer, chunk.body.byteOffset, chunk.body.byteLength),
    async () => {
      for (const s of chunk.summaries) {
        await client.query(upsertSummariesSql('$1', '$2'), [s.shard, s.traffic]);
        await client.query(upsertFindingSummariesSql('$1', '$2'), [s.shard, s.findings]);
        await client.query(upsertCostSummariesSql('$1', '$2'), [s.shard, s.costs]);
      }
    },
  );
}

interface IndexDef {
  name: string;
  def: string;
}

/** The indexes of `records` that back no constraint (the keys stay: they guard the seed too). */
export async function secondaryIndexes(client: pg.PoolClient | pg.Pool): Promise<IndexDef[]> {
  const { rows } = await client.query<IndexDef>(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = 'records'::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
     ORDER BY i.relname`,
  );
  return rows;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Worker threads running seedChunk; each answers its chunks in the order it was sent them. */
class ChunkPool {
  private readonly threads: Array<{
    worker: Worker;
    waiting: Array<{ resolve: (c: SeedChunk) => void; reject: (e: Error) => void }>;
  }>;
  private next = 0;

  constructor(size: number) {
    this.threads = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./seed-worker.js', import.meta.url));
      const t = { worker, waiting: [] as Array<{ resolve: (c: SeedChunk) => void; reject: (e: Error) => void }> };
      worker.on('message', (m: { ok: true; chunk: SeedChunk } | { ok: false; error: string }) => {
        const w = t.waiting.shift()!;
        if (m.ok) w.resolve(m.chunk);
        else w.reject(new Error(m.error));
      });
      worker.on('error', (e) => {
        for (const w of t.waiting.splice(0)) w.reject(e);
      });
      return t;
    });
  }

  run(spec: SeedChunkSpec): Promise<SeedChunk> {
    const t = this.threads[this.next++ % this.threads.length];
    return new Promise((resolve, reject) => {
      t.waiting.push({ resolve, reject });
      t.worker.postMessage(spec);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
