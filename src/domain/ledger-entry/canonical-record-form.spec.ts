import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { CanonicalizationError, canonicalJson } from '../canonical/canonical-json.js';
import { demoEvent } from '../../demo/traffic.js';
import {
  LedgerEntryError,
  canonicalRecordForm,
  contentHash,
  ledgerEntryBytes,
  ledgerEntryBytesWithRecordJson,
  ledgerEntryLeafHash,
  ledgerEntryLeafHashWithRecordJson,
  type LedgerEntry,
} from './ledger-entry.js';

// The values a record can hold: what JSON.parse yields for our schema (strings with any
// code point, safe integers, booleans, null, arrays, objects), plus undefined members.
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.maxSafeInteger(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.option(tie('value'), { nil: undefined }), {
      maxKeys: 4,
    }),
  ),
})).value;

const recordLike = fc.record(
  {
    event_id: fc.string(),
    tenant_id: fc.constant('acme'),
    received_at: fc.string(),
    source: fc.record(
      {
        format: fc.string(),
        raw_sha256: fc.string(),
        topic: fc.string(),
        partition: fc.nat(),
        offset: fc.string(),
        other: jsonValue,
      },
      { requiredKeys: [] },
    ),
    attempts: jsonValue,
    zeta: jsonValue,
    Aleph: jsonValue,
  },
  { requiredKeys: ['event_id'] },
);

const entryOf = (record: object, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  v: 1,
  shard: 3,
  index: 41,
  tenant_id: 'acme',
  tenant_seq: 2,
  tenant_prev: 'ab'.repeat(32),
  record,
  ...over,
});

describe('canonicalRecordForm: one canonicalization for the stored bytes, the content hash and the leaf', () => {
  it("gives canonicalJson(record), the canonicalize package's bytes and contentHash(record) on generated records", () => {
    fc.assert(
      fc.property(recordLike, (record) => {
        const form = canonicalRecordForm(record);
        expect(form.json).toBe(canonicalJson(record));
        expect(form.json).toBe(canonicalize(JSON.parse(JSON.stringify(record))));
        expect(form.contentSha256.equals(contentHash(record))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches on real demo events, and the content hash ignores only the ledger-assigned members', () => {
    for (let seq = 0; seq < 400; seq += 7) {
      const event = demoEvent(seq, { elapsedMs: seq * 600, now: new Date(Date.UTC(2026, 0, 1) + seq) });
      const record = {
        ...event,
        received_at: '2026-01-01T00:00:00.000Z',
        source: { ...event.source, topic: 't', partition: 1, offset: String(seq) },
      };
      const form = canonicalRecordForm(record);
      expect(form.json).toBe(canonicalize(record));
      const moved = canonicalRecordForm({
        ...record,
        received_at: '2027-01-01T00:00:00.000Z',
        source: { ...record.source, offset: '99' },
      });
      expect(moved.contentSha256.equals(form.contentSha256)).toBe(true);
      expect(moved.json).not.toBe(form.json);
      expect(canonicalRecordForm({ ...record, request_id: 'other' }).contentSha256.equals(form.contentSha256)).toBe(
        false,
      );
    }
  });

  it('rejects what canonicalJson rejects, with the same code and path', () => {
    const bad: Array<[object, string, string]> = [
      [{ event_id: 'x', source: { offset: 1.5e300 * 1e10 } }, 'NON_FINITE_NUMBER', '/source/offset'],
      [{ event_id: 'x', note: 'a\ud800b' }, 'LONE_SURROGATE', '/note'],
      [{ event_id: 'x', list: [1, undefined] }, 'UNDEFINED_VALUE', '/list/1'],
      [{ event_id: 'x', when: new Date(0) }, 'NON_PLAIN_OBJECT', '/when'],
    ];
    for (const [record, code, path] of bad) {
      let thrown: unknown;
      try {
        canonicalRecordForm(record);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(CanonicalizationError);
      expect((thrown as CanonicalizationError).code).toBe(code);
      expect((thrown as CanonicalizationError).path).toBe(path);
    }
    const cyclic: Record<string, unknown> = { event_id: 'x' };
    cyclic.self = { back: cyclic };
    expect(() => canonicalRecordForm(cyclic)).toThrow(CanonicalizationError);
    expect(() => canonicalRecordForm([] as unknown as object)).toThrow(LedgerEntryError);
  });
});

describe("ledgerEntryBytesWithRecordJson: the record's bytes spliced into the entry", () => {
  it('equals ledgerEntryBytes(entry) on generated records and positions', () => {
    fc.assert(
      fc.property(recordLike, fc.nat(), fc.maxSafeInteger().map(Math.abs), fc.nat(), (record, shard, index, seq) => {
        const entry = entryOf(record, {
          shard,
          index,
          tenant_seq: seq,
          tenant_prev: seq === 0 ? null : 'cd'.repeat(32),
        });
        expect(
          ledgerEntryBytesWithRecordJson(entry, canonicalRecordForm(record).json).equals(ledgerEntryBytes(entry)),
        ).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the entry preconditions', () => {
    const json = canonicalRecordForm({ tenant_id: 'acme' }).json;
    expect(() => ledgerEntryBytesWithRecordJson(entryOf({ tenant_id: 'acme' }, { tenant_seq: 0 }), json)).toThrow(
      LedgerEntryError,
    );
    expect(() => ledgerEntryBytesWithRecordJson(entryOf({ tenant_id: 'other' }), json)).toThrow(/TENANT|tenant/);
    expect(() => ledgerEntryBytesWithRecordJson(entryOf({ tenant_id: 'acme' }, { index: -1 }), json)).toThrow(
      LedgerEntryError,
    );
  });
});

describe('ledgerEntryLeafHashWithRecordJson: the leaf hash from a position and the record text', () => {
  it('equals ledgerEntryLeafHash(entry) on generated records and positions', () => {
    fc.assert(
      fc.property(recordLike, fc.nat(), fc.maxSafeInteger().map(Math.abs), fc.nat(), (record, shard, index, seq) => {
        const entry = entryOf(record, {
          shard,
          index,
          tenant_seq: seq,
          tenant_prev: seq === 0 ? null : 'ab'.repeat(32),
        });
        const { record: _r, v: _v, ...position } = entry;
        expect(
          ledgerEntryLeafHashWithRecordJson(position, canonicalRecordForm(record).json).equals(
            ledgerEntryLeafHash(entry),
          ),
        ).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('checks the position as ledgerEntryBytes does', () => {
    const json = canonicalRecordForm({ tenant_id: 'acme' }).json;
    const at = { shard: 0, index: 0, tenant_id: 'acme', tenant_seq: 0, tenant_prev: null };
    expect(() => ledgerEntryLeafHashWithRecordJson({ ...at, tenant_seq: 1 }, json)).toThrow(LedgerEntryError);
    expect(() => ledgerEntryLeafHashWithRecordJson({ ...at, tenant_prev: 'ab'.repeat(32) }, json)).toThrow(
      LedgerEntryError,
    );
    expect(() => ledgerEntryLeafHashWithRecordJson({ ...at, index: -1 }, json)).toThrow(LedgerEntryError);
    expect(() => ledgerEntryLeafHashWithRecordJson({ ...at, tenant_id: '' }, json)).toThrow(LedgerEntryError);
  });
});
