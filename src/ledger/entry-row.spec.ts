import { ledgerEntryLeafHash } from '../domain/ledger-entry/ledger-entry.js';
import { entryFromRow, type EntryDbRow } from './entry-row.js';

const row = (record: string | object): EntryDbRow => ({
  event_id: 'evt-1',
  shard: 3,
  leaf_index: '41',
  tenant_id: 'acme',
  tenant_seq: '7',
  tenant_prev: Buffer.alloc(32, 0xab),
  leaf_hash: Buffer.alloc(32),
  record,
});

describe('entryFromRow', () => {
  const text = '{"b":[1,{"c":null}],"a":"x"}';

  it('gives the same entry, and the same leaf hash, whether the record is parsed now or when read', () => {
    const now = entryFromRow(row(text));
    const later = entryFromRow(row(text), 'when-read');
    expect(later).toEqual(now);
    expect(JSON.stringify(later)).toBe(JSON.stringify(now));
    expect(ledgerEntryLeafHash(later)).toEqual(ledgerEntryLeafHash(now));
    expect(now).toMatchObject({ shard: 3, index: 41, tenant_seq: 7, tenant_prev: 'ab'.repeat(32) });
  });

  it("parses a stored text only when 'when-read' entries are read, once", () => {
    const bad = entryFromRow(row('{not json'), 'when-read');
    expect(bad.tenant_id).toBe('acme');
    expect(() => bad.record).toThrow(SyntaxError);
    expect(() => entryFromRow(row('{not json'))).toThrow(SyntaxError);
    const ok = entryFromRow(row(text), 'when-read');
    expect(ok.record).toBe(ok.record);
  });

  it('keeps a record that is already an object', () => {
    const record = { a: 1 };
    expect(entryFromRow(row(record), 'when-read').record).toBe(record);
    expect(entryFromRow(row(record)).record).toBe(record);
  });
});
