// Pipeline functions on the consumer's thread, batches of 1000, the previous batch held alive
// until the next one is done (as an append in flight is): total process CPU per event.
import { decodeBatch } from './dist/src/ingest/decode-batch.js';
import { decodeEvent } from './dist/src/ingest/adapters/format-detection.js';
import { prepareRecord } from './dist/src/ledger/prepare-record.js';
import { planAppend } from './dist/src/ledger/append-plan.js';
import { summarizeBatch } from './dist/src/domain/summary/batch-summaries.js';
import { recordCopyValues, RECORD_ROW_TYPE_LIST } from './dist/src/ledger/record-columns.js';
import { binaryCopyChunks } from './dist/src/database/copy-binary.js';
import { benchEvent, wireOf, WIRE_HEADERS } from './dist/bench/lib/env.js';
import { EMPTY_ROOT } from './dist/src/domain/merkle/hasher.js';
const N = 40000, B = 1000;
const msgs = Array.from({ length: N }, (_, i) => ({ offset: String(i), value: wireOf(benchEvent(i)), headers: { ...WIRE_HEADERS } }));
let head = { shard: 1, treeSize: 0, root: EMPTY_ROOT, frontier: [] };
const tenantHeads = new Map();
let held = [];
const run = () => {
  for (let i = 0; i < N; i += B) {
    const items = decodeBatch(msgs.slice(i, i + B), { topic: 't', partition: 1, maxMessageBytes: 1 << 20, receivedAt: new Date(), decode: decodeEvent });
    const prepared = items.map((it) => prepareRecord(it.offset, it.record));
    const plan = planAppend(head, tenantHeads, prepared);
    head = plan.head; for (const [t, h] of plan.tenantHeads) tenantHeads.set(t, h);
    const s = summarizeBatch(plan.entries.map((e) => e.record));
    const body = binaryCopyChunks(plan.entries.map(recordCopyValues), RECORD_ROW_TYPE_LIST);
    held.push({ items, prepared, plan, s, body }); if (held.length > 2) held.shift();
  }
};
run();
const u0 = process.cpuUsage(); const t0 = performance.now();
for (let k = 0; k < 3; k++) run();
const u = process.cpuUsage(u0);
console.log(process.execArgv.join(' ') || '(default)', 'process CPU µs/event', ((u.user + u.system) / (3 * N)).toFixed(1), 'wall µs/event', ((performance.now() - t0) * 1000 / (3 * N)).toFixed(1));
