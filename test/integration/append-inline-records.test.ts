import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INLINE_RECORDS_MAX, LedgerAppendRepository } from '../../src/ledger/ledger-append.repository.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { prepareRecord } from '../../src/ledger/prepare-record.js';
import { QUERY_COLUMN_NAMES } from '../../src/ledger/record-columns.js';
import { startLedgerContext } from '../support/ledger-context.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(120_000);

/**
 * Small batches send their records inside the closing statement (arrays and one joined text),
 * larger ones by COPY (src/ledger/ledger-append.repository.ts, INLINE_RECORDS_MAX). Both must
 * store the same rows: the verifier recomputes every leaf from the stored text and compares
 * every query column with the record's own, and the rows are compared here column by column.
 */
describe('append: records inside the closing statement store the same rows as COPY', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let dataDir: string;
  let append: LedgerAppendService;
  let repo: LedgerAppendRepository;

  /** Event i with text that needs escaping in both encodings: quotes, backslashes, a tab, non-ASCII. */
  const tricky = (i: number, partition: number, offset: number): DecodedItem => {
    const r = validEvent(i);
    const source = { ...r.source, topic: 'routing.decisions', partition, offset: String(offset) };
    const record = { ...r, source, request_id: `req-${i} "quoted" back\\slash\ttab é ☃ {braces,comma}` };
    // Every other record without a trace id: a NULL in the arrays.
    if (i % 2 === 1) delete record.trace_id;
    return { kind: 'record', offset: String(offset), record };
  };

  async function batch(partition: number, first: number, count: number, offset: number) {
    const items = Array.from({ length: count }, (_, k) => tricky(first + k, partition, offset + k));
    return append.appendBatch({
      topic: 'routing.decisions',
      partition,
      groupId: 'inline',
      items,
      nextOffset: String(offset + count),
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase('rl_inline');
    dataDir = mkdtempSync(join(tmpdir(), 'rl-inline-'));
    ({ app } = await startLedgerContext(db.url, { DATA_DIR: dataDir }));
    append = app.get(LedgerAppendService);
    repo = app.get(LedgerAppendRepository);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores small batches without COPY and large ones by COPY, and both verify', async () => {
    const copies = jest.spyOn(repo, 'insertRecords');
    // Shard 1: batches of 1, 10 and INLINE_RECORDS_MAX records, all inside the closing statement.
    let offset = 0;
    let first = 0;
    for (const n of [1, 10, INLINE_RECORDS_MAX]) {
      expect((await batch(1, first, n, offset)).appended).toBe(n);
      offset += n;
      first += n;
    }
    expect(copies).not.toHaveBeenCalled();
    // Shard 2: one record more than that, by COPY.
    expect((await batch(2, 1000, INLINE_RECORDS_MAX + 1, 0)).appended).toBe(INLINE_RECORDS_MAX + 1);
    expect(copies).toHaveBeenCalledTimes(1);
    copies.mockRestore();

    const report = await app.get(LedgerService).verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.shards.map((s) => [s.shard, s.records])).toEqual([
      [1, 75],
      [2, 65],
    ]);
  });

  it('stores each record’s canonical text, query columns and tenant chain exactly', async () => {
    const rows = await db.query<Record<string, unknown>>(
      `SELECT shard, leaf_index::int AS leaf_index, event_id, tenant_id, tenant_seq::int AS tenant_seq, tenant_prev, leaf_hash,
              content_sha256, record, request_id, trace_id, signals, kafka_partition, kafka_offset::text AS kafka_offset,
              to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at
         FROM records ORDER BY shard, leaf_index`,
    );
    expect(rows).toHaveLength(140);
    const lastLeaf = new Map<string, Buffer>();
    const seq = new Map<string, number>();
    for (const row of rows) {
      const i = row.shard === 1 ? (row.leaf_index as number) : 1000 + (row.leaf_index as number);
      const item = tricky(i, row.shard as number, row.leaf_index as number);
      if (item.kind !== 'record') throw new Error('not a record');
      const prepared = prepareRecord(item.offset, item.record);
      expect(row.record).toBe(prepared.json);
      expect((row.content_sha256 as Buffer).equals(prepared.contentSha256)).toBe(true);
      expect(row.request_id).toBe(item.record.request_id);
      expect(row.trace_id ?? undefined).toBe(item.record.trace_id);
      expect(row.occurred_at).toBe(item.record.occurred_at);
      expect(row.signals).toEqual(prepared.queryValues[QUERY_COLUMN_NAMES.indexOf('signals')]);
      expect(row.kafka_partition).toBe(row.shard);
      expect(row.kafka_offset).toBe(item.offset);
      const chain = `${String(row.shard)}/${String(row.tenant_id)}`;
      expect(row.tenant_seq).toBe(seq.get(chain) ?? 0);
      expect(row.tenant_prev ?? null).toEqual(lastLeaf.get(chain) ?? null);
      seq.set(chain, (row.tenant_seq as number) + 1);
      lastLeaf.set(chain, row.leaf_hash as Buffer);
    }
  });
});
