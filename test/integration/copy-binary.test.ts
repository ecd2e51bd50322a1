import { jest } from '@jest/globals';
import fc from 'fast-check';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import { binaryCopyChunks } from '../../src/database/copy-binary.js';
import { copyChunks, type CopyValue } from '../../src/database/copy-text.js';
import {
  RECORD_ROW_COLUMNS,
  RECORD_ROW_TYPE_LIST,
  RECORD_ROW_TYPES,
  recordsCopySql,
} from '../../src/ledger/record-columns.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

jest.setTimeout(120_000);

/**
 * The append COPYs `records` rows in PostgreSQL's binary format (src/database/copy-binary.ts).
 * What PostgreSQL stores must be what the text format stored for the same values: both are
 * written here into tables shaped like `records` and read back whole.
 */
describe('COPY binary stores what COPY text stores', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('rl_copy_binary');
    // The columns and their types, without the indexes: random rows may repeat a unique key.
    await db.query('CREATE TABLE rows_text (LIKE records INCLUDING DEFAULTS)');
    await db.query('CREATE TABLE rows_binary (LIKE records INCLUDING DEFAULTS)');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('declares each records column with the type the migrations gave it', async () => {
    const rows = await db.query<{ column_name: string; data_type: string; udt_name: string; is_nullable: string }>(
      `SELECT column_name, data_type, udt_name, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = 'records' ORDER BY ordinal_position`,
    );
    const binaryType: Record<string, string> = {
      text: 'text',
      integer: 'int4',
      bigint: 'int8',
      bytea: 'bytea',
      'timestamp with time zone': 'timestamptz',
    };
    const actual = Object.fromEntries(
      rows.map((r) => [
        r.column_name,
        r.data_type === 'ARRAY' && r.udt_name === '_text' ? 'text[]' : (binaryType[r.data_type] ?? r.data_type),
      ]),
    );
    expect(actual).toEqual(RECORD_ROW_TYPES);
    expect([...RECORD_ROW_COLUMNS].sort()).toEqual(Object.keys(actual).sort());
    expect(
      rows
        .filter((r) => r.is_nullable === 'NO')
        .map((r) => r.column_name)
        .sort(),
    ).toEqual([...NOT_NULL].sort());
  });

  // PostgreSQL text holds no NUL; everything else, astral planes and lone escapes included, must survive.
  const text = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\0/g, ''));
  const tricky = fc.constantFrom(
    'a\tb',
    'line\nbreak',
    'back\\slash',
    '"quoted"',
    '{braces,comma}',
    'NULL',
    '\\N',
    'é☃😀',
    '',
  );
  const someText = fc.oneof(text, tricky);
  // Years 0001-9999: the record's timestamps have four digits and no year 0 (record-json-schema.ts).
  const ms = fc.integer({ min: Date.parse('0001-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') });
  const timestamp = ms.map((t) => new Date(t).toISOString());
  const int8 = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.maxSafeInteger(),
    fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
  );
  const bytes = fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b));
  const nullable = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null });
  const valueOf: Record<string, fc.Arbitrary<CopyValue>> = {
    text: someText,
    int4: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    int8,
    bytea: bytes,
    timestamptz: timestamp,
    'text[]': fc.array(someText, { maxLength: 4 }),
  };
  /** The NOT NULL columns of `records` (the first test holds this list to the table). */
  const NOT_NULL = new Set<string>([
    'event_id',
    'shard',
    'leaf_index',
    'tenant_id',
    'tenant_seq',
    'leaf_hash',
    'content_sha256',
    'occurred_at',
    'received_at',
    'request_id',
    'gateway_id',
    'requested_model',
    'outcome_status',
    'signals',
    'record',
  ]);
  const row: fc.Arbitrary<CopyValue[]> = fc.tuple(
    ...RECORD_ROW_COLUMNS.map((c) => {
      const a = valueOf[RECORD_ROW_TYPES[c]];
      return NOT_NULL.has(c) ? a : nullable(a);
    }),
  );

  async function copyInto(sql: string, body: Buffer[]): Promise<void> {
    const client: pg.PoolClient = await db.pool.connect();
    try {
      await pipeline(Readable.from(body), client.query(copyFrom(sql)));
    } finally {
      client.release();
    }
  }

  /** Every row, every column as PostgreSQL prints it, in insertion order. */
  const readBack = (table: string) => db.query(`SELECT ctid, * FROM ${table} ORDER BY ctid`);

  it('gives the same stored values for random rows, NULLs and text that needs escaping', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
        await db.query('TRUNCATE rows_text, rows_binary');
        const columns = RECORD_ROW_COLUMNS.join(', ');
        await copyInto(`COPY rows_text (${columns}) FROM STDIN`, copyChunks(rows));
        // A small chunk size: fields and tuples then straddle the stream's messages.
        await copyInto(recordsCopySql('rows_binary'), binaryCopyChunks(rows, RECORD_ROW_TYPE_LIST, 100));
        const [a, b] = await Promise.all([readBack('rows_text'), readBack('rows_binary')]);
        expect(b.length).toBe(rows.length);
        expect(b.map(({ ctid: _, ...r }) => r)).toEqual(a.map(({ ctid: _, ...r }) => r));
      }),
      { numRuns: 40 },
    );
  });

  it('stores the timestamp the record states, to the millisecond, across the years PostgreSQL and the schema share', async () => {
    const times = [
      '0001-01-01T00:00:00.000Z',
      '1999-12-31T23:59:59.999Z',
      '2000-01-01T00:00:00.000Z',
      '2026-02-28T12:34:56.789Z',
      '9999-12-31T23:59:59.999Z',
    ];
    await db.query('TRUNCATE rows_binary');
    const rows = times.map((t, i) =>
      RECORD_ROW_COLUMNS.map((c): CopyValue => {
        if (c === 'occurred_at' || c === 'received_at') return t;
        if (c === 'signals') return ['a', 'b'];
        return NOT_NULL.has(c)
          ? RECORD_ROW_TYPES[c] === 'bytea'
            ? Buffer.from([i])
            : RECORD_ROW_TYPES[c] === 'text'
              ? `t${i}`
              : i
          : null;
      }),
    );
    await copyInto(recordsCopySql('rows_binary'), binaryCopyChunks(rows, RECORD_ROW_TYPE_LIST));
    const stored = await db.query<{ t: string; signals: string[] }>(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t, signals FROM rows_binary ORDER BY leaf_index`,
    );
    expect(stored.map((r) => r.t)).toEqual(times);
    expect(stored.every((r) => r.signals.join() === 'a,b')).toBe(true);
  });

  it('refuses a row whose value does not fit its column instead of storing something else', () => {
    const types = RECORD_ROW_TYPE_LIST;
    const base: CopyValue[] = RECORD_ROW_COLUMNS.map(() => null);
    const at = (c: (typeof RECORD_ROW_COLUMNS)[number], v: CopyValue) => {
      const r = [...base];
      r[RECORD_ROW_COLUMNS.indexOf(c)] = v;
      return r;
    };
    expect(() => binaryCopyChunks([at('occurred_at', 'yesterday')], types)).toThrow(/timestamptz/);
    // Outside the record's form, where Date.parse and PostgreSQL would disagree: no zone (local
    // time), microseconds, a day that does not exist, year 0.
    for (const t of [
      '2026-01-01T00:00:00.000',
      '2026-01-01T00:00:00.000001Z',
      '2026-02-30T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00Z',
    ])
      expect(() => binaryCopyChunks([at('occurred_at', t)], types)).toThrow(/timestamptz/);
    expect(() => binaryCopyChunks([at('leaf_index', 1.5)], types)).toThrow(/int8/);
    expect(() => binaryCopyChunks([at('shard', 2 ** 31)], types)).toThrow(/int4/);
    expect(() => binaryCopyChunks([at('leaf_hash', 'ab')], types)).toThrow(/bytea/);
    expect(() => binaryCopyChunks([base.slice(1)], types)).toThrow(/values for/);
  });
});
