import type pg from 'pg';
import { RecordsCanonicalText1764190000000 } from '../../migrations/1764190000000-records-canonical-text.js';
import { canonicalJson } from '../../src/domain/canonical/canonical-json.js';
import {
  ledgerEntryBytesWithRecordJson,
  ledgerEntryLeafHash,
  type LedgerEntry,
} from '../../src/domain/ledger-entry/ledger-entry.js';
import { leafHash } from '../../src/domain/merkle/hasher.js';
import { upgradedDatabase } from '../support/migration-upgrade.js';

/**
 * The migration that turns records.record from jsonb into the record's canonical JSON text must
 * convert existing rows exactly: the stored text is the bytes the leaf hash was made from.
 */
describe('migration RecordsCanonicalText: jsonb records become their canonical bytes', () => {
  let db: pg.Pool;
  let drop: (() => Promise<void>) | undefined;

  // Member order unsorted, unicode beyond the BMP, escapes, nested arrays: jsonb's text form
  // would differ from RFC 8785 on each of these.
  const records = [
    {
      tenant_id: 'acme',
      event_id: 'e-1',
      zeta: 'last',
      alpha: { b: 2, a: [1, { d: 'x', c: 'y' }] },
      note: 'caf\u00e9 \u{1F600} "quoted" \\ tab\t',
    },
    {
      source: { raw_sha256: 'ab'.repeat(32), format: 'native' },
      event_id: 'e-2',
      tenant_id: 'beta',
      long_key_name_first: true,
      k: -0,
      n: 9007199254740991,
    },
    { event_id: 'e-3', tenant_id: 'other', '\u00e9': 1, e: 2, E: 3, '': 'empty key' },
  ];
  const entries: LedgerEntry[] = records.map((record, i) => ({
    v: 1,
    shard: 0,
    index: i,
    tenant_id: record.tenant_id,
    tenant_seq: 0,
    tenant_prev: null,
    record,
  }));

  beforeAll(async () => {
    // The schema as it was before this migration, holding records as jsonb.
    ({ pool: db, drop } = await upgradedDatabase(
      RecordsCanonicalText1764190000000,
      async (before) => {
        for (const e of entries) {
          const r = e.record as { event_id: string };
          await before.query(
            `INSERT INTO records (event_id, shard, leaf_index, tenant_id, tenant_seq, leaf_hash, content_sha256, occurred_at, received_at, request_id, gateway_id, requested_model, outcome_status, record)
           VALUES ($1, 0, $2, $3, 0, $4, $4, now(), now(), 'req', 'gw', 'alias', 'success', $5::jsonb)`,
            [r.event_id, e.index, e.tenant_id, ledgerEntryLeafHash(e), JSON.stringify(e.record)],
          );
        }
      },
      { stopAfter: true },
    ));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('stores each record as exactly its canonical JSON, the bytes its leaf hash was made from', async () => {
    const { rows } = await db.query<{ event_id: string; record: string; leaf_hash: Buffer; type: string }>(
      `SELECT event_id, record, leaf_hash, pg_typeof(record)::text AS type FROM records ORDER BY leaf_index`,
    );
    expect(rows).toHaveLength(records.length);
    rows.forEach((row, i) => {
      expect(row.type).toBe('text');
      expect(row.record).toBe(canonicalJson(records[i]));
      expect(leafHash(ledgerEntryBytesWithRecordJson(entries[i], row.record)).equals(row.leaf_hash)).toBe(true);
    });
  });

  it('presents records as jsonb through records_json, and keeps records append-only', async () => {
    const { rows } = await db.query<{ record: object }>(`SELECT record FROM records_json ORDER BY leaf_index`);
    expect(rows.map((r) => r.record)).toEqual(records.map((r) => JSON.parse(JSON.stringify(r))));
    await expect(db.query(`UPDATE records SET record = '{}' WHERE event_id = 'e-1'`)).rejects.toThrow(/append-only/);
  });
});
