import { createHash } from 'node:crypto';
import { leafHash } from '../merkle/hasher.js';
import {
  CONTENT_HASH_EXCLUDED_FIELDS,
  LedgerEntryError,
  contentHash,
  ledgerEntryBytes,
  ledgerEntryLeafHash,
  verifyTenantChain,
  type LedgerEntry,
  type TenantChainLink,
} from './ledger-entry.js';

const record = (over: Record<string, unknown> = {}) => ({
  schema_version: '1',
  event_id: 'evt-1',
  tenant_id: 'acme',
  received_at: '2026-11-25T16:45:59.123Z',
  source: { format: 'native', raw_sha256: 'ab'.repeat(32), topic: 'routing', partition: 3, offset: '42' },
  ...over,
});

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  v: 1,
  shard: 0,
  index: 0,
  tenant_id: 'acme',
  tenant_seq: 0,
  tenant_prev: null,
  record: { tenant_id: 'acme', event_id: 'e' },
  ...over,
});

/** A chain of `n` entries of one tenant, interleaved at every other index of the log. */
function chain(n: number): TenantChainLink[] {
  const links: TenantChainLink[] = [];
  for (let seq = 0; seq < n; seq++) {
    const e = entry({
      index: 2 * seq + 1,
      tenant_seq: seq,
      tenant_prev: seq === 0 ? null : links[seq - 1].leafHash.toString('hex'),
      record: { tenant_id: 'acme', event_id: `e${seq}` },
    });
    links.push({ entry: e, leafHash: ledgerEntryLeafHash(e) });
  }
  return links;
}

const errorCode = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as LedgerEntryError).code;
  }
  return undefined;
};

describe('ledgerEntryBytes and ledgerEntryLeafHash', () => {
  it('are the canonical JSON of the entry and SHA-256(0x00 || it)', () => {
    const e = entry();
    const bytes = ledgerEntryBytes(e);
    expect(bytes.toString('utf8')).toBe(
      '{"index":0,"record":{"event_id":"e","tenant_id":"acme"},"shard":0,"tenant_id":"acme","tenant_prev":null,"tenant_seq":0,"v":1}',
    );
    expect(
      ledgerEntryLeafHash(e).equals(
        createHash('sha256')
          .update(Buffer.from([0]))
          .update(bytes)
          .digest(),
      ),
    ).toBe(true);
    expect(ledgerEntryLeafHash(e).equals(leafHash(bytes))).toBe(true);
  });

  it('commits to the position: the same record at another index hashes differently', () => {
    expect(ledgerEntryLeafHash(entry({ index: 1 })).equals(ledgerEntryLeafHash(entry({ index: 2 })))).toBe(false);
  });

  it('rejects malformed entries before hashing, with codes', () => {
    expect(errorCode(() => ledgerEntryBytes({ ...entry(), extra: 1 } as LedgerEntry))).toBe('UNKNOWN_FIELD');
    expect(errorCode(() => ledgerEntryBytes(entry({ v: 2 as 1 })))).toBe('BAD_VERSION');
    expect(errorCode(() => ledgerEntryBytes(entry({ index: -1 })))).toBe('BAD_POSITION');
    expect(errorCode(() => ledgerEntryBytes(entry({ shard: 1.5 })))).toBe('BAD_POSITION');
    expect(errorCode(() => ledgerEntryBytes(entry({ tenant_id: '' })))).toBe('BAD_TENANT');
    expect(errorCode(() => ledgerEntryBytes(entry({ tenant_seq: 0, tenant_prev: 'ab'.repeat(32) })))).toBe(
      'BAD_TENANT_PREV',
    );
    expect(errorCode(() => ledgerEntryBytes(entry({ tenant_seq: 1, tenant_prev: null })))).toBe('BAD_TENANT_PREV');
    expect(errorCode(() => ledgerEntryBytes(entry({ tenant_seq: 1, tenant_prev: 'AB'.repeat(32) })))).toBe(
      'BAD_TENANT_PREV',
    );
    expect(errorCode(() => ledgerEntryBytes(entry({ record: [] as unknown as object })))).toBe('BAD_RECORD');
    expect(errorCode(() => ledgerEntryBytes(entry({ record: { tenant_id: 'other' } })))).toBe('TENANT_MISMATCH');
    expect(errorCode(() => ledgerEntryBytes(null as unknown as LedgerEntry))).toBe('NOT_AN_OBJECT');
  });

  it('throws LedgerEntryError instances', () => {
    expect(() => ledgerEntryBytes(entry({ v: 0 as 1 }))).toThrow(LedgerEntryError);
  });
});

describe('contentHash', () => {
  it('excludes exactly received_at and source.topic/partition/offset/raw_sha256', () => {
    expect([...CONTENT_HASH_EXCLUDED_FIELDS]).toEqual([
      'received_at',
      'source.topic',
      'source.partition',
      'source.offset',
      'source.raw_sha256',
    ]);
  });

  it('is the same for a re-delivery at another offset and time', () => {
    const again = record({
      received_at: '2026-11-26T00:00:00.000Z',
      source: { format: 'native', raw_sha256: 'ab'.repeat(32), topic: 'routing-retry', partition: 7, offset: '9000' },
    });
    expect(contentHash(again).equals(contentHash(record()))).toBe(true);
  });

  it('differs when the content differs', () => {
    expect(contentHash(record({ event_id: 'evt-2' })).equals(contentHash(record()))).toBe(false);
    expect(
      contentHash(record({ source: { format: 'litellm', raw_sha256: 'ab'.repeat(32) } })).equals(contentHash(record())),
    ).toBe(false);
  });

  it('is the same when only the raw bytes differ (same event re-sent inside another gateway batch)', () => {
    const otherRaw = record({
      source: { format: 'native', raw_sha256: 'cd'.repeat(32), topic: 'routing', partition: 3, offset: '42' },
    });
    expect(contentHash(otherRaw).equals(contentHash(record()))).toBe(true);
  });

  it('is SHA-256 of the canonical JSON of the stripped record', () => {
    const expected = createHash('sha256')
      .update('{"event_id":"evt-1","schema_version":"1","source":{"format":"native"},"tenant_id":"acme"}')
      .digest('hex');
    expect(contentHash(record()).toString('hex')).toBe(expected);
  });

  it('does not modify the record', () => {
    const r = record();
    contentHash(r);
    expect(r.source.offset).toBe('42');
    expect(r.received_at).toBeDefined();
  });
});

describe('verifyTenantChain', () => {
  it('accepts an unbroken chain and an empty one', () => {
    expect(verifyTenantChain(chain(5))).toBeNull();
    expect(verifyTenantChain([])).toBeNull();
  });

  it('accepts a run that starts mid-chain (an export range)', () => {
    expect(verifyTenantChain(chain(6).slice(2))).toBeNull();
  });

  it('names a missing entry (SEQ_GAP) at the first position after the gap', () => {
    const links = chain(5);
    links.splice(2, 1);
    expect(verifyTenantChain(links)).toMatchObject({ position: 2, tenant_seq: 3, code: 'SEQ_GAP' });
  });

  it('names an entry whose leaf hash does not match its content', () => {
    const links = chain(4);
    links[2] = { ...links[2], entry: { ...links[2].entry, record: { tenant_id: 'acme', event_id: 'forged' } } };
    expect(verifyTenantChain(links)).toMatchObject({ position: 2, code: 'LEAF_HASH_MISMATCH' });
  });

  it('names a re-hashed forgery by its broken tenant_prev link', () => {
    const links = chain(4);
    const forged = { ...links[2].entry, record: { tenant_id: 'acme', event_id: 'forged' } };
    links[2] = { entry: forged, leafHash: ledgerEntryLeafHash(forged) };
    expect(verifyTenantChain(links)).toMatchObject({ position: 3, code: 'PREV_MISMATCH' });
  });

  it('names an entry of another tenant or shard', () => {
    const links = chain(3);
    const other = { ...links[2].entry, tenant_id: 'globex', record: { tenant_id: 'globex' } };
    expect(
      verifyTenantChain([links[0], links[1], { entry: other, leafHash: ledgerEntryLeafHash(other) }]),
    ).toMatchObject({
      position: 2,
      code: 'OTHER_TENANT',
    });
    const moved = { ...links[2].entry, shard: 1 };
    expect(
      verifyTenantChain([links[0], links[1], { entry: moved, leafHash: ledgerEntryLeafHash(moved) }]),
    ).toMatchObject({
      position: 2,
      code: 'OTHER_SHARD',
    });
  });

  it('names an entry placed before its predecessor in the log', () => {
    const links = chain(3);
    const early = { ...links[2].entry, index: 0 };
    expect(
      verifyTenantChain([links[0], links[1], { entry: early, leafHash: ledgerEntryLeafHash(early) }]),
    ).toMatchObject({
      position: 2,
      code: 'INDEX_NOT_INCREASING',
    });
  });

  it('names a malformed entry', () => {
    const links = chain(2);
    const bad = { ...links[1].entry, tenant_prev: null };
    expect(verifyTenantChain([links[0], { entry: bad, leafHash: links[1].leafHash }])).toMatchObject({
      position: 1,
      code: 'BAD_ENTRY',
    });
  });
});
