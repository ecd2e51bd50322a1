/** Parsing a bundle's JSON: strict UTF-8, and canonical where the format requires it. */
import { canonicalBytes } from '../../canonical/canonical-json.js';
import { fail } from './bundle-problem.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseJson(bytes: Buffer, file: string, line: number | undefined): unknown {
  try {
    return JSON.parse(UTF8.decode(bytes)) as unknown;
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

export function eventIdOf(entry: unknown): string | undefined {
  const id = (entry as { record?: { event_id?: unknown } })?.record?.event_id;
  return typeof id === 'string' ? id : undefined;
}

export function hexBytes(h: string): Buffer {
  return Buffer.from(h, 'hex');
}
