/**
 * Section 3, CPU per event by stage: the pipeline's own functions, called one stage at a time
 * on the same events (warmed up first). Pure stages report CPU µs per event; the DB stages
 * report wall µs per event with the Node and PostgreSQL CPU they used.
 */
import { DataSource } from 'typeorm';
import { loadConfigSection } from '../../src/config/app-config.js';
import { copyChunks } from '../../src/database/copy-text.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { canonicalJson } from '../../src/domain/canonical/canonical-json.js';
import { signCheckpoint } from '../../src/domain/checkpoint/checkpoint-jws.js';
import { generateSigningKey } from '../../src/domain/checkpoint/signing-key.js';
import {
  canonicalRecordForm,
  contentHash,
  ledgerEntryBytes,
  ledgerEntryLeafHash,
  type LedgerEntry,
} from '../../src/domain/ledger-entry/ledger-entry.js';
import { appendLeaves } from '../../src/domain/merkle/append.js';
import { EMPTY_ROOT, leafHash } from '../../src/domain/merkle/hasher.js';
import { tilesAfterAppend, type Tile } from '../../src/domain/merkle/tiles.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { deriveSignals } from '../../src/domain/record/derive-signals.js';
import { RECORD_ROW_TYPE_LIST, recordCopyValues } from '../../src/ledger/record-columns.js';
import { binaryCopyChunks } from '../../src/database/copy-binary.js';
import { validateRecord } from '../../src/domain/record/validate-record.js';
import { decodeEvent } from '../../src/ingest/adapters/format-detection.js';
import { decodeBatch, type DecodedItem, type DecodedRecord } from '../../src/ingest/decode-batch.js';
import { planAppend, type PlannedEntry } from '../../src/ledger/append-plan.js';
import { prepareRecord } from '../../src/ledger/prepare-record.js';
import { LedgerAppendRepository } from '../../src/ledger/ledger-append.repository.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import type { SigningKeyService } from '../../src/ledger/signing-key.service.js';
import type { PoolClient } from 'pg';
import type pg from 'pg';
import { benchEvent, WIRE_HEADERS, wireOf } from './env.js';
import { cpuDelta, cpuSnapshot } from './proc.js';

export interface StageFigure {
  stage: string;
  /** CPU of this process per event, µs. */
  cpuUsPerEvent: number;
  /** Wall per event, µs (equal to CPU for pure stages). */
  wallUsPerEvent: number;
  /** PostgreSQL CPU per event, µs (DB stages only). */
  pgUsPerEvent?: number;
  /** Calls per event when not one (per-batch work is divided by the batch size). */
  note?: string;
}

function measure(stage: string, events: number, fn: () => void, note?: string): StageFigure {
  fn(); // warm-up pass: JIT and caches, as in a long-running service
  const a = cpuSnapshot();
  fn();
  const d = cpuDelta(a, cpuSnapshot());
  return { stage, cpuUsPerEvent: (d.selfS * 1e6) / events, wallUsPerEvent: (d.wallS * 1e6) / events, note };
}

async function measureAsync(
  stage: string,
  events: number,
  fn: () => Promise<void>,
  note?: string,
): Promise<StageFigure> {
  const a = cpuSnapshot();
  await fn();
  const d = cpuDelta(a, cpuSnapshot());
  return {
    stage,
    cpuUsPerEvent: (d.selfS * 1e6) / events,
    wallUsPerEvent: (d.wallS * 1e6) / events,
    pgUsPerEvent: d.postgresS === undefined ? undefined : (d.postgresS * 1e6) / events,
    note,
  };
}

/**
 * `events` events (seq from `baseSeq`) through each stage, in batches of `batchSize` where the
 * pipeline works per batch. The DB stages write to `shard` of the database at `databaseUrl`
 * (shards the pipeline does not use).
 */
export async function stageBreakdown(opts: {
  events: number;
  batchSize: number;
  baseSeq: number;
  databaseUrl: string;
  pool: pg.Pool;
  shard: number;
}): Promise<StageFigure[]> {
  const { events: n, batchSize: B } = opts;
  const wires = Array.from({ length: n }, (_, i) => wireOf(benchEvent(opts.baseSeq + i)));
  const receivedAt = new Date();
  const raws = wires.map((payload) => ({ payload, headers: { ...WIRE_HEADERS }, receivedAt }));
  const topic = 'bench.stages';
  const out: StageFigure[] = [];

  out.push(
    measure('JSON.parse of the payload (part of decode/adapt)', n, () => {
      for (const w of wires) JSON.parse(w.toString('utf8'));
    }),
  );
  out.push(
    measure('decode/adapt: decodeEvent (detect + native adapter; it calls validateRecord twice)', n, () => {
      for (const r of raws) decodeEvent(r);
    }),
  );
  const adapted = raws.map((r) => decodeEvent(r)[0].record);
  const stamped = adapted.map((record, i): CanonicalRecord => ({
    ...record,
    received_at: receivedAt.toISOString(),
    source: { ...record.source, topic, partition: opts.shard, offset: String(i) },
  }));
  out.push(
    measure('validate: validateRecord, one call (decodeBatch gate; 3 calls per event in all)', n, () => {
      for (const s of stamped) validateRecord(s);
    }),
  );
  const batches: Array<Array<{ offset: string; value: Buffer; headers: Record<string, string> }>> = [];
  for (let i = 0; i < n; i += B)
    batches.push(
      wires.slice(i, i + B).map((value, j) => ({ offset: String(i + j), value, headers: { ...WIRE_HEADERS } })),
    );
  const ctx = { topic, partition: opts.shard, maxMessageBytes: 1024 * 1024, receivedAt, decode: decodeEvent };
  out.push(
    measure('decodeBatch total (= decode/adapt + stamp + validate, as handleBatch calls it)', n, () => {
      for (const b of batches) decodeBatch(b, ctx);
    }),
  );
  const decoded: DecodedItem[][] = batches.map((b) => decodeBatch(b, ctx));
  const records = decoded
    .flat()
    .filter((d): d is DecodedRecord => d.kind === 'record')
    .map((d) => d.record);
  if (records.length !== n) throw new Error(`stage bench: ${n - records.length} events did not decode`);

  out.push(
    measure('canonicalize: canonicalJson(record)', n, () => {
      for (const r of records) canonicalJson(r);
    }),
  );
  out.push(
    measure(
      'content hash alone: contentHash(record) (canonicalize a copy + SHA-256; the pipeline uses the next line)',
      n,
      () => {
        for (const r of records) contentHash(r);
      },
    ),
  );
  out.push(
    measure(
      'canonicalize once: canonicalRecordForm(record) (stored bytes + content hash, as the append does it)',
      n,
      () => {
        for (const r of records) canonicalRecordForm(r);
      },
    ),
  );
  const formed = records.map((record, i) => prepareRecord(String(i), record));
  const entries: LedgerEntry[] = records.map((record, i) => ({
    v: 1,
    shard: opts.shard,
    index: i,
    tenant_id: record.tenant_id,
    tenant_seq: 0,
    tenant_prev: null,
    record,
  }));
  out.push(
    measure('leaf hash: ledgerEntryLeafHash(entry) (checks + canonicalize + SHA-256)', n, () => {
      for (const e of entries) ledgerEntryLeafHash(e);
    }),
  );
  const leafBytes = entries.map((e) => ledgerEntryBytes(e));
  out.push(
    measure('  of which SHA-256 of the leaf bytes (leafHash)', n, () => {
      for (const b of leafBytes) leafHash(b);
    }),
  );
  const leaves = leafBytes.map((b) => leafHash(b));
  out.push(
    measure(`Merkle: appendLeaves, batches of ${B}`, n, () => {
      let state = { treeSize: 0, frontier: [] as Buffer[] };
      for (let i = 0; i < n; i += B) state = appendLeaves(state, leaves.slice(i, i + B));
    }),
  );
  out.push(
    measure('plan: planAppend (leaf hashes from the canonical bytes + Merkle + tenant chain)', n, () => {
      for (let i = 0; i < n; i += B)
        planAppend({ shard: opts.shard, treeSize: 0, frontier: [] }, new Map(), formed.slice(i, i + B));
    }),
  );
  out.push(
    measure('signals: deriveSignals', n, () => {
      for (const r of records) deriveSignals(r);
    }),
  );
  const plans: Array<ReturnType<typeof planAppend>> = [];
  let head: { shard: number; treeSize: number; frontier: Buffer[] } = { shard: opts.shard, treeSize: 0, frontier: [] };
  const tenantHeads = new Map<string, { nextSeq: number; lastLeafHash: Buffer }>();
  for (let i = 0; i < n; i += B) {
    const p = planAppend(head, tenantHeads, formed.slice(i, i + B));
    plans.push(p);
    head = p.head;
    for (const [t, h] of p.tenantHeads) tenantHeads.set(t, h);
  }
  const rows: PlannedEntry[][] = plans.map((p) => p.entries);
  out.push(
    measure(
      'DB write, Node side: COPY text of the records rows (recordCopyValues + copyChunks, as the append sent them before binary)',
      n,
      () => {
        for (const b of rows) copyChunks(b.map(recordCopyValues));
      },
    ),
  );
  out.push(
    measure(
      'DB write, Node side: COPY binary of the records rows (recordCopyValues + binaryCopyChunks, as the append sends them)',
      n,
      () => {
        for (const b of rows) binaryCopyChunks(b.map(recordCopyValues), RECORD_ROW_TYPE_LIST);
      },
    ),
  );
  out.push(
    measure(`Merkle tiles: tilesAfterAppend, batches of ${B} (the append's tile writes)`, n, () => {
      const partials = new Map<number, Tile>();
      for (const p of plans) {
        const w = tilesAfterAppend(partials, p.nodes);
        for (const l of w.clearedLevels) partials.delete(l);
        for (const t of w.partial) partials.set(t.level, t);
      }
    }),
  );
  const key = await generateSigningKey();
  const cp = {
    origin: 'routing-ledger.local/dev',
    shard: opts.shard,
    tree_size: 1000,
    root_hash: EMPTY_ROOT.toString('hex'),
    timestamp: new Date().toISOString(),
  };
  const signs = Math.max(20, Math.ceil(n / B));
  await signCheckpoint(cp, key);
  out.push(
    await measureAsync(
      `sign: signCheckpoint, once per batch of ${B}`,
      signs * B,
      async () => {
        for (let i = 0; i < signs; i++) await signCheckpoint(cp, key);
      },
      `${signs} signatures`,
    ),
  );

  // DB: the repository's COPYs, in one transaction per batch, on one connection.
  const repo = new LedgerAppendRepository();
  const client = (await opts.pool.connect()) as PoolClient;
  try {
    out.push(
      await measureAsync(`DB write: insertRecords, one transaction per batch of ${B} (wall)`, n, async () => {
        for (let i = 0; i < plans.length; i++) {
          await client.query('BEGIN');
          await repo.insertRecords(client, rows[i]);
          await client.query('COMMIT');
        }
      }),
    );
  } finally {
    client.release();
  }

  // The whole append transaction of the service, without Kafka: reads, COPYs, heads, checkpoint.
  const signing = loadConfigSection('signing', { NODE_ENV: 'test' });
  const ds = new DataSource(dataSourceOptions({ url: opts.databaseUrl, poolSize: 2 }));
  await ds.initialize();
  try {
    const keys = { current: async () => key } as unknown as SigningKeyService;
    const service = new LedgerAppendService(signing, ds, keys, repo);
    // Fresh event ids and another shard: the rows above already hold these events.
    const again = Array.from({ length: n }, (_, i) => wireOf(benchEvent(opts.baseSeq + n + i)));
    const items: DecodedItem[][] = [];
    for (let i = 0; i < n; i += B) {
      items.push(
        decodeBatch(
          again.slice(i, i + B).map((value, j) => ({ offset: String(i + j), value, headers: { ...WIRE_HEADERS } })),
          { ...ctx, partition: opts.shard + 1 },
        ),
      );
    }
    out.push(
      await measureAsync(
        `append transaction: LedgerAppendService.appendBatch, batches of ${B}, decoded input (wall)`,
        n,
        async () => {
          for (let k = 0; k < items.length; k++) {
            await service.appendBatch({
              topic,
              partition: opts.shard + 1,
              groupId: 'bench-stages',
              items: items[k],
              nextOffset: String((k + 1) * B),
            });
          }
        },
        'reads, COPYs, heads, offsets, consistency proof, signature, commit',
      ),
    );
    // The fixed cost per batch (round trips, heads, offsets, checkpoint, commit) shows with tiny batches.
    const small = 10;
    const smallBatches = Math.max(10, Math.min(100, Math.floor(n / small)));
    const tiny: DecodedItem[][] = [];
    for (let k = 0; k < smallBatches; k++) {
      tiny.push(
        decodeBatch(
          Array.from({ length: small }, (_, j) => ({
            offset: String(k * small + j),
            value: wireOf(benchEvent(opts.baseSeq + 2 * n + k * small + j)),
            headers: { ...WIRE_HEADERS },
          })),
          { ...ctx, partition: opts.shard + 2 },
        ),
      );
    }
    const fixed = await measureAsync(
      `append transaction, batches of ${small} (wall per event)`,
      smallBatches * small,
      async () => {
        for (let k = 0; k < tiny.length; k++) {
          await service.appendBatch({
            topic,
            partition: opts.shard + 2,
            groupId: 'bench-stages',
            items: tiny[k],
            nextOffset: String((k + 1) * small),
          });
        }
      },
    );
    fixed.note = `${((fixed.wallUsPerEvent * small) / 1000).toFixed(1)} ms per batch: the per-batch fixed cost`;
    out.push(fixed);
  } finally {
    await ds.destroy();
  }
  return out;
}
