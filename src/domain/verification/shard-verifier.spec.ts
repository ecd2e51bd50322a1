import { ledgerEntryLeafHash, type LedgerEntry } from '../ledger-entry/ledger-entry.js';
import { ShardVerifier } from './shard-verifier.js';

describe('ShardVerifier names tenant chain faults with the shared codes', () => {
  /** Entries of tenant acme at every leaf of shard 0, each linked to the one before. */
  function rows(n: number) {
    const out: Array<{ eventId: string; entry: LedgerEntry; storedLeafHash: Buffer }> = [];
    for (let i = 0; i < n; i++) {
      const tenant_prev = i === 0 ? null : out[i - 1].storedLeafHash.toString('hex');
      const entry: LedgerEntry = {
        v: 1,
        shard: 0,
        index: i,
        tenant_id: 'acme',
        tenant_seq: i,
        tenant_prev,
        record: { tenant_id: 'acme', event_id: `e${i}` },
      };
      out.push({ eventId: `e${i}`, entry, storedLeafHash: ledgerEntryLeafHash(entry) });
    }
    return out;
  }

  /** Replaces row i's entry, re-hashing it so that only the chain is wrong. */
  function forged(all: ReturnType<typeof rows>, i: number, over: Partial<LedgerEntry>) {
    const entry = { ...all[i].entry, ...over };
    all[i] = { ...all[i], entry, storedLeafHash: ledgerEntryLeafHash(entry) };
    return all;
  }

  const chainProblems = (all: ReturnType<typeof rows>) => {
    const v = new ShardVerifier(0);
    v.addEntries(all);
    return v.problems.map((p) => ({ code: p.code, eventId: p.eventId }));
  };

  it('finds nothing in an unbroken chain', () => {
    expect(chainProblems(rows(5))).toEqual([]);
  });

  it('SEQ_GAP at the entry after missing ones', () => {
    const all = forged(rows(5), 2, { tenant_seq: 7 });
    expect(chainProblems(all)[0]).toEqual({ code: 'SEQ_GAP', eventId: 'e2' });
  });

  it('OUT_OF_ORDER at a repeated tenant_seq', () => {
    const all = forged(rows(5), 3, { tenant_seq: 2 });
    expect(chainProblems(all)[0]).toEqual({ code: 'OUT_OF_ORDER', eventId: 'e3' });
  });

  it('PREV_MISMATCH at an entry re-hashed after an edit (its successor no longer links)', () => {
    const all = forged(rows(5), 2, { record: { tenant_id: 'acme', event_id: 'e2', provider: 'forged' } });
    expect(chainProblems(all)).toEqual([{ code: 'PREV_MISMATCH', eventId: 'e3' }]);
  });
});
