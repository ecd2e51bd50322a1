/** Parsing a bundle's JSON: strict UTF-8, and canonical where the format requires it. */
import { canonicalBytes, canonicalJson } from '../../canonical/canonical-json.js';
import { fail } from './bundle-problem.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseJson(bytes: Buffer, file: string, line: number | undefined): unknown {
  return parseJsonText(bytes, file, line).value;
}

/** parseJson, with the decoded text (for a canonical-form check on the text). */
export function parseJsonText(bytes: Buffer, file: string, line: number | undefined): { value: unknown; text: string } {
  try {
    const text = UTF8.decode(bytes);
    return { value: JSON.parse(text) as unknown, text };
  } catch (e) {
    fail({ code: 'BAD_LINE', file, line, message: `not UTF-8 JSON: ${(e as Error).message}` });
  }
}

/** Parses `bytes` and requires them to be exactly the canonical JSON of what they parse to. */
export function parseCanonical(bytes: Buffer, file: string, line: number | undefined): unknown {
  const value = parseJson(bytes, file, line);
  let canonical: Buffer | undefined;
  try {
    canonical = canonicalBytes(value);
  } catch {
    canonical = undefined;
  }
  if (!canonical || !canonical.equals(bytes))
    fail({ code: 'NON_CANONICAL', file, line, message: 'not in RFC 8785 canonical form' });
  return value;
}

/**
 * Whether `text` is exactly canonicalJson(value), for `value` = JSON.parse(text), decided
 * without building the canonical form when it can be: if every object's member names are
 * already in JCS order (UTF-16 code units, strictly increasing), JSON.stringify writes the
 * parsed value back in that order, and for JSON's own values it writes strings and numbers as
 * JCS does (RFC 8785 §3.2.2 is defined by ECMAScript's serialization). Texts with a \u escape
 * (a lone surrogate is possible), member names that engines reorder (leading digit) or
 * `__proto__`, and very deep values go to canonicalJson itself, which decides as before.
 */
export function isCanonicalText(value: unknown, text: string): boolean {
  if (text.includes('\\u') || !membersInOrder(value, 0)) {
    try {
      return canonicalJson(value) === text;
    } catch {
      return false;
    }
  }
  return JSON.stringify(value) === text;
}

const MAX_QUICK_DEPTH = 64;

function membersInOrder(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth > MAX_QUICK_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!membersInOrder(item, depth + 1)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    const first = key.charCodeAt(0);
    if ((first >= 0x30 && first <= 0x39) || key === '__proto__') return false;
    if (previous !== undefined && !(previous < key)) return false;
    if (!membersInOrder((value as Record<string, unknown>)[key], depth + 1)) return false;
    previous = key;
  }
  return true;
}

export function eventIdOf(entry: unknown): string | undefined {
  const id = (entry as { record?: { event_id?: unknown } })?.record?.event_id;
  return typeof id === 'string' ? id : undefined;
}

export function hexBytes(h: string): Buffer {
  return Buffer.from(h, 'hex');
}
