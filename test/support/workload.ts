import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { sampleRecord } from '../fixtures/sample-record.js';

/** One message to produce: key, value bytes and what the ledger should do with it. */
export interface WorkloadMessage {
  key: string;
  value: Buffer | null;
  expect: 'record' | 'duplicate' | 'conflict' | 'poison';
  eventId?: string;
  poisonKind?: string;
}

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];

export function validEvent(i: number): CanonicalRecord {
  return sampleRecord({
    event_id: `evt-${i.toString().padStart(6, '0')}`,
    request_id: `req-${i}`,
    tenant_id: TENANTS[i % TENANTS.length],
    occurred_at: new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + i * 37).toISOString(),
    fallback_used: i % 7 === 0 ? true : i % 11 === 0 ? 'unknown' : false,
    usage: { input_tokens: 100 + (i % 900), output_tokens: 20 + (i % 300) },
  });
}

/** Poison of many kinds; each must be quarantined and dead-lettered with a reason. */
export const POISON_KINDS: Array<[string, (i: number) => Buffer | null]> = [
  ['random-bytes', (i) => Buffer.from(Array.from({ length: 64 }, (_, k) => (i * 31 + k * 17) % 256))],
  ['truncated-json', (i) => Buffer.from(JSON.stringify(validEvent(900_000 + i)).slice(0, 120))],
  ['empty', () => null],
  ['wrong-type', (i) => Buffer.from(JSON.stringify({ ...validEvent(910_000 + i), tenant_id: 42 }))],
  [
    'missing-required',
    (i) => {
      const { requested_model: _, ...rest } = validEvent(920_000 + i);
      return Buffer.from(JSON.stringify(rest));
    },
  ],
  ['bad-timestamp', (i) => Buffer.from(JSON.stringify({ ...validEvent(930_000 + i), occurred_at: 'last tuesday' }))],
  [
    'float-cost',
    (i) => Buffer.from(JSON.stringify({ ...validEvent(940_000 + i), cost: { amount: 0.1, currency: 'USD' } })),
  ],
  ['lone-surrogate', (i) => Buffer.from(JSON.stringify(validEvent(950_000 + i)).replace('"req-', '"\\ud800req-'))],
  [
    'nan-literal',
    (i) =>
      Buffer.from(
        JSON.stringify(validEvent(960_000 + i))
          .replace('"retries"', '"x"')
          .replace(/"input_tokens":\d+/, '"input_tokens":NaN'),
      ),
  ],
  [
    'deep-nesting',
    (i) =>
      Buffer.from(
        JSON.stringify({ ...validEvent(970_000 + i), task: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }),
      ),
  ],
  [
    'oversized',
    (i) => Buffer.from(JSON.stringify({ ...validEvent(980_000 + i), routing: { reason: 'x'.repeat(70_000) } })),
  ],
  ['json-array-of-numbers', () => Buffer.from('[1,2,3]')],
];

/**
 * 10,000 messages by default: distinct valid events, exact re-sends (duplicates), same
 * event_id with other content (conflicts) and poison, interleaved deterministically.
 */
export function buildWorkload(opts: {
  total: number;
  duplicates: number;
  conflicts: number;
  poison: number;
}): WorkloadMessage[] {
  const distinct = opts.total - opts.duplicates - opts.conflicts - opts.poison;
  const out: WorkloadMessage[] = [];
  for (let i = 0; i < distinct; i++) {
    const e = validEvent(i);
    out.push({ key: e.request_id, value: Buffer.from(JSON.stringify(e)), expect: 'record', eventId: e.event_id });
  }
  // Re-sends and conflicts go after their original so the expected outcome is unambiguous
  // whatever the partitioning: same key → same partition → later offset.
  const extras: WorkloadMessage[] = [];
  for (let k = 0; k < opts.duplicates; k++) {
    const e = validEvent((k * 13) % distinct);
    extras.push({ key: e.request_id, value: Buffer.from(JSON.stringify(e)), expect: 'duplicate', eventId: e.event_id });
  }
  for (let k = 0; k < opts.conflicts; k++) {
    const e = validEvent((k * 97 + 5) % distinct);
    extras.push({
      key: e.request_id,
      value: Buffer.from(JSON.stringify({ ...e, provider: 'tampered-provider' })),
      expect: 'conflict',
      eventId: e.event_id,
    });
  }
  for (let k = 0; k < opts.poison; k++) {
    const [kind, make] = POISON_KINDS[k % POISON_KINDS.length];
    extras.push({ key: `poison-${k}`, value: make(k), expect: 'poison', poisonKind: kind });
  }
  // Interleave extras into the second half of the stream.
  const half = Math.floor(out.length / 2);
  const step = Math.max(1, Math.floor((out.length - half) / extras.length));
  const merged = out.slice(0, half);
  let x = 0;
  for (let i = half; i < out.length; i++) {
    merged.push(out[i]);
    if ((i - half) % step === 0 && x < extras.length) merged.push(extras[x++]);
  }
  while (x < extras.length) merged.push(extras[x++]);
  return merged;
}
