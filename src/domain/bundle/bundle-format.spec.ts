import {
  completenessLineDefect,
  exportQueryDefect,
  manifestDefect,
  occurredInRange,
  recordMatchesFilters,
  HASHED_FILES,
  BUNDLE_ENTRY_ORDER,
} from './bundle-format.js';

const range = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' };

describe('occurredInRange', () => {
  it('is half-open: from inclusive, to exclusive', () => {
    expect(occurredInRange({ occurred_at: '2026-01-01T00:00:00.000Z' }, range)).toBe(true);
    expect(occurredInRange({ occurred_at: '2026-01-01T23:59:59.999Z' }, range)).toBe(true);
    expect(occurredInRange({ occurred_at: '2026-01-02T00:00:00.000Z' }, range)).toBe(false);
    expect(occurredInRange({ occurred_at: '2025-12-31T23:59:59.999Z' }, range)).toBe(false);
  });

  it('puts records without a readable occurred_at outside', () => {
    expect(occurredInRange({}, range)).toBe(false);
    expect(occurredInRange({ occurred_at: 'yesterday' }, range)).toBe(false);
    expect(occurredInRange({ occurred_at: 1767225600000 }, range)).toBe(false);
  });
});

describe('recordMatchesFilters', () => {
  const record = {
    provider: 'openai',
    requested_model: 'gpt-smart',
    gateway: { id: 'gw-1' },
    outcome: { status: 'error' },
  };

  it('matches every record with no filters', () => {
    expect(recordMatchesFilters(record, {})).toBe(true);
  });

  it('needs every filter to match exactly, reading nested members', () => {
    expect(recordMatchesFilters(record, { provider: 'openai', gateway_id: 'gw-1', outcome_status: 'error' })).toBe(
      true,
    );
    expect(recordMatchesFilters(record, { provider: 'openai', requested_model: 'gpt-smarT' })).toBe(false);
    expect(recordMatchesFilters({ ...record, gateway: undefined }, { gateway_id: 'gw-1' })).toBe(false);
  });
});

describe('exportQueryDefect', () => {
  const ok = { tenant: 'acme', ...range, filters: {} };

  it('accepts a well-formed query', () => {
    expect(exportQueryDefect(ok)).toBeNull();
  });

  it.each([
    ['an empty tenant', { ...ok, tenant: '' }],
    ['a time without milliseconds', { ...ok, from: '2026-01-01T00:00:00Z' }],
    ['an empty range', { ...ok, to: ok.from }],
    ['an unknown filter', { ...ok, filters: { colour: 'red' } }],
    ['an extra member', { ...ok, limit: 10 }],
  ])('rejects %s', (_, q) => {
    expect(exportQueryDefect(q)).not.toBeNull();
  });
});

describe('manifestDefect', () => {
  it('requires the files list in the format order', () => {
    expect(HASHED_FILES).toEqual(BUNDLE_ENTRY_ORDER.filter((f) => !f.startsWith('manifest.')));
    expect(manifestDefect({})).toMatch(/manifest members must be exactly/);
  });
});

describe('completenessLineDefect', () => {
  const line = {
    shard: 0,
    tree_size: 10,
    tenant_chain_length: 3,
    first_seq: 1,
    last_seq: 2,
    before: null,
    after: null,
  };

  it('accepts a well-formed line', () => {
    expect(completenessLineDefect(line)).toBeNull();
  });

  it('needs first_seq and last_seq both null or both counts in order', () => {
    expect(completenessLineDefect({ ...line, last_seq: null })).toMatch(/both null/);
    expect(completenessLineDefect({ ...line, first_seq: 3 })).toMatch(/first_seq <= last_seq/);
  });
});
