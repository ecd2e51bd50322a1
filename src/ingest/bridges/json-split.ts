/**
 * Splitting a bridge request body into one payload per event, keeping each event's bytes exactly
 * as the sender wrote them, so raw_sha256 in the record is the hash of what the gateway sent for
 * that event (a re-serialization would change whitespace, number spelling and key escapes).
 * Pure; errors never quote the body (V8's JSON.parse messages carry a snippet of the input).
 */

import { AppError } from '../../common/app-error.js';

export class BodySplitError extends AppError {
  readonly code = 'INGEST_REJECTED';
  override readonly status = 400;
  readonly errors: Array<{ index: number; errors: string[] }>;
  constructor(reason: string) {
    super(reason);
    this.errors = [{ index: 0, errors: [reason] }];
  }
}

/**
 * A JSON array (LiteLLM `log_format: json_array`, the default) → its elements' exact text;
 * NDJSON (`ndjson`, one JSON value per line) → each line; anything else (`single`) → the body
 * unchanged, even when it does not parse: the decode step reports that, per event.
 */
export function splitPayloadsExact(body: Buffer): Buffer[] {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    if (!parses(trimmed)) throw new BodySplitError('body starts like a JSON array but is not valid JSON');
    return jsonArrayElements(trimmed).map((e) => Buffer.from(e, 'utf8'));
  }
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > 1 && lines.every(parses)) return lines.map((l) => Buffer.from(l.trim(), 'utf8'));
  return [body];
}

/**
 * The source text of each element of a JSON array, in order, trimmed of surrounding whitespace.
 * Precondition: `text` is one JSON array that JSON.parse accepts (the scanner relies on it and
 * only tracks strings, escapes and nesting depth).
 */
export function jsonArrayElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && start < 0 && c !== ',' && c !== ']' && !/\s/.test(c)) start = i;
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        if (start >= 0) out.push(text.slice(start, i).trim());
        break;
      }
    } else if (c === ',' && depth === 1) {
      out.push(text.slice(start, i).trim());
      start = -1;
    }
  }
  return out;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
