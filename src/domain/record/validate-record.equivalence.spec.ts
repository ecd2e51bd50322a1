import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compiledRecordCheck, validateRecord, validateRecordWithClassValidator } from './validate-record.js';
import { recordValidatorSource } from './record-validator-source.js';
import { demoEvent } from '../../demo/traffic.js';

// Arbitraries for the whole v1 schema (canonical-record.schema.ts): every member, at and just
// inside its bounds, so that "valid" really covers the schema and mutations start from there.
const id = fc.string({ minLength: 1, maxLength: 12 });
const text = fc.string({ maxLength: 40 });
const count = fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const decimal = fc
  .tuple(
    fc.boolean(),
    fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }),
    fc.option(fc.bigInt({ min: 0n, max: 10n ** 9n }), { nil: undefined }),
  )
  .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);
const timestamp = fc
  .date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const triState = fc.constantFrom(true, false, 'unknown' as const);
const asserted = fc.record({ value: id, asserted_by: fc.constantFrom('client', 'gateway', 'provider', 'ledger') });
const opt = { requiredKeys: [] as never[] };

const attempt = fc.record(
  {
    index: fc.nat({ max: 10_000 }),
    provider: id,
    model: id,
    region: id,
    status: fc.constantFrom('success', 'error', 'skipped', 'timeout', 'unknown'),
    error_class: id,
    http_status: fc.integer({ min: 100, max: 599 }),
    latency_ms: count,
    started_at: timestamp,
  },
  { requiredKeys: ['index'] },
);

const validRecord = fc.record(
  {
    schema_version: fc.constant('1'),
    event_id: id,
    occurred_at: timestamp,
    received_at: timestamp,
    gateway: fc.record({ id, kind: id, version: id }, { requiredKeys: ['id'] }),
    tenant_id: id,
    request_id: id,
    trace_id: id,
    session_id: id,
    end_user_hash: id,
    requested_model: id,
    resolved_model: asserted,
    reported_model: asserted,
    provider: id,
    model_version: fc.record({ version: id, deployment_id: id, system_fingerprint: id }, opt),
    endpoint: fc.record({ host: id, path: text }, opt),
    region: fc.record({ served: id, required: fc.array(text, { maxLength: 32 }) }, opt),
    routing: fc.record(
      {
        strategy: fc.constantFrom('static', 'conditional', 'fallback', 'loadbalance', 'cascade', 'learned'),
        reason: text,
        rule_id: id,
        policy_version: id,
        config_hash: id,
        router: id,
        score: decimal,
        threshold: decimal,
        objective: id,
      },
      opt,
    ),
    task: fc.record({ category: id, tags: fc.array(text, { maxLength: 64 }) }, opt),
    attempts: fc.record(
      {
        completeness: fc.constantFrom('full', 'targets_only', 'count_only', 'none'),
        count,
        items: fc.array(attempt, { maxLength: 4 }),
      },
      { requiredKeys: ['completeness'] },
    ),
    fallback_used: triState,
    retries: count,
    cache: fc.record(
      { status: fc.constantFrom('hit', 'semantic_hit', 'miss', 'bypass', 'refresh', 'unknown'), key_hash: hex64 },
      { requiredKeys: ['status'] },
    ),
    usage: fc.record(
      { input_tokens: count, output_tokens: count, cached_input_tokens: count, reasoning_tokens: count },
      opt,
    ),
    latency: fc.record({ total_ms: count, ttft_ms: count, gateway_overhead_ms: count }, opt),
    cost: fc.record(
      {
        amount: decimal,
        currency: fc.constantFrom('USD', 'EUR', 'JPY'),
        source: fc.constantFrom('gateway', 'computed'),
      },
      { requiredKeys: ['amount', 'currency'] },
    ),
    policy_checks: fc.array(
      fc.record(
        { name: id, result: fc.constantFrom('pass', 'fail', 'skipped', 'error'), required: fc.boolean(), detail: text },
        { requiredKeys: ['name', 'result'] },
      ),
      { maxLength: 4 },
    ),
    outcome: fc.record(
      {
        status: fc.constantFrom('success', 'error', 'blocked', 'cancelled'),
        http_status: fc.integer({ min: 100, max: 599 }),
        error_class: id,
        finish_reason: id,
      },
      { requiredKeys: ['status'] },
    ),
    disclosure: fc.record({ model_substituted_notice: triState }, opt),
    content: fc.record({ prompt_sha256: hex64, response_sha256: hex64 }, opt),
    source: fc.record(
      {
        format: fc.constantFrom('native', 'litellm', 'portkey', 'openrouter', 'otel'),
        adapter_version: id,
        raw_sha256: hex64,
        topic: id,
        partition: fc.nat(),
        offset: fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }).map(String),
      },
      { requiredKeys: ['format', 'raw_sha256'] },
    ),
    attestation: fc.record({ kid: id, verified: fc.boolean() }, { requiredKeys: ['verified'] }),
    normalization_notes: fc.array(fc.string({ maxLength: 60 }), { maxLength: 64 }),
  },
  {
    requiredKeys: [
      'schema_version',
      'event_id',
      'occurred_at',
      'gateway',
      'tenant_id',
      'request_id',
      'requested_model',
      'outcome',
      'source',
    ],
  },
);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v` (objects and arrays), root excluded. */
function paths(v: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [];
  const keys: Array<string | number> = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => [[...at, k], ...paths((v as Record<string, Json>)[k as string], [...at, k])]);
}

// Values that break some rule wherever they land, and values that are wrong only somewhere.
const badValue = fc.oneof(
  fc.constant(null),
  fc.constant(1.5),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
  fc.constant(-1),
  fc.constant(0),
  fc.constant(''),
  fc.constant('x'.repeat(257)),
  fc.constant('y'.repeat(2049)),
  fc.constant('😀'.repeat(129)),
  fc.constant('a\ud800'),
  fc.constant('nul\u0000'),
  fc.constant('2026-02-30T00:00:00.000Z'),
  fc.constant('0000-01-01T00:00:00.000Z'),
  fc.constant('2026-01-01T00:00:00Z'),
  fc.constant('1.5e3'),
  fc.constant(true),
  fc.constant('unknown'),
  fc.constant([]),
  fc.constant({}),
  fc.constant(Array.from({ length: 300 }, () => 'z')),
  fc.constant(600),
  fc.constant(99),
  fc.constant('USD'),
  fc.constant('full'),
  fc.constant(10_001),
);

type Mutation = { kind: 'set' | 'delete' | 'add'; pick: number; value: Json; key: string };
const mutation = fc.record({
  kind: fc.constantFrom('set', 'set', 'delete', 'add') as fc.Arbitrary<Mutation['kind']>,
  pick: fc.nat(),
  value: badValue as fc.Arbitrary<Json>,
  key: fc.constantFrom('extra', '__proto__', 'constructor', 'prompt', 'a\ud800', 'k\u0000'),
});

function mutate(record: Json, m: Mutation): Json {
  const copy = JSON.parse(JSON.stringify(record)) as Json;
  const all = paths(copy);
  if (m.kind === 'add') {
    const objects = [[], ...all].filter((p) => {
      const v = at(copy, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const target = at(copy, objects[m.pick % objects.length]) as Record<string, Json>;
    Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    return copy;
  }
  if (all.length === 0) return copy;
  const path = all[m.pick % all.length];
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (m.kind === 'delete' && !Array.isArray(parent)) delete parent[last];
  else parent[last] = m.value;
  return copy;
}

function at(v: Json, path: Array<string | number>): Json {
  return path.reduce<Json>((o, k) => (o as Record<string | number, Json>)[k], v);
}

/**
 * Where the two may differ by design: string lengths. The schema counts UTF-16 units
 * (stricter); class-validator counts a surrogate pair as one and skips U+FE0E/U+FE0F.
 */
// eslint-disable-next-line no-misleading-character-class -- lone surrogates and selectors, on purpose
const LENGTH_COUNTED_DIFFERENTLY = /[\ud800-\udfff\ufe0e\ufe0f]/;

function sameVerdict(value: unknown): void {
  const compiled = compiledRecordCheck(value);
  const oracle = validateRecordWithClassValidator(value);
  // Sound: the compiled check never accepts what the oracle refuses.
  if (compiled) expect(oracle.ok).toBe(true);
  // Complete, except on strings whose length the two count differently.
  if (!LENGTH_COUNTED_DIFFERENTLY.test(JSON.stringify(value))) expect(compiled).toBe(oracle.ok);
  // And what callers get is exactly the oracle's verdict, reasons included.
  expect(validateRecord(value)).toEqual(oracle);
}

describe('compiledRecordCheck vs validateRecordWithClassValidator (the class-validator oracle)', () => {
  it('both accept generated valid records over the whole schema', () => {
    fc.assert(
      fc.property(validRecord, (r) => {
        expect(validateRecordWithClassValidator(r).ok).toBe(true);
        expect(compiledRecordCheck(r)).toBe(true);
        sameVerdict(r);
      }),
      { numRuns: 2000 },
    );
  });

  it("give the same verdict on mutated records (bad values, missing and unknown members, anywhere), validateRecord the oracle's reasons", () => {
    let refused = 0;
    fc.assert(
      fc.property(validRecord, fc.array(mutation, { minLength: 1, maxLength: 3 }), (r, ms) => {
        const mutated = ms.reduce<Json>((v, m) => mutate(v, m), r as unknown as Json);
        if (!validateRecordWithClassValidator(mutated).ok) refused++;
        sameVerdict(mutated);
      }),
      { numRuns: 3000 },
    );
    // The mutations must mostly produce invalid records, or this test proves little.
    expect(refused).toBeGreaterThan(2000);
  });

  it('agree on the demo traffic and on over-deep nesting', () => {
    for (let seq = 0; seq < 300; seq++) {
      // As the wire carries it: JSON leaves out the members the generator left undefined.
      const event = JSON.parse(
        JSON.stringify(demoEvent(seq, { elapsedMs: seq * 700, now: new Date(Date.UTC(2026, 0, 1) + seq) })),
      ) as Json;
      expect(compiledRecordCheck(event)).toBe(true);
      sameVerdict(event);
    }
    let deep: Json = 'x';
    for (let i = 0; i < 12; i++) deep = { d: deep };
    sameVerdict({
      ...(JSON.parse(JSON.stringify(demoEvent(1, { elapsedMs: 0, now: new Date(0) }))) as object),
      task: deep,
    });
  });

  it('takes the slow path, not a wrong verdict, on near-limit strings of emoji', () => {
    const r = {
      ...(JSON.parse(JSON.stringify(demoEvent(2, { elapsedMs: 0, now: new Date(0) }))) as object),
      request_id: '😀'.repeat(129),
    };
    expect(compiledRecordCheck(r)).toBe(false);
    expect(validateRecordWithClassValidator(r).ok).toBe(true);
    expect(validateRecord(r).ok).toBe(true);
  });
});

describe('record-validator.generated.ts', () => {
  it('is what the generator makes of the current schema (regenerate: node dist/src/cli/record-validator.js)', () => {
    expect(readFileSync('src/domain/record/record-validator.generated.ts', 'utf8')).toBe(recordValidatorSource());
  });
});
