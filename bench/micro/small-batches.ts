/**
 * `node dist/bench/micro/small-batches.js [batch size, default 10]`: the per-batch fixed cost of the
 * append, call by call. LedgerAppendService.appendBatch on batches of 10 demo events into a scratch database (as the
 * bench's stage section does), with each repository call timed: Node CPU and wall per batch for
 * the shard lock, the state read, the id claims, the records COPY and the closing statement
 * (which carries the records itself for batches of up to INLINE_RECORDS_MAX); the remainder is
 * BEGIN/COMMIT, preparing, planning, the proof and the signature.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../test/support/test-database.js';
import { loadConfigSection } from '../../src/config/app-config.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { generateSigningKey } from '../../src/domain/checkpoint/signing-key.js';
import { decodeEvent } from '../../src/ingest/adapters/format-detection.js';
import { decodeBatch, type DecodedItem } from '../../src/ingest/decode-batch.js';
import { LedgerAppendRepository } from '../../src/ledger/ledger-append.repository.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import type { SigningKeyService } from '../../src/ledger/signing-key.service.js';
import { benchEvent, WIRE_HEADERS, wireOf } from '../lib/env.js';
import { ownCpuMicros, processCpuSeconds } from '../lib/proc.js';

const B = Number(process.argv[2] ?? 10);
// 100 + 300 batches of 10; fewer of larger ones (each is decoded up front and held).
const WARM = Math.max(5, Math.round(1000 / B));
const MEASURED = Math.max(20, Math.round(3000 / B));
const TIMED = ['lockShard', 'batchState', 'claimEventIds', 'insertRecords', 'closeBatch'] as const;

const db = await createTestDatabase('rl_bench_small', 2);
const ds = new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 }));
try {
  await ds.initialize();
  const key = await generateSigningKey();
  const repo = new LedgerAppendRepository();
  const spent = new Map<string, { cpu: number; wall: number }>();
  const timed = repo as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of TIMED) {
    const call = timed[name].bind(repo);
    timed[name] = async (...a: unknown[]) => {
      const c = ownCpuMicros();
      const t = performance.now();
      try {
        return await call(...a);
      } finally {
        const s = spent.get(name) ?? { cpu: 0, wall: 0 };
        spent.set(name, { cpu: s.cpu + ownCpuMicros() - c, wall: s.wall + performance.now() - t });
      }
    };
  }
  const keys = { current: async () => key } as unknown as SigningKeyService;
  const service = new LedgerAppendService(loadConfigSection('signing', { NODE_ENV: 'test' }), ds, keys, repo);
  const batches: DecodedItem[][] = [];
  for (let k = 0; k < WARM + MEASURED; k++) {
    const messages = Array.from({ length: B }, (_, j) => ({
      offset: String(k * B + j),
      value: wireOf(benchEvent(k * B + j)),
      headers: { ...WIRE_HEADERS },
    }));
    batches.push(
      decodeBatch(messages, {
        topic: 'bench',
        partition: 3,
        maxMessageBytes: 1 << 20,
        receivedAt: new Date(),
        decode: decodeEvent,
      }),
    );
  }
  const append = (k: number) =>
    service.appendBatch({
      topic: 'bench',
      partition: 3,
      groupId: 'bench',
      items: batches[k],
      nextOffset: String((k + 1) * B),
    });
  for (let k = 0; k < WARM; k++) await append(k);
  spent.clear();
  // PostgreSQL's side: the CPU of this database's backends (the pool's connections) over the measured batches.
  const backends = (
    await ds.query<Array<{ pid: number }>>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')
  ).map((r) => r.pid);
  const pgCpu = () => backends.reduce((a, pid) => a + (processCpuSeconds(pid) ?? 0), 0);
  const pg0 = pgCpu();
  const c0 = ownCpuMicros();
  const t0 = performance.now();
  for (let k = WARM; k < WARM + MEASURED; k++) await append(k);
  const perBatch = (v: number) => (v / MEASURED).toFixed(3);
  const total = ownCpuMicros() - c0;
  const pgUs = (pgCpu() - pg0) * 1e6;
  console.log(
    `batch of ${B} (${MEASURED} batches): Node CPU ${perBatch(total / 1000)} ms (${(total / MEASURED / B).toFixed(1)} µs/record), wall ${perBatch(performance.now() - t0)} ms; PostgreSQL CPU ${perBatch(pgUs / 1000)} ms (${(pgUs / MEASURED / B).toFixed(1)} µs/record)`,
  );
  for (const [name, s] of spent)
    console.log(`  ${name.padEnd(14)} CPU ${perBatch(s.cpu / 1000)} ms, wall ${perBatch(s.wall)} ms`);
} finally {
  await ds.destroy().catch(() => undefined);
  await db.drop();
}
