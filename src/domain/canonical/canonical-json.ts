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
  // The common case: a copy with every object's members in JCS order, written by the engine's
  // JSON.stringify (several times faster than assembling strings in script). Anything unusual
  // (an error to report with its path, a number for the library, a cycle, very deep nesting,
  // member names JSON.stringify would reorder) goes to the checked walk, which decides exactly
  // as before.
  const copy = canonicalCopy(value);
  if (copy !== undefined) return JSON.stringify(copy);
  return checkedCanonical(value);
}

/**
 * A copy of `value` that JSON.stringify writes as exactly its RFC 8785 form, or undefined when
 * `value` is outside the fast path's domain (then canonicalJson takes the checked walk). Parts
 * already in canonical order are not copied: the result may be `value` itself or share objects
 * with it, so the caller reads it (serializes it, alone or a subset of its members, still in
 * canonical order) and never writes into it.
 */
export function canonicalCopy(value: unknown): unknown {
  try {
    return sortedCopy(value, 0);
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

/**
 * Sorts member names in place in JCS order (UTF-16 code units, which is what `<` on strings
 * compares). A record's objects have a few to ~30 members: insertion sort there allocates
 * nothing, where Array.prototype.sort allocates a work array per call (measured: ~7.5 KB of a
 * record's ~33 KB of allocations on the ingest path were sort's) and takes longer on arrays
 * this short. Longer lists use the engine's sort.
 */
export function sortMemberNames(names: string[]): string[] {
  if (names.length > 32) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i];
    let j = i - 1;
    while (j >= 0 && names[j] > name) {
      names[j + 1] = names[j];
      j--;
    }
    names[j + 1] = name;
  }
  return names;
}

/** Thrown by sortedCopy to hand a value to the checked walk. Never escapes this module. */
const BAIL = Symbol('canonical-json bail');
/** Deeper than this, the fast path defers to the checked walk (which detects cycles). */
const QUICK_MAX_DEPTH = 64;

/**
 * The domain where JSON.stringify of this copy equals the checked walk's bytes: well-formed
 * strings, booleans, null, safe integers, arrays without holes or undefined, and plain objects
 * whose member names JSON.stringify keeps in insertion order. Engines write integer-like names
 * ("0", "10") first in numeric order whatever the insertion order, and `__proto__` cannot be
 * created by assignment, so names starting with a digit and `__proto__` bail out. Throws BAIL
 * for everything outside it.
 */
function sortedCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw BAIL;
      return value;
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isSafeInteger(value)) throw BAIL;
      // -0 is written "0" by both paths.
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth > QUICK_MAX_DEPTH) throw BAIL;
      if (Array.isArray(value)) {
        // Copied only from the first item that needed a copy: most arrays are already canonical.
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw BAIL;
          const copy = sortedCopy(item, depth + 1);
          if (out === undefined && copy !== item) out = value.slice(0, i);
          if (out !== undefined) out[i] = copy;
        }
        return out ?? value;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== null && Object.getPrototypeOf(prototype) !== null) throw BAIL;
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      // An object whose members are in order and need no copy is its own canonical copy (JSON.stringify
      // omits undefined members, as the copy would): objects parsed from canonical text, most of a
      // record, are written without allocating.
      let inOrder = true;
      for (let i = 1; i < keys.length && inOrder; i++) inOrder = keys[i - 1] < keys[i];
      if (!inOrder) sortMemberNames(keys);
      let out: Record<string, unknown> | undefined = inOrder ? undefined : {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const member = object[key];
        if (member === undefined) continue;
        const first = key.charCodeAt(0);
        if ((first >= 0x30 && first <= 0x39) || key === '__proto__' || !isWellFormed(key)) throw BAIL;
        const copy = sortedCopy(member, depth + 1);
        if (out === undefined && copy !== member) {
          out = {};
          for (let j = 0; j < i; j++) if (object[keys[j]] !== undefined) out[keys[j]] = object[keys[j]];
        }
        if (out !== undefined) out[key] = copy;
      }
      return out ?? object;
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
