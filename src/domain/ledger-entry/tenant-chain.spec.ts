import type { LedgerEntry } from './ledger-entry.js';
import { tenantChainLinkBreak, type ChainPredecessor } from './tenant-chain.js';

const PREV_HASH = 'ab'.repeat(32);
const previous: ChainPredecessor = { tenant_seq: 4, leaf_hash: PREV_HASH, index: 10 };
const next = (over: Partial<LedgerEntry> = {}) => ({
  tenant_id: 'acme',
  shard: 2,
  tenant_seq: 5,
  tenant_prev: PREV_HASH,
  index: 11,
  ...over,
});

describe('tenantChainLinkBreak', () => {
  it('accepts the next entry of the chain, and a chain start', () => {
    expect(tenantChainLinkBreak(previous, next())).toBeNull();
    expect(tenantChainLinkBreak(null, next({ tenant_seq: 0, tenant_prev: null, index: 0 }))).toBeNull();
  });

  it('names missing entries SEQ_GAP, with how many', () => {
    expect(tenantChainLinkBreak(previous, next({ tenant_seq: 8 }))).toEqual({
      code: 'SEQ_GAP',
      expected: 'tenant_seq 5',
      found: 'tenant_seq 8',
      message: '3 record(s) of tenant acme in shard 2 are missing after tenant_seq 4',
    });
    expect(tenantChainLinkBreak(null, next({ tenant_seq: 2, tenant_prev: null }))).toMatchObject({
      code: 'SEQ_GAP',
      message: '2 record(s) of tenant acme in shard 2 are missing at the start of its chain',
    });
  });

  it('names a repeated or earlier tenant_seq OUT_OF_ORDER', () => {
    expect(tenantChainLinkBreak(previous, next({ tenant_seq: 4 }))).toMatchObject({
      code: 'OUT_OF_ORDER',
      expected: 'tenant_seq 5',
      found: 'tenant_seq 4',
    });
    expect(tenantChainLinkBreak(previous, next({ tenant_seq: 1 }))?.code).toBe('OUT_OF_ORDER');
  });

  it('names a wrong tenant_prev PREV_MISMATCH, also at a chain start', () => {
    expect(tenantChainLinkBreak(previous, next({ tenant_prev: 'cd'.repeat(32) }))).toMatchObject({
      code: 'PREV_MISMATCH',
      expected: `tenant_prev ${PREV_HASH}`,
      found: 'cd'.repeat(32),
    });
    expect(tenantChainLinkBreak(null, next({ tenant_seq: 0 }))).toMatchObject({
      code: 'PREV_MISMATCH',
      expected: 'tenant_prev null',
      found: PREV_HASH,
    });
  });

  it('names an entry not later in the log INDEX_NOT_INCREASING', () => {
    expect(tenantChainLinkBreak(previous, next({ index: 10 }))).toMatchObject({
      code: 'INDEX_NOT_INCREASING',
      expected: 'index > 10',
      found: '10',
    });
  });

  it('checks tenant_seq before tenant_prev before index', () => {
    expect(tenantChainLinkBreak(previous, next({ tenant_seq: 9, tenant_prev: null, index: 0 }))?.code).toBe('SEQ_GAP');
    expect(tenantChainLinkBreak(previous, next({ tenant_prev: null, index: 0 }))?.code).toBe('PREV_MISMATCH');
  });
});
