/**
 * Section 1, the raw ceiling: what the broker + kafkajs and PostgreSQL COPY can do with these
 * events when no ledger work is done at all.
 *  - consume: kafkajs eachBatch that only counts;
 *  - copy: the same events' `records` rows (pre-encoded) COPYed into a table shaped like
 *    `records` (LIKE ... INCLUDING ALL: same 8 btrees), one transaction per batch, on as many
 *    connections as the service consumes partitions concurrently;
 *  - together, measured: a consumer whose eachBatch COPYs that batch's pre-encoded rows in its
 *    own transaction (consume and COPY overlapping as they would in a pipeline with zero CPU
 *    work), and, computed, the harmonic combination 1 / (1/consume + 1/copy) (the two done one
 *    after the other, no overlap).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { consumeAll, type ConsumeRun } from './consumers.js';
import { cpuDelta, cpuSnapshot, type CpuDelta } from './proc.js';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER } from '../../src/database/copy-binary.js';
import { recordsCopySql } from '../../src/ledger/record-columns.js';

export async function createRecordsLikeTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`CREATE TABLE ${table} (LIKE records INCLUDING ALL)`);
}

/**
 * COPYs `body` (records rows as binary tuples: recordCopyTuple) into `table` in a transaction of
 * its own, as the append does (recordsCopySql); `andThen` runs in it before COMMIT.
 */
export async function copyInTransaction(
  client: pg.PoolClient,
  table: string,
  body: Buffer,
  andThen?: () => Promise<void>,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await pipeline(
      Readable.from([BINARY_COPY_HEADER, body, BINARY_COPY_TRAILER]),
      client.query(copyFrom(recordsCopySql(table))),
    );
    await andThen?.();
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export interface CopyRun {
  rows: number;
  seconds: number;
  rowsPerS: number;
  connections: number;
  cpu: CpuDelta;
}

/** COPYs `batches` (each one transaction) on `connections` clients working off one queue. */
export async function copyBatches(
  pool: pg.Pool,
  table: string,
  batches: Array<{ rows: number; body: Buffer }>,
  connections: number,
): Promise<CopyRun> {
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  let next = 0;
  const before = cpuSnapshot();
  try {
    await Promise.all(
      clients.map(async (c) => {
        while (next < batches.length) await copyInTransaction(c, table, batches[next++].body);
      }),
    );
  } finally {
    for (const c of clients) c.release();
  }
  const cpu = cpuDelta(before, cpuSnapshot());
  const rows = batches.reduce((a, b) => a + b.rows, 0);
  return { rows, seconds: cpu.wallS, rowsPerS: rows / cpu.wallS, connections, cpu };
}

export async function consumeNoWork(
  kafka: Kafka,
  topic: string,
  expected: number,
  concurrency: number,
  watch: Record<string, number | undefined>,
): Promise<ConsumeRun> {
  return consumeAll(kafka, topic, expected, {
    groupId: `bench-ceiling-consume-${Date.now()}`,
    concurrency,
    watch,
    eachBatch: async () => undefined,
  });
}

/** Consume + COPY of each batch's pre-encoded rows (looked up by message key = event seq). */
export async function consumeAndCopy(
  kafka: Kafka,
  topic: string,
  expected: number,
  concurrency: number,
  pool: pg.Pool,
  table: string,
  rowBySeq: (seq: number) => Buffer,
  watch: Record<string, number | undefined>,
): Promise<ConsumeRun> {
  return consumeAll(kafka, topic, expected, {
    groupId: `bench-ceiling-together-${Date.now()}`,
    concurrency,
    watch,
    eachBatch: async ({ batch }) => {
      const body = Buffer.concat(batch.messages.map((m) => rowBySeq(Number(m.key!.toString()))));
      const client = await pool.connect();
      try {
        await copyInTransaction(client, table, body);
      } finally {
        client.release();
      }
    },
  });
}
