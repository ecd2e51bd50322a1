import fc from 'fast-check';
import { canonicalJson } from '../canonical/canonical-json.js';
import {
  canonicalProofLine,
  factsInRange,
  factsMatchFilters,
  occurredInRange,
  proofLineDefect,
  proofLineText,
  recordFacts,
  recordMatchesFilters,
  type ProofLine,
} from './bundle-format.js';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const count = fc.oneof(fc.nat(1000), fc.constant(Number.MAX_SAFE_INTEGER), fc.nat());
const proofLine = fc.record({
  shard: count,
  index: count,
  leaf_hash: hex64,
  tree_size: count,
  inclusion_proof: fc.array(hex64, { maxLength: 40 }),
});

describe('proofLineText', () => {
  it('is canonicalJson of any well-formed proof line', () => {
    fc.assert(
      fc.property(proofLine, (l) => {
        expect(proofLineDefect(l)).toBeNull();
        expect(proofLineText(l)).toBe(canonicalJson(l));
      }),
    );
  });
});

describe('canonicalProofLine', () => {
  it('reads back exactly the line its canonical text was written from', () => {
    fc.assert(fc.property(proofLine, (l) => expect(canonicalProofLine(canonicalJson(l))).toEqual(l)));
  });

  const line: ProofLine = {
    shard: 1,
    index: 5,
    leaf_hash: 'ab'.repeat(32),
    tree_size: 8,
    inclusion_proof: ['cd'.repeat(32)],
  };
  const text = canonicalJson(line);

  it.each([
    ['whitespace', text.replace(',"index"', ', "index"')],
    [
      'members out of order',
      text.replace('{"inclusion_proof"', '{"index":5,"inclusion_proof"').replace(',"index":5,"leaf', ',"leaf'),
    ],
    ['uppercase hex', text.replace('ab'.repeat(32), 'AB'.repeat(32))],
    ['a short hash', text.replace('cd'.repeat(32), 'cd'.repeat(31))],
    ['a leading zero', text.replace('"index":5', '"index":05')],
    ['a fraction', text.replace('"index":5', '"index":5.0')],
    ['a number beyond safe integers', text.replace('"index":5', '"index":9007199254740993')],
    ['an extra member', text.replace('"tree_size":8}', '"tree_size":8,"x":1}')],
    ['a trailing comma in the list', text.replace(`${'cd'.repeat(32)}"]`, `${'cd'.repeat(32)}",]`)],
    ['an escape', text.replace('"leaf_hash"', '"leaf\\u005fhash"')],
  ])('leaves %s to the general parser', (_, variant) => {
    expect(variant).not.toBe(text);
    expect(canonicalProofLine(variant)).toBeUndefined();
  });
});

describe('record facts', () => {
  const query = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' };
  // Ledger entries' records are always objects (ledgerEntryBytes' preconditions).
  const records: unknown[] = [
    {
      occurred_at: '2026-01-01T00:00:00.000Z',
      provider: 'openai',
      requested_model: 'm',
      gateway: { id: 'g' },
      outcome: { status: 'success' },
    },
    { occurred_at: '2026-01-02T00:00:00.000Z', provider: 'openai' },
    { occurred_at: 'yesterday', gateway: 'not an object' },
    { provider: 'anthropic', outcome: { status: 'error' } },
  ];
  const filters = [
    {},
    { provider: 'openai' },
    { gateway_id: 'g', outcome_status: 'success' },
    { requested_model: 'x' },
  ];

  it('decide range and filters as the record does', () => {
    for (const r of records) {
      expect(factsInRange(recordFacts(r), query)).toBe(occurredInRange(r, query));
      for (const f of filters) expect(factsMatchFilters(recordFacts(r), f)).toBe(recordMatchesFilters(r, f));
    }
  });
});
