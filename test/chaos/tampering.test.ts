import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { contentHash, ledgerEntryLeafHash, type LedgerEntry } from '../../src/domain/ledger-entry/ledger-entry.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { queryColumns } from '../../src/ledger/record-columns.js';
import { entryFromRow, type EntryDbRow } from '../../src/ledger/ledger-read.repository.js';
import { canonicalJson } from '../../src/domain/canonical/canonical-json.js';
import { appendLeaves } from '../../src/domain/merkle/append.js';
import { tilesAfterAppend } from '../../src/domain/merkle/tiles.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/test-database.js';
import { serviceEnv } from '../support/service-env.js';
import { validEvent } from '../support/workload.js';
import { FULL, kafkaFor, scaled, startService, summary, verifyCli, waitConsumed } from '../support/chaos-kit.js';

/**
 * Tampering. One ledger is built by the real service; every case then tampers with a
 * fresh copy of it (CREATE DATABASE ... TEMPLATE) as a superuser with the append-only triggers
 * disabled (session_replication_role = replica), and `npm run verify` must exit 1 naming the
 * first affected record: its event id where the record still exists, else its shard and leaf.
 */
jest.setTimeout(FULL ? 1_800_000 : 600_000);

const TOPIC = 'routing.decisions';
const PARTITIONS = 3;
const EVENTS = scaled(1500, 6000);

/** A records row as stored: the record is its canonical JSON text. */
type Row = EntryDbRow & { record: string };

/** What the verify output must name: an event id, or a shard position when no record is left to name. */
type Expect = { code: RegExp; names: string };

interface Case {
  table: 'records' | 'merkle_tiles' | 'checkpoints';
  kind: 'edit' | 'delete' | 'insert' | 'reorder';
  name: string;
  /** Tampers with the copy; returns what verify must report. */
  apply(db: ScratchDatabase): Promise<Expect>;
}

async function tamper(db: ScratchDatabase, sql: string, params: unknown[] = []): Promise<void> {
  // One statement list in one transaction; SET LOCAL ends with it. Triggers do not fire in replica mode.
  const inline = sql.replace(/\$(\d+)/g, (_m, i: string) => literal(params[Number(i) - 1]));
  await db.query(`BEGIN; SET LOCAL session_replication_role = replica; ${inline}; COMMIT;`);
}

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'::bytea`;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'object') return `'${JSON.stringify(v).replace(/'/g, "''")}'::jsonb`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

async function rowAt(db: ScratchDatabase, shard: number, leaf: number): Promise<Row> {
  const [r] = await db.query<Row & Record<string, unknown>>(
    'SELECT * FROM records WHERE shard = $1 AND leaf_index = $2',
    [shard, leaf],
  );
  if (!r) throw new Error(`no record at shard ${shard} leaf ${leaf}`);
  return r;
}

const entryOf = entryFromRow;

async function headOf(db: ScratchDatabase, shard: number): Promise<{ size: number; frontier: Buffer[] }> {
  const [h] = await db.query<{ tree_size: string; frontier: Buffer[] }>(
    'SELECT tree_size, frontier FROM shard_heads WHERE shard = $1',
    [shard],
  );
  return { size: Number(h.tree_size), frontier: h.frontier };
}

async function checkpointSizes(db: ScratchDatabase, shard: number): Promise<number[]> {
  return (
    await db.query<{ tree_size: string }>('SELECT tree_size FROM checkpoints WHERE shard = $1 ORDER BY tree_size', [
      shard,
    ])
  ).map((r) => Number(r.tree_size));
}

/** A forged record for `tenant` at the end of its chain in `shard`, with a correct leaf hash. */
async function forgeEntry(
  db: ScratchDatabase,
  shard: number,
  index: number,
  eventId: string,
): Promise<{ entry: LedgerEntry; leaf: Buffer; record: Record<string, unknown> }> {
  const [t] = await db.query<{ tenant_id: string; next_seq: string; last_leaf_hash: Buffer }>(
    'SELECT tenant_id, next_seq, last_leaf_hash FROM tenant_heads WHERE shard = $1 ORDER BY tenant_id LIMIT 1',
    [shard],
  );
  const template = JSON.parse((await rowAt(db, shard, 0)).record) as Record<string, unknown>;
  const record = {
    ...template,
    event_id: eventId,
    request_id: `req-${eventId}`,
    tenant_id: t.tenant_id,
    provider: 'forged-provider',
  };
  const entry: LedgerEntry = {
    v: 1,
    shard,
    index,
    tenant_id: t.tenant_id,
    tenant_seq: Number(t.next_seq),
    tenant_prev: t.last_leaf_hash.toString('hex'),
    record,
  };
  return { entry, leaf: ledgerEntryLeafHash(entry), record };
}

async function insertForged(db: ScratchDatabase, f: Awaited<ReturnType<typeof forgeEntry>>): Promise<void> {
  // A careful forger: every query column says what the forged record says.
  const q = queryColumns(f.record as unknown as CanonicalRecord);
  await tamper(
    db,
    `INSERT INTO records (event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, content_sha256, occurred_at, received_at,
       request_id, trace_id, gateway_id, requested_model, resolved_model, provider, region_served, fallback_used, cache_status, outcome_status,
       signals, record, kafka_topic, kafka_partition, kafka_offset)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
    [
      f.record.event_id as string,
      f.entry.shard,
      f.entry.index,
      f.entry.tenant_id,
      f.entry.tenant_seq,
      Buffer.from(f.entry.tenant_prev!, 'hex'),
      f.leaf,
      contentHash(f.record),
      q.occurred_at,
      q.received_at,
      q.request_id,
      q.trace_id,
      q.gateway_id,
      q.requested_model,
      q.resolved_model,
      q.provider,
      q.region_served,
      q.fallback_used,
      q.cache_status,
      q.outcome_status,
      `{${q.signals.join(',')}}`,
      canonicalJson(f.record),
      q.kafka_topic,
      q.kafka_partition,
      q.kafka_offset,
    ],
  );
}

const CASES: Case[] = [
  {
    table: 'records',
    kind: 'edit',
    name: 'record content (jsonb)',
    apply: async (db) => {
      const v = await rowAt(db, 1, 123);
      await tamper(
        db,
        `UPDATE records SET record = jsonb_set(record::jsonb, '{provider}', '"cheaper-provider"')::text WHERE event_id = $1`,
        [v.event_id],
      );
      return { code: /LEAF_HASH_MISMATCH/, names: v.event_id };
    },
  },
  {
    table: 'records',
    kind: 'edit',
    name: 'denormalized query column (provider)',
    apply: async (db) => {
      const v = await rowAt(db, 0, 77);
      await tamper(db, `UPDATE records SET provider = 'cheaper-provider' WHERE event_id = $1`, [v.event_id]);
      return { code: /./, names: v.event_id };
    },
  },
  {
    table: 'records',
    kind: 'edit',
    name: 'denormalized query column (occurred_at, tenant index)',
    apply: async (db) => {
      const v = await rowAt(db, 2, 5);
      await tamper(db, `UPDATE records SET occurred_at = occurred_at - interval '400 days' WHERE event_id = $1`, [
        v.event_id,
      ]);
      return { code: /./, names: v.event_id };
    },
  },
  {
    table: 'records',
    kind: 'edit',
    name: 'record and its stored leaf hash recomputed to match',
    apply: async (db) => {
      const v = await rowAt(db, 0, 200);
      const record = { ...(JSON.parse(v.record) as Record<string, unknown>), provider: 'cheaper-provider' };
      const leaf = ledgerEntryLeafHash({ ...entryOf(v), record });
      await tamper(
        db,
        `UPDATE records SET record = $1, provider = 'cheaper-provider', leaf_hash = $2 WHERE event_id = $3`,
        [canonicalJson(record), leaf, v.event_id],
      );
      return { code: /./, names: v.event_id };
    },
  },
  {
    table: 'records',
    kind: 'edit',
    name: 'tenant chain position (tenant_seq)',
    apply: async (db) => {
      const v = await rowAt(db, 1, 300);
      await tamper(db, `UPDATE records SET tenant_seq = tenant_seq + 100000 WHERE event_id = $1`, [v.event_id]);
      return { code: /SEQ_GAP|LEAF_HASH_MISMATCH/, names: v.event_id };
    },
  },
  {
    table: 'records',
    kind: 'delete',
    name: 'a record in the middle',
    apply: async (db) => {
      const v = await rowAt(db, 0, 250);
      const next = await rowAt(db, 0, 251);
      await tamper(db, `DELETE FROM records WHERE event_id = $1`, [v.event_id]);
      return { code: /LEAF_INDEX_GAP/, names: next.event_id };
    },
  },
  {
    table: 'records',
    kind: 'delete',
    name: 'the last record of a shard',
    apply: async (db) => {
      const { size } = await headOf(db, 2);
      await tamper(db, `DELETE FROM records WHERE shard = 2 AND leaf_index = $1`, [size - 1]);
      return { code: /./, names: `shard 2 leaf ${size - 1}` };
    },
  },
  {
    table: 'records',
    kind: 'insert',
    name: 'a forged record appended (head not updated)',
    apply: async (db) => {
      const { size } = await headOf(db, 1);
      const f = await forgeEntry(db, 1, size, 'forged-append-1');
      await insertForged(db, f);
      return { code: /./, names: 'forged-append-1' };
    },
  },
  {
    table: 'records',
    kind: 'insert',
    name: 'a forged record appended with head and Merkle nodes forged to match',
    apply: async (db) => {
      const head = await headOf(db, 1);
      const f = await forgeEntry(db, 1, head.size, 'forged-append-2');
      await insertForged(db, f);
      const grown = appendLeaves({ treeSize: head.size, frontier: head.frontier }, [f.leaf]);
      const partials = new Map(
        (
          await db.query<{ level: number; idx: string; hashes: Buffer }>(
            'SELECT level, idx, hashes FROM merkle_partial_tiles WHERE shard = 1',
          )
        ).map((r) => [r.level, { level: r.level, index: Number(r.idx), hashes: r.hashes }]),
      );
      const tiles = tilesAfterAppend(partials, grown.nodes);
      for (const t of tiles.full)
        await tamper(db, 'INSERT INTO merkle_tiles (shard, level, idx, hashes) VALUES (1, $1, $2, $3)', [
          t.level,
          t.index,
          t.hashes,
        ]);
      for (const t of tiles.partial) {
        await tamper(
          db,
          'INSERT INTO merkle_partial_tiles (shard, level, idx, hashes) VALUES (1, $1, $2, $3) ON CONFLICT (shard, level) DO UPDATE SET idx = EXCLUDED.idx, hashes = EXCLUDED.hashes',
          [t.level, t.index, t.hashes],
        );
      }
      for (const level of tiles.clearedLevels)
        await tamper(db, 'DELETE FROM merkle_partial_tiles WHERE shard = 1 AND level = $1', [level]);
      await tamper(db, 'UPDATE shard_heads SET tree_size = $1, root_hash = $2, frontier = $3 WHERE shard = 1', [
        grown.treeSize,
        grown.root,
        `{${grown.frontier.map((h) => `"\\\\x${h.toString('hex')}"`).join(',')}}`,
      ]);
      await tamper(
        db,
        `UPDATE tenant_heads SET next_seq = $1, last_leaf_hash = $2 WHERE shard = 1 AND tenant_id = $3`,
        [f.entry.tenant_seq + 1, f.leaf, f.entry.tenant_id],
      );
      return { code: /./, names: 'forged-append-2' };
    },
  },
  {
    table: 'records',
    kind: 'insert',
    name: 'a forged record inserted in the middle (later leaves shifted)',
    apply: async (db) => {
      const at = 400;
      const displaced = await rowAt(db, 0, at);
      await tamper(db, `UPDATE records SET leaf_index = leaf_index + 1000000 WHERE shard = 0 AND leaf_index >= $1`, [
        at,
      ]);
      await tamper(db, `UPDATE records SET leaf_index = leaf_index - 999999 WHERE shard = 0 AND leaf_index >= 1000000`);
      const f = await forgeEntry(db, 0, at, 'forged-middle');
      await insertForged(db, f);
      void displaced;
      return { code: /./, names: 'forged-middle' };
    },
  },
  {
    table: 'records',
    kind: 'reorder',
    name: 'two records swap leaf positions',
    apply: async (db) => {
      const a = await rowAt(db, 2, 150);
      const b = await rowAt(db, 2, 151);
      await tamper(
        db,
        `UPDATE records SET leaf_index = -1 WHERE event_id = $1; UPDATE records SET leaf_index = 150 WHERE event_id = $2; UPDATE records SET leaf_index = 151 WHERE event_id = $1`,
        [a.event_id, b.event_id],
      );
      return { code: /LEAF_HASH_MISMATCH|LEAF_INDEX_GAP/, names: b.event_id };
    },
  },
  {
    table: 'records',
    kind: 'reorder',
    name: 'a record moved to another shard',
    apply: async (db) => {
      const v = await rowAt(db, 1, 50);
      const next = await rowAt(db, 1, 51);
      await tamper(
        db,
        `UPDATE records SET shard = 0, leaf_index = 9000000, tenant_seq = tenant_seq + 5000000 WHERE event_id = $1`,
        [v.event_id],
      );
      return { code: /LEAF_INDEX_GAP|ENTRY_MISPLACED/, names: `${next.event_id}|${v.event_id}` };
    },
  },
  {
    table: 'merkle_tiles',
    kind: 'edit',
    name: 'a leaf hash inside a full tile',
    apply: async (db) => {
      const first = await rowAt(db, 0, 12);
      await tamper(
        db,
        'UPDATE merkle_tiles SET hashes = overlay(hashes placing $1 from 12 * 32 + 1 for 32) WHERE shard = 0 AND level = 0 AND idx = 0',
        [randomBytes(32)],
      );
      return { code: /NODE_MISMATCH/, names: `${first.event_id}|shard 0 leaf 12` };
    },
  },
  {
    table: 'merkle_tiles',
    kind: 'edit',
    name: 'a leaf hash inside the right-edge partial tile',
    apply: async (db) => {
      const [partial] = await db.query<{ idx: string }>(
        'SELECT idx FROM merkle_partial_tiles WHERE shard = 0 AND level = 0',
      );
      const leaf = Number(partial.idx) * 256 + 5;
      const first = await rowAt(db, 0, leaf);
      await tamper(
        db,
        'UPDATE merkle_partial_tiles SET hashes = overlay(hashes placing $1 from 5 * 32 + 1 for 32) WHERE shard = 0 AND level = 0',
        [randomBytes(32)],
      );
      return { code: /NODE_MISMATCH/, names: `${first.event_id}|shard 0 leaf ${leaf}` };
    },
  },
  {
    table: 'merkle_tiles',
    kind: 'delete',
    name: 'a full tile',
    apply: async (db) => {
      const first = await rowAt(db, 1, 0);
      await tamper(db, 'DELETE FROM merkle_tiles WHERE shard = 1 AND level = 0 AND idx = 0');
      return { code: /NODE_MISMATCH/, names: `${first.event_id}|shard 1 leaf 0` };
    },
  },
  {
    table: 'merkle_tiles',
    kind: 'insert',
    name: 'a stray full tile beyond the tree (blocks the append that reaches it)',
    apply: async (db) => {
      const { size } = await headOf(db, 2);
      const idx = Math.floor(size / 256) + 1;
      await tamper(db, 'INSERT INTO merkle_tiles (shard, level, idx, hashes) VALUES (2, 0, $1, $2)', [
        idx,
        randomBytes(8192),
      ]);
      return { code: /STRAY_NODE/, names: `shard 2 leaf ${idx * 256}` };
    },
  },
  {
    table: 'merkle_tiles',
    kind: 'insert',
    name: 'hashes appended to a partial tile beyond the tree',
    apply: async (db) => {
      const { size } = await headOf(db, 1);
      await tamper(db, 'UPDATE merkle_partial_tiles SET hashes = hashes || $1 WHERE shard = 1 AND level = 0', [
        randomBytes(32),
      ]);
      return { code: /STRAY_NODE/, names: `shard 1 leaf ${size}` };
    },
  },
  {
    table: 'merkle_tiles',
    kind: 'reorder',
    name: 'two hashes swap places inside a tile',
    apply: async (db) => {
      const [partial] = await db.query<{ idx: string }>(
        'SELECT idx FROM merkle_partial_tiles WHERE shard = 2 AND level = 0',
      );
      const leaf = Number(partial.idx) * 256;
      const first = await rowAt(db, 2, leaf);
      await tamper(
        db,
        'UPDATE merkle_partial_tiles SET hashes = substring(hashes from 33 for 32) || substring(hashes from 1 for 32) || substring(hashes from 65) WHERE shard = 2 AND level = 0',
      );
      return { code: /NODE_MISMATCH/, names: `${first.event_id}|shard 2 leaf ${leaf}` };
    },
  },
  {
    table: 'checkpoints',
    kind: 'edit',
    name: 'a signed root hash',
    apply: async (db) => {
      const sizes = await checkpointSizes(db, 0);
      const size = sizes[Math.floor(sizes.length / 2)];
      await tamper(db, 'UPDATE checkpoints SET root_hash = $1 WHERE shard = 0 AND tree_size = $2', [
        randomBytes(32),
        size,
      ]);
      return { code: /CHECKPOINT_SIGNATURE_INVALID|ROOT_MISMATCH/, names: `shard 0` };
    },
  },
  {
    table: 'checkpoints',
    kind: 'edit',
    name: 'a signature byte',
    apply: async (db) => {
      const sizes = await checkpointSizes(db, 1);
      const size = sizes[1];
      await tamper(
        db,
        `UPDATE checkpoints SET jws = left(jws, length(jws) - 5) || CASE WHEN substr(jws, length(jws) - 4, 1) = 'A' THEN 'B' ELSE 'A' END || right(jws, 4) WHERE shard = 1 AND tree_size = $1`,
        [size],
      );
      return { code: /CHECKPOINT_SIGNATURE_INVALID/, names: 'shard 1' };
    },
  },
  {
    table: 'checkpoints',
    kind: 'delete',
    name: 'a checkpoint in the middle of the history',
    apply: async (db) => {
      const sizes = await checkpointSizes(db, 2);
      await tamper(db, 'DELETE FROM checkpoints WHERE shard = 2 AND tree_size = $1', [
        sizes[Math.floor(sizes.length / 2)],
      ]);
      return { code: /./, names: 'shard 2' };
    },
  },
  {
    table: 'checkpoints',
    kind: 'delete',
    name: 'the latest checkpoint (an unsigned tail remains)',
    apply: async (db) => {
      const sizes = await checkpointSizes(db, 0);
      await tamper(db, 'DELETE FROM checkpoints WHERE shard = 0 AND tree_size = $1', [sizes[sizes.length - 1]]);
      return { code: /./, names: 'shard 0' };
    },
  },
  {
    table: 'checkpoints',
    kind: 'insert',
    name: 'a forged checkpoint between two real ones',
    apply: async (db) => {
      const sizes = await checkpointSizes(db, 1);
      const size = sizes.find((s, i) => i > 0 && s - sizes[i - 1] > 1)! - 1;
      const [cp] = await db.query<{ jws: string; kid: string }>(
        'SELECT jws, kid FROM checkpoints WHERE shard = 1 ORDER BY tree_size LIMIT 1',
      );
      await tamper(
        db,
        `INSERT INTO checkpoints (shard, tree_size, root_hash, signed_at, kid, jws, prev_tree_size, consistency_proof) VALUES (1, $1, $2, now(), $3, $4, NULL, '{}')`,
        [size, randomBytes(32), cp.kid, cp.jws],
      );
      return { code: /CHECKPOINT_SIGNATURE_INVALID|ROOT_MISMATCH/, names: 'shard 1' };
    },
  },
  {
    table: 'checkpoints',
    kind: 'reorder',
    name: 'two checkpoints swap signatures',
    apply: async (db) => {
      const sizes = await checkpointSizes(db, 2);
      const [a, b] = [sizes[2], sizes[3]];
      await tamper(
        db,
        `UPDATE checkpoints c SET jws = o.jws FROM checkpoints o WHERE c.shard = 2 AND o.shard = 2 AND ((c.tree_size = $1 AND o.tree_size = $2) OR (c.tree_size = $2 AND o.tree_size = $1))`,
        [a, b],
      );
      return { code: /CHECKPOINT_SIGNATURE_INVALID/, names: 'shard 2' };
    },
  },
];

describe('chaos: tampering with superuser SQL is found by npm run verify', () => {
  let kafka: DevKafka;
  let base: ScratchDatabase;

  afterAll(async () => {
    await kafka?.stop();
    await base?.drop();
  });

  it(`detects each of ${CASES.length} edits, deletions, insertions and reorderings, naming the first affected record`, async () => {
    kafka = await startDevKafka({
      topics: [
        { name: TOPIC, partitions: PARTITIONS },
        { name: 'routing.decisions.dlq', partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    base = await createScratchDatabase('rl_chaos_tamper');
    const svc = await startService(await serviceEnv({ db: base, brokers: kafka.brokers }));
    try {
      const producer = kafkaFor(kafka.brokers).producer();
      await producer.connect();
      // Small sends: many batches, so many signed checkpoints per shard.
      for (let i = 0; i < EVENTS; i += 50) {
        await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: Array.from({ length: Math.min(50, EVENTS - i) }, (_, k) => {
            const e = validEvent(i + k);
            return { key: e.request_id, value: JSON.stringify(e) };
          }),
        });
      }
      await producer.disconnect();
      await waitConsumed(base, kafka.brokers, { describe: () => svc.output().slice(-3000) });
    } finally {
      await svc.kill('SIGTERM');
    }

    const clean = await verifyCli(base.url);
    expect(clean.out).toContain(`VERIFIED: ${EVENTS} records`);

    // Tamper with one copy per case (sequentially), verify up to three copies at once: the
    // CLI's start-up dominates its run time on a small ledger.
    type Result = { table: string; kind: string; name: string; detected: boolean; named: boolean; first: string };
    const results: Result[] = [];
    const inFlight = new Set<Promise<void>>();
    for (const c of CASES) {
      const db = await base.copy('rl_chaos_tcase');
      const want = await c.apply(db).catch(async (e) => {
        await db.drop();
        throw e;
      });
      const slot = results.length;
      results.push({ table: c.table, kind: c.kind, name: c.name, detected: false, named: false, first: 'not run' });
      const job: Promise<void> = (async () => {
        try {
          const out = await verifyCli(db.url);
          const first =
            /TAMPERED: .*First: (.*)/.exec(out.out)?.[1] ?? out.out.split('\n').filter(Boolean).slice(-1)[0] ?? '';
          results[slot].detected = out.code === 1 && want.code.test(out.out);
          results[slot].named = want.names.split('|').some((n) => first.includes(n));
          results[slot].first = first.slice(0, 240);
        } finally {
          await db.drop();
        }
      })().finally(() => inFlight.delete(job));
      inFlight.add(job);
      if (inFlight.size >= 3) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);

    for (const r of results)
      process.stdout.write(
        `  tamper ${r.detected ? (r.named ? 'FOUND+NAMED' : 'FOUND      ') : 'MISSED     '} ${r.table}/${r.kind}: ${r.name} -> ${r.first}\n`,
      );
    const byTable = (t: string) =>
      `${results.filter((r) => r.table === t && r.detected).length}/${results.filter((r) => r.table === t).length}`;
    summary('tampering', {
      cases: results.length,
      detected: results.filter((r) => r.detected).length,
      named_first_record: results.filter((r) => r.detected && r.named).length,
      records: byTable('records'),
      merkle_tiles: byTable('merkle_tiles'),
      checkpoints: byTable('checkpoints'),
      missed:
        results
          .filter((r) => !r.detected)
          .map((r) => `${r.table}/${r.name}`)
          .join('; ') || 'none',
      unnamed:
        results
          .filter((r) => r.detected && !r.named)
          .map((r) => `${r.table}/${r.name}`)
          .join('; ') || 'none',
    });
    expect(results.filter((r) => !r.detected)).toEqual([]);
    expect(results.filter((r) => !r.named)).toEqual([]);
  });
});
