/**
 * `node dist/bench/micro/copy-format.js [batches, default 40]`: COPY text against COPY binary for
 * the same `records` rows, in one run. Two tables shaped `LIKE records INCLUDING ALL` (the same
 * columns, keys and indexes) take the same batches of 1,000 rows (demo events, as the bench's
 * ceiling encodes them), alternating which format goes first; each batch is one transaction on
 * one connection. Per row: the Node CPU to encode the body and to send it (the COPY stream,
 * BEGIN and COMMIT), and the PostgreSQL backend's CPU for
 * COPY + COMMIT (from /proc, in 10 ms ticks: hence totals over all measured batches, not
 * per-batch medians). Then both tables are compared row for row.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { binaryCopyChunks } from '../../src/database/copy-binary.js';
import { copyChunks, type CopyValue } from '../../src/database/copy-text.js';
import { RECORD_ROW_COLUMNS, RECORD_ROW_TYPE_LIST, recordsCopySql } from '../../src/ledger/record-columns.js';
import { createTestDatabase } from '../../test/support/test-database.js';
import { benchEvent, wireOf } from '../lib/env.js';
import { ownCpuMicros, processCpuSeconds } from '../lib/proc.js';
import { recordRowValues } from '../lib/rows.js';

const BATCHES = Number(process.argv[2] ?? 40);
const WARM = 3;
const B = 1000;

const db = await createTestDatabase('rl_bench_copy_format', 1);
const client = await db.pool.connect();
try {
  for (const t of ['copy_text', 'copy_binary']) await client.query(`CREATE TABLE ${t} (LIKE records INCLUDING ALL)`);
  const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
  const batches: CopyValue[][][] = [];
  for (let k = 0; k < WARM + BATCHES; k++) {
    batches.push(
      Array.from({ length: B }, (_, j) => {
        const i = k * B + j;
        const e = benchEvent(i);
        return recordRowValues(e, wireOf(e), { shard: i % 8, leaf: i, topic: 'bench', offset: i }).values;
      }),
    );
  }
  const formats = {
    text: {
      encode: (rows: CopyValue[][]) => copyChunks(rows),
      sql: `COPY copy_text (${RECORD_ROW_COLUMNS.join(', ')}) FROM STDIN`,
    },
    binary: {
      encode: (rows: CopyValue[][]) => binaryCopyChunks(rows, RECORD_ROW_TYPE_LIST),
      sql: recordsCopySql('copy_binary'),
    },
  };
  type Format = keyof typeof formats;
  const spent: Record<Format, { node: number[]; send: number[]; pg: number[] }> = {
    text: { node: [], send: [], pg: [] },
    binary: { node: [], send: [], pg: [] },
  };
  const run = async (f: Format, rows: CopyValue[][], keep: boolean) => {
    const c0 = ownCpuMicros();
    const body = formats[f].encode(rows);
    const node = ownCpuMicros() - c0;
    const p0 = processCpuSeconds(pid) ?? 0;
    const s0 = ownCpuMicros();
    await client.query('BEGIN');
    await pipeline(Readable.from(body), client.query(copyFrom(formats[f].sql)));
    await client.query('COMMIT');
    const send = ownCpuMicros() - s0;
    const pgS = (processCpuSeconds(pid) ?? 0) - p0;
    if (keep) {
      spent[f].node.push(node / rows.length);
      spent[f].send.push(send / rows.length);
      spent[f].pg.push((pgS / rows.length) * 1e6);
    }
  };
  for (let k = 0; k < batches.length; k++) {
    const order: Format[] = k % 2 === 0 ? ['text', 'binary'] : ['binary', 'text'];
    for (const f of order) await run(f, batches[k], k >= WARM);
  }
  const [{ differ }] = (
    await client.query<{ differ: number }>(
      `SELECT (SELECT count(*) FROM (SELECT * FROM copy_text EXCEPT ALL SELECT * FROM copy_binary) a)
            + (SELECT count(*) FROM (SELECT * FROM copy_binary EXCEPT ALL SELECT * FROM copy_text) b) AS differ`,
    )
  ).rows;
  const m = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  console.log(`COPY of ${BATCHES} batches of ${B} records rows per format (after ${WARM} warm-up), mean per row:`);
  for (const f of ['text', 'binary'] as const)
    console.log(
      `  ${f.padEnd(6)}  Node encode ${m(spent[f].node).toFixed(2)} µs, send ${m(spent[f].send).toFixed(2)} µs   PostgreSQL COPY + COMMIT ${m(spent[f].pg).toFixed(2)} µs`,
    );
  console.log(
    `  binary ÷ text: Node ${(m(spent.binary.node) / m(spent.text.node)).toFixed(2)}×, PostgreSQL ${(m(spent.binary.pg) / m(spent.text.pg)).toFixed(2)}×`,
  );
  console.log(`  rows that differ between the two tables: ${differ}`);
  if (Number(differ) !== 0) process.exitCode = 1;
} finally {
  client.release();
  await db.drop();
}
