/**
 * `node dist/bench/micro/decode-pool.js`: CPU per event of decoding and preparing demo batches
 * on the consumer's thread (decodeBatch + prepareItems) against a DecodePool of one worker, in
 * one process: the cost of handing batches to a thread and back, all threads counted, and the
 * part the receiving thread pays (its event-loop busy time). Best of 8 rounds of 5,000 events.
 */
import { benchEvent, WIRE_HEADERS, wireOf } from '../lib/env.js';
import { ownCpuMicros } from '../lib/proc.js';
import { decodeBatch, type RawMessage } from '../../src/ingest/decode-batch.js';
import { decodeEvent } from '../../src/ingest/adapters/format-detection.js';
import { DecodePool } from '../../src/ingest/decode-pool.js';
import { prepareItems } from '../../src/ledger/prepare-record.js';

const N = 5000;
const B = 1000;
const ROUNDS = 8;
const wires = Array.from({ length: N }, (_, i) => wireOf(benchEvent(i)));
const batches: RawMessage[][] = [];
for (let i = 0; i < N; i += B) {
  batches.push(
    wires.slice(i, i + B).map((value, j) => ({ offset: String(i + j), value, headers: { ...WIRE_HEADERS } })),
  );
}
const ctx = { topic: 'bench', partition: 1, maxMessageBytes: 1 << 20 };

let inThread = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  const t = ownCpuMicros();
  for (const b of batches) prepareItems(decodeBatch(b, { ...ctx, receivedAt: new Date(), decode: decodeEvent }));
  inThread = Math.min(inThread, (ownCpuMicros() - t) / N);
}

const pool = new DecodePool(1);
const source = { generation: 1, rows: [], defaultTenant: 'default' };
let pooled = Infinity;
let receiving = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  const t = ownCpuMicros();
  let busyMs = 0;
  for (const b of batches) {
    const elu = performance.eventLoopUtilization();
    await pool.decode({ ...ctx, receivedAt: new Date(), messages: b }, source);
    busyMs += performance.eventLoopUtilization(elu).active;
  }
  pooled = Math.min(pooled, (ownCpuMicros() - t) / N);
  receiving = Math.min(receiving, (busyMs * 1000) / N);
}
await pool.close();
console.log(`decode + prepare on the consumer's thread: ${inThread.toFixed(1)} µs/event`);
console.log(
  `through a DecodePool of 1 worker, all threads: ${pooled.toFixed(1)} µs/event (${(pooled - inThread).toFixed(1)} µs for the hand-over)`,
);
console.log(`  of which the consumer's thread (event-loop busy): ${receiving.toFixed(1)} µs/event`);
