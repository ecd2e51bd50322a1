/**
 * What every bench section needs: the events, and a few numeric helpers. The database comes from
 * test/support/test-database.ts, as the integration tests get theirs.
 */
import { createHash } from 'node:crypto';
import { demoEvent, toWire } from '../../src/demo/traffic.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';

/** Headers the demo traffic carries: the format is declared, so no sniffing. */
export const WIRE_HEADERS = { 'x-routing-format': 'native' };

/**
 * Demo event `seq` (canonical v1, ~1.6 KB on the wire). The story clock advances 2 ms per
 * event so a long run includes the scripted outage (fallbacks, residency breaches).
 * `now` becomes occurred_at: the latency phases put the produce time there.
 */
export function benchEvent(seq: number, now: Date = new Date(Date.UTC(2026, 0, 1) + seq)): CanonicalRecord {
  return demoEvent(seq, { elapsedMs: (seq % 200_000) * 2, now });
}

export function wireOf(record: CanonicalRecord): Buffer {
  return toWire(record);
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(xs: number[]): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}
