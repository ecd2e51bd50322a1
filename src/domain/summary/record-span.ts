/**
 * The first and the last record of a summary row, ordered by (occurred_at, event_id) at
 * PostgreSQL's microsecond precision: what the finding and cost summaries keep per row, and
 * how two rows of one key merge (the earlier first, the later last, whatever the order).
 */
import { epochMicros } from './traffic-summary.js';

/** A row's span while a roll-up accumulates it: instants in µs since the epoch. */
export interface SpanAccumulator {
  firstUs: number;
  firstId: string;
  lastUs: number;
  lastId: string;
}

/** Widens `s` to take in the record at `us` with `eventId`. */
export function extendSpan(s: SpanAccumulator, us: number, eventId: string): void {
  if (us < s.firstUs || (us === s.firstUs && eventId < s.firstId)) {
    s.firstUs = us;
    s.firstId = eventId;
  }
  if (us > s.lastUs || (us === s.lastUs && eventId > s.lastId)) {
    s.lastUs = us;
    s.lastId = eventId;
  }
}

/** A stored row's span: instants as timestamp text. */
export interface RowSpan {
  first_at: string;
  first_event_id: string;
  last_at: string;
  last_event_id: string;
}

/** Widens `into` to take in `other`'s span (rows of one key from several shards, say). */
export function mergeSpan(into: RowSpan, other: RowSpan): void {
  const [fa, fb] = [epochMicros(into.first_at), epochMicros(other.first_at)];
  if (fb < fa || (fb === fa && other.first_event_id < into.first_event_id)) {
    into.first_at = other.first_at;
    into.first_event_id = other.first_event_id;
  }
  const [la, lb] = [epochMicros(into.last_at), epochMicros(other.last_at)];
  if (lb > la || (lb === la && other.last_event_id > into.last_event_id)) {
    into.last_at = other.last_at;
    into.last_event_id = other.last_event_id;
  }
}
