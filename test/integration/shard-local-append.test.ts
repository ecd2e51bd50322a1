import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { CONFIG } from '../../src/config/config.module.js';
import type { SigningConfig } from '../../src/config/app-config.js';
import { LedgerAppendRepository } from '../../src/ledger/ledger-append.repository.js';
import { LedgerAppendService, type AppendBatchResult } from '../../src/ledger/ledger-append.service.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { SigningKeyService } from '../../src/ledger/signing-key.service.js';
import { startLedgerContext } from '../support/ledger-context.js';
import {
  COORDINATOR_TABLES,
  GLOBAL_TABLES,
  REPLICATED_TABLES,
  SHARD_KEYED_TABLES,
  shardLocalityViolations,
  tableUses,
  type Statement,
} from '../support/shard-local-sql.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(120_000);

/**
 * The append transaction is shard-local (src/ledger/ledger-append.repository.ts): the SQL of real
 * batches, captured on the connection the append runs on, names only shard-keyed tables selected
 * by the batch's shard (or event_ids, alone in its statement), and the migrated schema keys every
 * shard-keyed table by shard. Event ids stay unique across shards.
 */

/** The append's DataSource seam: the real one, whose query runners hand out a recording client. */
function recordingDataSource(db: DataSource, log: Statement[]): DataSource {
  const createQueryRunner: DataSource['createQueryRunner'] = (mode) => {
    const qr = db.createQueryRunner(mode);
    const connect = qr.connect.bind(qr);
    qr.connect = async () => {
      const client = (await connect()) as PoolClient;
      return new Proxy(client, {
        get(target, prop) {
          if (prop !== 'query') {
            const v: unknown = Reflect.get(target, prop);
            return typeof v === 'function' ? v.bind(target) : v;
          }
          return (...args: unknown[]) => {
            const [q, values] = args as [string | { text: string; values?: unknown[] }, unknown];
            log.push(
              typeof q === 'string'
                ? { text: q, values: Array.isArray(values) ? values : [] }
                : { text: q.text, values: q.values ?? [] },
            );
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        },
      });
    };
    return qr;
  };
  return { createQueryRunner } as DataSource;
}

/** Event i delivered at `offset` of `partition` (source stamped as the consumer does); `change` alters its content. */
const record = (i: number, partition: number, offset: number, change?: string): DecodedItem => {
  const r = validEvent(i);
  const source = { ...r.source, topic: 'routing.decisions', partition, offset: String(offset) };
  return {
    kind: 'record',
    offset: String(offset),
    record: { ...r, source, ...(change === undefined ? {} : { request_id: change }) },
  };
};

describe('shard-local append: the SQL of real batches and the schema', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let dataDir: string;
  const log: Statement[] = [];
  let append: LedgerAppendService;

  /** Appends one batch to `partition` (= its shard) and returns its result and statements. */
  async function batch(partition: number, items: DecodedItem[]): Promise<AppendBatchResult & { sql: Statement[] }> {
    log.length = 0;
    const last = Number(items[items.length - 1].offset);
    const res = await append.appendBatch({
      topic: 'routing.decisions',
      partition,
      groupId: 'shard-local',
      items,
      nextOffset: String(last + 1),
    });
    return { ...res, sql: [...log] };
  }

  beforeAll(async () => {
    db = await createTestDatabase('rl_shardlocal');
    dataDir = mkdtempSync(join(tmpdir(), 'rl-shardlocal-'));
    ({ app } = await startLedgerContext(db.url, { DATA_DIR: dataDir }));
    append = new LedgerAppendService(
      app.get<SigningConfig>(CONFIG.signing),
      recordingDataSource(app.get(DataSource), log),
      app.get(SigningKeyService),
      app.get(LedgerAppendRepository),
    );
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('the rule itself', () => {
    it('flags a shard-keyed table read without a shard predicate in its own clause', () => {
      // The duplicate lookup as it was before event ids were claimed per shard.
      const before = `SELECT (SELECT max(tree_size) FROM checkpoints WHERE shard = $2) AS size,
        (SELECT json_agg(event_id) FROM records WHERE event_id = ANY($1::text[])) AS seen`;
      expect(shardLocalityViolations({ text: before, values: [['e1'], 3] }, 3)).toEqual([
        expect.stringMatching(/^FROM records in: .*no shard = <the batch's shard> predicate/),
      ]);
      const wrongShard = 'SELECT 1 FROM records WHERE shard = $1 AND event_id = $2';
      expect(shardLocalityViolations({ text: wrongShard, values: [4, 'e1'] }, 3)).toHaveLength(1);
      expect(shardLocalityViolations({ text: wrongShard, values: [3, 'e1'] }, 3)).toEqual([]);
      // A simple query has no parameters: the shard is a literal.
      const literal = 'BEGIN; SELECT tree_size FROM shard_heads WHERE shard = 4 FOR UPDATE';
      expect(shardLocalityViolations({ text: literal, values: [] }, 3)).toHaveLength(1);
      expect(shardLocalityViolations({ text: literal, values: [] }, 4)).toEqual([]);
      expect(shardLocalityViolations({ text: literal.replace('= 4', '= 41'), values: [] }, 4)).toHaveLength(1);
    });

    it('flags writes without the shard, global tables sharing a statement, and unknown tables', () => {
      const offsets = `INSERT INTO consumed_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)`;
      expect(shardLocalityViolations({ text: offsets, values: ['g', 't', 3, '9'] }, 3)).toEqual([
        expect.stringMatching(/does not write the shard column/),
      ]);
      const otherShard = `INSERT INTO tenant_heads (shard, tenant_id) SELECT $2, t FROM unnest($1::text[]) AS u(t)`;
      expect(shardLocalityViolations({ text: otherShard, values: [['a'], 4] }, 3)).toEqual([
        expect.stringMatching(/writes shard as \$2/),
      ]);
      const joined = 'SELECT e.shard FROM event_ids e JOIN records r ON r.event_id = e.event_id WHERE r.shard = $1';
      expect(shardLocalityViolations({ text: joined, values: [3] }, 3)).toEqual([
        expect.stringMatching(/the global table shares its statement/),
      ]);
      expect(shardLocalityViolations({ text: 'UPDATE exports SET status = $1', values: ['x'] }, 3)).toEqual([
        expect.stringMatching(/not a shard-keyed table/),
      ]);
      expect(shardLocalityViolations({ text: 'UPDATE gateways SET kind = $1', values: ['x'] }, 3)).toEqual([
        expect.stringMatching(/a replicated table is written/),
      ]);
    });
  });

  describe('real batches', () => {
    const results: Array<AppendBatchResult & { sql: Statement[]; shard: number }> = [];

    beforeAll(async () => {
      // Shard 1: 300 new records (a full tile) and a poison message.
      const first = Array.from({ length: 300 }, (_, i) => record(i, 1, i));
      const poison: DecodedItem = {
        kind: 'poison',
        offset: '300',
        reasonCode: 'INVALID_JSON',
        reason: 'not JSON',
        payload: Buffer.from('{'),
        headers: {},
      };
      results.push({ shard: 1, ...(await batch(1, [...first, poison])) });
      // Shard 1 again: new records, a redelivered one and a changed one (same event id).
      results.push({
        shard: 1,
        ...(await batch(1, [
          record(300, 1, 301),
          record(301, 1, 302),
          record(0, 1, 303),
          record(1, 1, 304, 'changed'),
        ])),
      });
      // Shard 2: events shard 1 holds (one the same, one changed), a new one twice.
      results.push({
        shard: 2,
        ...(await batch(2, [record(2, 2, 0), record(3, 2, 1, 'changed'), record(400, 2, 2), record(400, 2, 3)])),
      });
      // Shard 2: only events shard 1 holds: nothing appended, the offset stored.
      results.push({ shard: 2, ...(await batch(2, [record(4, 2, 4), record(5, 2, 5)])) });
      // Shard 2: the previous batch redelivered, below the stored offset.
      results.push({ shard: 2, ...(await batch(2, [record(4, 2, 4), record(5, 2, 5)])) });
    });

    it('appends, and finds duplicates and conflicts across shards as within one', () => {
      const counts = results.map(({ appended, duplicates, conflicts, quarantined, alreadyConsumed }) => ({
        appended,
        duplicates,
        conflicts,
        quarantined,
        alreadyConsumed,
      }));
      expect(counts).toEqual([
        { appended: 300, duplicates: 0, conflicts: 0, quarantined: 1, alreadyConsumed: 0 },
        { appended: 2, duplicates: 1, conflicts: 1, quarantined: 1, alreadyConsumed: 0 },
        { appended: 1, duplicates: 2, conflicts: 1, quarantined: 1, alreadyConsumed: 0 },
        { appended: 0, duplicates: 2, conflicts: 0, quarantined: 0, alreadyConsumed: 0 },
        { appended: 0, duplicates: 0, conflicts: 0, quarantined: 0, alreadyConsumed: 2 },
      ]);
    });

    it('quarantines a conflict with another shard with the stored content hash, as within a shard', async () => {
      const rows = await db.query<{ event_id: string; shard: number; existing: string; stored: string }>(
        `SELECT q.event_id, q.shard, encode(q.existing_sha256, 'hex') AS existing, encode(r.content_sha256, 'hex') AS stored
         FROM quarantine q JOIN records r ON r.event_id = q.event_id WHERE q.reason_code = 'CONFLICT' ORDER BY q.shard`,
      );
      expect(rows.map((r) => [r.event_id, r.shard])).toEqual([
        [validEvent(1).event_id, 1],
        [validEvent(3).event_id, 2],
      ]);
      for (const r of rows) expect(r.existing).toBe(r.stored);
    });

    it('sends only statements that stay in the batch shard (or claim event ids alone)', () => {
      const violations = results.flatMap((r) => r.sql.flatMap((s) => shardLocalityViolations(s, r.shard)));
      expect(violations).toEqual([]);
    });

    it('captured the whole transaction: every table the append writes, BEGIN and COMMIT', () => {
      const tables = new Set(results.flatMap((r) => r.sql.flatMap((s) => tableUses(s.text).map((u) => u.table))));
      expect([...tables].sort()).toEqual(
        [
          'checkpoints',
          'consumed_offsets',
          'event_ids',
          'merkle_partial_tiles',
          'merkle_tiles',
          'quarantine',
          'records',
          'shard_heads',
          'tenant_heads',
          'traffic_minutes',
          'finding_hours',
          'cost_hours',
        ].sort(),
      );
      for (const r of results) {
        // BEGIN travels with the shard lock (and the lease's idle timeout) as one simple query.
        expect(r.sql[0].text).toMatch(/^BEGIN;/);
        expect(r.sql[r.sql.length - 1].text).toBe('COMMIT');
      }
    });

    it('stores an event delivered to two partitions at once in one shard only', async () => {
      // Shards 3 and 4 append the same 40 events at the same time, in opposite orders.
      const ids = Array.from({ length: 40 }, (_, k) => 500 + k);
      const [a, b] = await Promise.all([
        batch(
          3,
          ids.map((i, k) => record(i, 3, k)),
        ),
        batch(
          4,
          [...ids].reverse().map((i, k) => record(i, 4, k)),
        ),
      ]);
      expect(a.appended + b.appended).toBe(40);
      expect(a.duplicates + b.duplicates).toBe(40);
      expect(a.conflicts + b.conflicts).toBe(0);
      const stored = await db.query<{ n: string; shards: string }>(
        `SELECT count(*) AS n, count(DISTINCT (event_id, shard)) AS shards FROM records WHERE event_id = ANY($1::text[])`,
        [ids.map((i) => validEvent(i).event_id)],
      );
      expect(stored[0]).toEqual({ n: '40', shards: '40' });
    });

    it('stores every row in the shard of its partition, and each event id once ledger-wide', async () => {
      const misplaced = await db.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM quarantine WHERE shard IS DISTINCT FROM partition)
              + (SELECT count(*) FROM consumed_offsets WHERE shard <> partition)
              + (SELECT count(*) FROM records WHERE shard IS DISTINCT FROM kafka_partition) AS n`,
      );
      expect(Number(misplaced[0].n)).toBe(0);
      const ids = await db.query<{ records: string; event_ids: string; matched: string }>(
        `SELECT (SELECT count(*) FROM records) AS records, (SELECT count(*) FROM event_ids) AS event_ids,
                (SELECT count(*) FROM records r JOIN event_ids e USING (event_id, shard, content_sha256)) AS matched`,
      );
      expect(ids[0]).toEqual({ records: '343', event_ids: '343', matched: '343' });
    });
  });

  describe('the migrated schema', () => {
    it('classifies every table: shard-keyed, replicated, global or coordinator-only', async () => {
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      const classified = [...SHARD_KEYED_TABLES, ...REPLICATED_TABLES, ...GLOBAL_TABLES, ...COORDINATOR_TABLES];
      expect(new Set(classified).size).toBe(classified.length);
      expect(tables.map((t) => t.table_name).sort()).toEqual(classified.sort());
    });

    it('has shard in the primary key and unique constraints of every shard-keyed table', async () => {
      const keys = await db.query<{ table_name: string; constraint_type: string; columns: string[] }>(
        `SELECT tc.table_name, tc.constraint_type, array_agg(k.column_name::text ORDER BY k.ordinal_position) AS columns
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage k
           ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name
         WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
         GROUP BY tc.table_name, tc.constraint_name, tc.constraint_type`,
      );
      const ofShardKeyed = keys.filter((k) => SHARD_KEYED_TABLES.includes(k.table_name));
      // Each has a key (traffic_minutes, finding_hours, cost_hours: a unique constraint only), and every key holds shard.
      expect(new Set(ofShardKeyed.map((k) => k.table_name))).toEqual(new Set(SHARD_KEYED_TABLES));
      expect(ofShardKeyed.filter((k) => !k.columns.includes('shard'))).toEqual([]);
      expect(keys.filter((k) => k.table_name === 'event_ids')).toEqual([
        { table_name: 'event_ids', constraint_type: 'PRIMARY KEY', columns: ['event_id'] },
      ]);
    });

    it('has shard in every unique index of a shard-keyed table (constraints or not)', async () => {
      const unique = await db.query<{ table_name: string; index_name: string; columns: string[] }>(
        `SELECT t.relname AS table_name, i.relname AS index_name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
         WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace
         GROUP BY 1, 2`,
      );
      const ofShardKeyed = unique.filter((u) => SHARD_KEYED_TABLES.includes(u.table_name));
      expect(new Set(ofShardKeyed.map((u) => u.table_name))).toEqual(new Set(SHARD_KEYED_TABLES));
      expect(ofShardKeyed.filter((u) => !u.columns.includes('shard'))).toEqual([]);
      // Event ids are unique ledger-wide through event_ids alone.
      expect(unique.filter((u) => u.columns.length === 1 && u.columns[0] === 'event_id')).toEqual([
        { table_name: 'event_ids', index_name: 'event_ids_pkey', columns: ['event_id'] },
      ]);
    });
  });
});
