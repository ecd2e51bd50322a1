/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the bytes that get hashed and signed.
 *
 * Our own values (records, ledger entries, checkpoints) are strings, booleans, null, safe
 * integers, arrays and plain objects. For those, JCS reduces to "sort keys by UTF-16 code
 * units, write strings the way JSON.stringify does", which the fast path below does in one
 * walk. Anything with a fractional or unsafe number is handed, whole, to the `canonicalize`
 * package (the RFC author's co-maintained implementation), so that ES6 number formatting is
 * never our own code. Both paths agree byte for byte on our value space; the spec checks it
 * with fast-check.
 *
 * Stricter than JSON.stringify on purpose: a value that JSON.stringify would silently change
 * (undefined in an array becomes null, a Date becomes a string, a lone surrogate becomes an
 * escape) is rejected, because a silently changed value would be hashed as something the
 * caller never wrote.
 */
import canonicalize from 'canonicalize';
import { AppError } from '../../common/app-error.js';

export type CanonicalizationErrorCode =
  | 'LONE_SURROGATE'
  | 'UNDEFINED_VALUE'
  | 'UNSUPPORTED_TYPE'
  | 'NON_FINITE_NUMBER'
  | 'NON_PLAIN_OBJECT'
  | 'CIRCULAR_REFERENCE';

export class CanonicalizationError extends AppError {
  override readonly name = 'CanonicalizationError';

  constructor(
    readonly code: CanonicalizationErrorCode,
    /** JSON-pointer-like location of the offending value, e.g. `/source/offset`. */
    readonly path: string,
    message: string,
  ) {
    super(`${message} at ${path === '' ? '(root)' : path}`);
  }
}

/**
 * The RFC 8785 canonical form of `value`.
 *
 * Preconditions (checked before anything is serialized, so both paths reject the same inputs):
 *  - strings and keys are well-formed UTF-16 (no lone surrogates; RFC 8785 §3.2.2.2);
 *  - numbers are finite;
 *  - objects are plain (prototype Object.prototype or null) or arrays; no Date, Map, Buffer,
 *    class instances, boxed primitives;
 *  - no functions, symbols or bigints anywhere; no undefined inside arrays or at the root;
 *  - no cycles.
 * Object properties whose value is `undefined` are omitted, as JSON.stringify does, so that
 * optional TypeScript fields left undefined behave like absent fields.
 *
 * The walk is recursive: nesting deeper than the JS stack (thousands of levels, far beyond any
 * record) throws a RangeError. That is still a rejection, never a wrong byte string.
 */
export function canonicalJson(value: unknown): string {
  // The common case: one walk that writes the canonical text directly (members sorted, strings
  // that need no escaping written as they are). Anything unusual (an error to report with its
  // path, a number for the library, a cycle, very deep nesting) goes to the checked walk, which
  // decides exactly as before.
  return canonicalText(value) ?? checkedCanonical(value);
}

/**
 * The RFC 8785 text of `value` when it is inside the fast path's domain, else undefined (then
 * canonicalJson takes the checked walk, which rejects with a path or delegates numbers).
 */
export function canonicalText(value: unknown): string | undefined {
  try {
    return writeFast(value, 0);
  } catch (e) {
    if (e !== BAIL) throw e;
    return undefined;
  }
}

/** The checked walk: precise errors with paths, cycle detection, library delegation. */
function checkedCanonical(value: unknown): string {
  const walk = { needsLibrary: false, ancestors: new Set<object>() };
  const fast = fastCanonical(value, '', walk);
  if (!walk.needsLibrary) return fast;
  const delegated = canonicalize(value);
  // Unreachable after validation, but the library's type says it can happen.
  if (delegated === undefined) throw new CanonicalizationError('UNDEFINED_VALUE', '', 'value has no JSON form');
  return delegated;
}

/** UTF-8 bytes of {@link canonicalJson}: what gets hashed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** Thrown by writeFast to hand a value to the checked walk. Never escapes this module. */
const BAIL = Symbol('canonical-json bail');
/** Deeper than this, the fast path defers to the checked walk (which detects cycles). */
const QUICK_MAX_DEPTH = 64;
/** A character JSON.stringify escapes (", \\, below U+0020) or a surrogate half (maybe lone). */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NOT_PLAIN = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The canonical text of a well-formed string: most strings need no escaping and are written
 * as they are; the rest as JSON.stringify writes them (exactly RFC 8785's escaping). A lone
 * surrogate throws BAIL (the checked walk names it).
 */
function fastString(value: string): string {
  if (!NOT_PLAIN.test(value)) return `"${value}"`;
  if (!isWellFormed(value)) throw BAIL;
  return JSON.stringify(value);
}

/**
 * The fast path's domain: well-formed strings, booleans, null, safe integers, arrays without
 * holes or undefined, and plain objects whose member names neither start with a digit nor are
 * `__proto__` (kept out as before, so both paths have one domain). Throws BAIL for anything
 * else. Members are written sorted by UTF-16 code units (the default sort), undefined members
 * omitted, as the checked walk does.
 */
function writeFast(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return fastString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw BAIL;
      // -0 is written "0", as by the checked walk.
      return `${value}`;
    case 'object': {
      if (value === null) return 'null';
      if (depth > QUICK_MAX_DEPTH) throw BAIL;
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw BAIL;
          out += i === 0 ? writeFast(item, depth + 1) : `,${writeFast(item, depth + 1)}`;
        }
        return `${out}]`;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== null && Object.getPrototypeOf(prototype) !== null) throw BAIL;
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      let inOrder = true;
      for (let i = 1; i < keys.length && inOrder; i++) inOrder = keys[i - 1] < keys[i];
      if (!inOrder) keys.sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const member = object[key];
        if (member === undefined) continue;
        const first = key.charCodeAt(0);
        if ((first >= 0x30 && first <= 0x39) || key === '__proto__') throw BAIL;
        out += `${out.length === 1 ? '' : ','}${fastString(key)}:${writeFast(member, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw BAIL;
  }
}

interface Walk {
  /** Set when a number outside the safe-integer range or with a fraction was seen. */
  needsLibrary: boolean;
  /** Containers on the current path, for cycle detection. */
  ancestors: Set<object>;
}

function fastCanonical(value: unknown, path: string, walk: Walk): string {
  switch (typeof value) {
    case 'string':
      return canonicalString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return canonicalNumber(value, path, walk);
    case 'object':
      if (value === null) return 'null';
      return canonicalContainer(value, path, walk);
    case 'undefined':
      throw new CanonicalizationError('UNDEFINED_VALUE', path, 'undefined has no JSON form');
    default:
      throw new CanonicalizationError('UNSUPPORTED_TYPE', path, `a ${typeof value} has no JSON form`);
  }
}

function canonicalString(value: string, path: string): string {
  if (!isWellFormed(value)) {
    throw new CanonicalizationError('LONE_SURROGATE', path, 'string contains a lone surrogate');
  }
  // JSON.stringify escapes exactly what RFC 8785 §3.2.2.2 requires: ", \, and control
  // characters below U+0020 (as \b \t \n \f \r or \u00xx, lowercase hex); all else is literal.
  return JSON.stringify(value);
}

/**
 * String.prototype.isWellFormed (ES2024, Node >= 20): no lone surrogates. Typed locally
 * because the project's TypeScript lib is ES2023.
 */
function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function canonicalNumber(value: number, path: string, walk: Walk): string {
  if (!Number.isFinite(value)) {
    throw new CanonicalizationError('NON_FINITE_NUMBER', path, `${value} has no JSON form`);
  }
  if (!Number.isSafeInteger(value)) walk.needsLibrary = true;
  // For safe integers this is the ES6 Number-to-String result JCS requires (-0 becomes "0").
  return JSON.stringify(value);
}

function canonicalContainer(value: object, path: string, walk: Walk): string {
  if (walk.ancestors.has(value)) {
    throw new CanonicalizationError('CIRCULAR_REFERENCE', path, 'value contains itself');
  }
  walk.ancestors.add(value);
  const text = Array.isArray(value)
    ? canonicalArray(value, path, walk)
    : canonicalObject(plainObject(value, path), path, walk);
  walk.ancestors.delete(value);
  return text;
}

function canonicalArray(items: unknown[], path: string, walk: Walk): string {
  const parts: string[] = [];
  // Index loop, not map/forEach: holes in sparse arrays must be seen (and rejected) too.
  for (let i = 0; i < items.length; i++) {
    parts.push(fastCanonical(items[i], `${path}/${i}`, walk));
  }
  return `[${parts.join(',')}]`;
}

function canonicalObject(object: Record<string, unknown>, path: string, walk: Walk): string {
  const parts: string[] = [];
  // Array.prototype.sort's default comparator orders by UTF-16 code units: the JCS order.
  for (const key of Object.keys(object).sort()) {
    const member = object[key];
    if (member === undefined) continue;
    const memberPath = `${path}/${key}`;
    parts.push(`${canonicalString(key, memberPath)}:${fastCanonical(member, memberPath, walk)}`);
  }
  return `{${parts.join(',')}}`;
}

function plainObject(value: object, path: string): Record<string, unknown> {
  // Any realm's Object.prototype counts (JSON parsed in another vm context, e.g. fetch under Jest):
  // a plain object's prototype is null or an object whose own prototype is null.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
    const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new CanonicalizationError('NON_PLAIN_OBJECT', path, `a ${kind} is not a plain JSON object`);
  }
  return value as Record<string, unknown>;
}
