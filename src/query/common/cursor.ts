import { BadCursorError } from './query.errors.js';

/**
 * Opaque pagination cursors: base64url of the keyset (occurred_at, event_id) of the last row
 * returned. Opaque so clients cannot depend on its shape; versioned so the shape can change.
 * The timestamp keeps PostgreSQL's microseconds, so rows that share a millisecond are never
 * skipped or repeated.
 */

export interface Keyset {
  /** RFC 3339 UTC with up to microseconds, e.g. 2026-11-25T10:00:00.123456Z. */
  occurredAt: string;
  eventId: string;
}

const VERSION = 1;
const MAX_CURSOR_LENGTH = 2048;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify({ v: VERSION, t: k.occurredAt, id: k.eventId })).toString('base64url');
}

/** The JSON inside a cursor; BadCursorError (400) when it is not base64url JSON of bounded size. */
function cursorJson(cursor: string): unknown {
  const refuse = () => new BadCursorError('cursor is not a cursor this API returned');
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
}

/** Throws BadCursorError (400) for anything encodeCursor did not produce. */
export function decodeCursor(cursor: string): Keyset {
  const value = cursorJson(cursor);
  const { v, t, id } = (value ?? {}) as { v?: unknown; t?: unknown; id?: unknown };
  if (v !== VERSION) throw new BadCursorError('cursor is from another version of this API; start again without one');
  if (typeof t !== 'string' || !TIMESTAMP.test(t) || Number.isNaN(Date.parse(t)))
    throw new BadCursorError('cursor timestamp is malformed');
  if (typeof id !== 'string' || id.length === 0 || id.length > 512)
    throw new BadCursorError('cursor event id is malformed');
  return { occurredAt: t, eventId: id };
}

/**
 * A page position in a list computed whole on every call (findings): the window it was computed
 * over (so that "now" does not move under the pages) and how many items came before.
 */
export interface OffsetPosition {
  from: string;
  to: string;
  offset: number;
}

export function encodeOffsetCursor(p: OffsetPosition): string {
  return Buffer.from(JSON.stringify({ v: VERSION, k: 'offset', from: p.from, to: p.to, n: p.offset })).toString(
    'base64url',
  );
}

/** Throws BadCursorError (400) for anything encodeOffsetCursor did not produce. */
export function decodeOffsetCursor(cursor: string): OffsetPosition {
  const value = cursorJson(cursor);
  const { v, k, from, to, n } = (value ?? {}) as {
    v?: unknown;
    k?: unknown;
    from?: unknown;
    to?: unknown;
    n?: unknown;
  };
  if (v !== VERSION || k !== 'offset')
    throw new BadCursorError('cursor is not a cursor of this list; start again without one');
  for (const t of [from, to]) {
    if (typeof t !== 'string' || !TIMESTAMP.test(t) || Number.isNaN(Date.parse(t)))
      throw new BadCursorError('cursor window is malformed');
  }
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new BadCursorError('cursor position is malformed');
  return { from: from as string, to: to as string, offset: n };
}
