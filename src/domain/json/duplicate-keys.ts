/**
 * JSON.parse keeps the last of duplicate member names, so `{"tenant_id":"a","tenant_id":"b"}`
 * would be stored under tenant b while another reader of the same bytes sees a. RFC 8259 leaves
 * duplicates undefined and RFC 8785 forbids them: a ledger must refuse them.
 *
 * A single pass over the text tracking strings and the member names of each open object.
 * Returns the first duplicated name with its path, or undefined. Precondition: none — it is
 * meant for untrusted text and never throws; malformed JSON is JSON.parse's to report.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = []; // null for arrays
  const path: string[] = [];
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? safeUnescape(raw) : raw;
        if (top.has(name)) return [...path.slice(0, stack.length - 1), name].filter((p) => p !== '').join('.');
        top.add(name);
        path[stack.length - 1] = name;
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      path[stack.length - 1] = '';
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      path.length = Math.max(0, stack.length);
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
    i++;
  }
  return undefined;
}

/**
 * Index of the closing quote of the string opening at `start` (or the text's end): the next
 * quote not escaped, i.e. preceded by an even run of backslashes. indexOf jumps over string
 * contents natively, which is most of a record's bytes.
 */
function stringEnd(text: string, start: number): number {
  let i = text.indexOf('"', start + 1);
  while (i !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 0x5c /* \ */) backslashes++;
    if (backslashes % 2 === 0) return i;
    i = text.indexOf('"', i + 1);
  }
  return text.length;
}

function safeUnescape(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * True only when `text`, whose JSON.parse result is `parsed`, has no duplicate member names:
 * a cheap count that spares the scan of firstDuplicateKey for almost every payload. Outside
 * strings, every member of the text has exactly one colon; JSON.parse keeps one member per
 * distinct name. Without `\u` escapes a string's colons are the same in the text and in its
 * parsed value, so the text's colons equal the parsed members plus the colons inside parsed
 * names and strings exactly when no name was repeated. False means "not proven" (a repeat, an
 * escape, nesting too deep to count): ask firstDuplicateKey.
 */
export function provablyNoDuplicateKeys(text: string, parsed: unknown): boolean {
  if (text.includes('\\u')) return false;
  try {
    return colons(text) === membersAndColons(parsed);
  } catch {
    // RangeError: deeper than the stack; the scan is iterative.
    return false;
  }
}

function colons(s: string): number {
  let n = 0;
  for (let i = s.indexOf(':'); i !== -1; i = s.indexOf(':', i + 1)) n++;
  return n;
}

function membersAndColons(value: unknown): number {
  if (typeof value === 'string') return colons(value);
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) n += membersAndColons(value[i]);
    return n;
  }
  for (const key of Object.keys(value))
    n += 1 + colons(key) + membersAndColons((value as Record<string, unknown>)[key]);
  return n;
}
