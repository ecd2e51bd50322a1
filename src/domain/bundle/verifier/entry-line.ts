/**
 * records.jsonl lines accepted on their bytes, for the single pass's block workers
 * (line-blocks.ts): a line is accepted when its bytes are, by construction, the RFC 8785
 * canonical form of a valid ledger entry (what JSON.parse, assertLedgerEntry and the
 * canonical comparison would decide), read in one walk over the bytes that builds no value.
 * It also notes where the few members the verifier reads lie (the entry's numbers, tenant_id,
 * tenant_prev; the record's tenant_id, occurred_at and the four filter members), so that only
 * those are decoded.
 *
 * Canonical here means: no whitespace; the entry's seven members in JCS order; record members
 * in strictly increasing order of their names' bytes; strings written as JSON.stringify writes
 * a well-formed string (only `"`, `\` and controls below U+0020 escaped, controls as \b \t \n
 * \f \r or \u00xx with lowercase hex); numbers as safe integers without sign on zero or
 * leading zeros. The line's UTF-8 is checked by the caller (isUtf8), so no string can hold a
 * lone surrogate.
 *
 * It only ever accepts: everything it does not decide this way answers false, and the caller
 * checks the line the general way (parse, validate, compare with the canonical form). Left to
 * that check on purpose, though some are canonical: numbers with a fraction or an exponent or
 * beyond the safe integers (ES number formatting is the canonicalizer's), member names with a
 * non-ASCII byte or an escape (byte order is UTF-16 order only for ASCII), `__proto__`, and
 * nesting deeper than MAX_DEPTH.
 */

/** A span of the line [start, end): a value's bytes (a string's with its quotes); start -1 when absent. */
export interface Span {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_U = 0x75;

/** Deeper than this (the entry is depth 0, the record 1), the general check decides. */
const MAX_DEPTH = 64;
/** Digits of a safe integer at most. */
const MAX_SAFE_DIGITS = 16;

/** String bytes written as they are: everything from U+0020 but `"` and `\` (non-ASCII bytes: UTF-8, checked by the caller). */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 256; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;
/** Bytes of a member name decided here: printable ASCII but `"` and `\`. */
const NAME = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) NAME[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;
/** The characters after `\` that JSON.stringify writes (`\u` is decided apart). */
const SHORT_ESCAPE = new Uint8Array(256);
for (const c of '"\\btnfr') SHORT_ESCAPE[c.charCodeAt(0)] = 1;
/** Controls JSON.stringify writes as \u00xx: all below U+0020 but \b \t \n \f \r. */
const U_ESCAPED = new Uint8Array(0x20).fill(1);
for (const c of [0x08, 0x09, 0x0a, 0x0c, 0x0d]) U_ESCAPED[c] = 0;
/** Lowercase hex digit values, -1 for every other byte. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x61 + c] = 10 + c;

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const INDEX = bytesOf('{"index":');
const RECORD = bytesOf(',"record":');
const SHARD = bytesOf(',"shard":');
const TENANT_ID = bytesOf(',"tenant_id":');
const TENANT_PREV = bytesOf(',"tenant_prev":');
const TENANT_SEQ = bytesOf(',"tenant_seq":');
const V_END = bytesOf(',"v":1}');
const NULL = bytesOf('null');
const TRUE = bytesOf('true');
const FALSE = bytesOf('false');

/** The record members noted (top level of the record), by name. */
const NOTED = ['gateway', 'occurred_at', 'outcome', 'provider', 'requested_model', 'tenant_id'] as const;
export type NotedMember = (typeof NOTED)[number];
const NOTED_BYTES = NOTED.map(bytesOf);

/**
 * One thread's scanner, reused line after line: after `accept` answers true, its fields
 * describe that line.
 */
export class EntryLineScanner {
  index = 0;
  shard = 0;
  tenantSeq = 0;
  /** The entry's tenant_id string, quotes included. */
  readonly tenant: Span = { start: -1, end: -1 };
  /** Start of tenant_prev's 64 hex digits; -1 when it is null. */
  prevHex = -1;
  /** The record's members read by the verifier, by NOTED's order; start -1 when the record has none. */
  readonly members: Span[] = NOTED.map(() => ({ start: -1, end: -1 }));
  /** Whether a noted member's string (when it is one) holds an escape. */
  readonly escaped: boolean[] = NOTED.map(() => false);

  private line: Uint8Array = new Uint8Array(0);
  private p = 0;
  /** Whether the last string scanned held an escape. */
  private stringEscaped = false;

  /** Whether `line` (valid UTF-8, no newline) is accepted: see the module comment. */
  accept(line: Uint8Array): boolean {
    this.line = line;
    this.p = 0;
    for (const m of this.members) m.start = -1;
    if (!this.literal(INDEX)) return false;
    const index = this.count();
    if (index < 0 || !this.literal(RECORD) || !this.record()) return false;
    if (!this.literal(SHARD)) return false;
    const shard = this.count();
    if (shard < 0 || !this.literal(TENANT_ID)) return false;
    const tenantStart = this.p;
    // Non-empty: more than its two quotes.
    if (!this.string() || this.p - tenantStart < 3) return false;
    const tenantEnd = this.p;
    if (!this.literal(TENANT_PREV)) return false;
    let prevHex = -1;
    if (!this.literal(NULL)) {
      const start = this.p;
      if (line[start] !== QUOTE || start + 65 >= line.length || line[start + 65] !== QUOTE) return false;
      for (let i = start + 1; i <= start + 64; i++) if (HEX[line[i]] < 0) return false;
      prevHex = start + 1;
      this.p = start + 66;
    }
    if (!this.literal(TENANT_SEQ)) return false;
    const seq = this.count();
    if (seq < 0 || !this.literal(V_END) || this.p !== line.length) return false;
    // tenant_prev is null exactly when tenant_seq is 0 (assertLedgerEntry).
    if ((seq === 0) !== (prevHex === -1)) return false;
    // The record's tenant_id, when it has one, is the entry's: equal strings have equal canonical bytes.
    const recordTenant = this.members[NOTED.indexOf('tenant_id')];
    if (recordTenant.start >= 0 && !sameBytes(line, recordTenant.start, recordTenant.end, tenantStart, tenantEnd))
      return false;
    this.index = index;
    this.shard = shard;
    this.tenantSeq = seq;
    this.tenant.start = tenantStart;
    this.tenant.end = tenantEnd;
    this.prevHex = prevHex;
    return true;
  }

  /** The span of a noted record member of the last accepted line (start -1 when absent). */
  member(name: NotedMember): Span {
    return this.members[NOTED.indexOf(name)];
  }

  /** Whether the noted member's string holds an escape (decode it with JSON.parse then). */
  memberEscaped(name: NotedMember): boolean {
    return this.escaped[NOTED.indexOf(name)];
  }

  /** The record object: its top-level members are where the noted ones are looked for. */
  private record(): boolean {
    return this.object(1, true);
  }

  private value(depth: number): boolean {
    const c = this.line[this.p];
    if (c === QUOTE) return this.string();
    if (c === OPEN_BRACE) return this.object(depth + 1, false);
    if (c === OPEN_BRACKET) return this.array(depth + 1);
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.integer();
    if (c === 0x74) return this.literal(TRUE);
    if (c === 0x66) return this.literal(FALSE);
    if (c === 0x6e) return this.literal(NULL);
    return false;
  }

  private object(depth: number, noting: boolean): boolean {
    const line = this.line;
    if (depth > MAX_DEPTH || line[this.p] !== OPEN_BRACE) return false;
    let p = this.p + 1;
    if (line[p] === CLOSE_BRACE) {
      this.p = p + 1;
      return true;
    }
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      // A member name: printable ASCII without escapes, greater than the one before.
      if (line[p] !== QUOTE) return false;
      const start = p + 1;
      let q = start;
      while (NAME[line[q]] === 1) q++;
      if (line[q] !== QUOTE || line[q + 1] !== COLON) return false;
      if (prevStart >= 0 && compareBytes(line, prevStart, prevEnd, start, q) >= 0) return false;
      if (q - start === 9 && isProto(line, start)) return false;
      prevStart = start;
      prevEnd = q;
      this.p = q + 2;
      const valueStart = this.p;
      if (!this.value(depth)) return false;
      if (noting) this.note(start, q, valueStart);
      p = this.p;
      const c = line[p];
      if (c === CLOSE_BRACE) {
        this.p = p + 1;
        return true;
      }
      if (c !== COMMA) return false;
      p++;
    }
  }

  private array(depth: number): boolean {
    const line = this.line;
    if (depth > MAX_DEPTH || line[this.p] !== OPEN_BRACKET) return false;
    this.p++;
    if (line[this.p] === CLOSE_BRACKET) {
      this.p++;
      return true;
    }
    for (;;) {
      if (!this.value(depth)) return false;
      const c = line[this.p];
      if (c === CLOSE_BRACKET) {
        this.p++;
        return true;
      }
      if (c !== COMMA) return false;
      this.p++;
    }
  }

  /** A string as JSON.stringify writes it, quotes included. */
  private string(): boolean {
    const line = this.line;
    if (line[this.p] !== QUOTE) return false;
    let p = this.p + 1;
    let escaped = false;
    for (;;) {
      const c = line[p];
      if (PLAIN[c] === 1) {
        p++;
        continue;
      }
      if (c === QUOTE) break;
      if (c !== BACKSLASH) return false; // a control byte, or the line's end (undefined)
      escaped = true;
      const e = line[p + 1];
      if (SHORT_ESCAPE[e] === 1) {
        p += 2;
        continue;
      }
      // \u00xx, lowercase, for a control JSON.stringify does not write short.
      if (e !== LOWER_U || line[p + 2] !== ZERO || line[p + 3] !== ZERO) return false;
      const hi = HEX[line[p + 4]];
      const lo = HEX[line[p + 5]];
      if (hi < 0 || hi > 1 || lo < 0 || U_ESCAPED[hi * 16 + lo] !== 1) return false;
      p += 6;
    }
    this.p = p + 1;
    this.stringEscaped = escaped;
    return true;
  }

  /** A safe integer as ES writes it: -?(0|[1-9][0-9]*), not -0, nothing fractional after it. */
  private integer(): boolean {
    const line = this.line;
    let p = this.p;
    const negative = line[p] === MINUS;
    if (negative) p++;
    const value = digitsAt(line, p);
    if (value < 0 || (negative && value === 0)) return false;
    while (line[p] >= ZERO && line[p] <= NINE) p++;
    this.p = p;
    return true;
  }

  /** A non-negative safe integer (the entry's counts), or -1. */
  private count(): number {
    const line = this.line;
    const value = digitsAt(line, this.p);
    if (value < 0) return -1;
    while (line[this.p] >= ZERO && line[this.p] <= NINE) this.p++;
    return value;
  }

  private literal(bytes: Uint8Array): boolean {
    const line = this.line;
    const p = this.p;
    if (p + bytes.length > line.length) return false;
    for (let i = 0; i < bytes.length; i++) if (line[p + i] !== bytes[i]) return false;
    this.p = p + bytes.length;
    return true;
  }

  /** Notes a record member's value when it is one the verifier reads. */
  private note(nameStart: number, nameEnd: number, valueStart: number): void {
    const line = this.line;
    const length = nameEnd - nameStart;
    for (let k = 0; k < NOTED_BYTES.length; k++) {
      const name = NOTED_BYTES[k];
      if (name.length !== length) continue;
      let i = 0;
      while (i < length && line[nameStart + i] === name[i]) i++;
      if (i < length) continue;
      const span = this.members[k];
      span.start = valueStart;
      span.end = this.p;
      this.escaped[k] = line[valueStart] === QUOTE && this.stringEscaped;
      return;
    }
  }
}

/**
 * The value of the digits at `p`: (0|[1-9][0-9]*) of at most a safe integer, not followed by
 * a fraction or an exponent; -1 otherwise.
 */
function digitsAt(line: Uint8Array, p: number): number {
  const first = line[p];
  if (!(first >= ZERO && first <= NINE)) return -1;
  let end = p + 1;
  if (first !== ZERO) while (line[end] >= ZERO && line[end] <= NINE) end++;
  const after = line[end];
  // "01", "1.5", "1e3": not decided here.
  if ((after >= ZERO && after <= NINE) || after === 0x2e || after === 0x65 || after === 0x45) return -1;
  if (end - p > MAX_SAFE_DIGITS) return -1;
  let value = 0;
  for (let i = p; i < end; i++) value = value * 10 + (line[i] - ZERO);
  return value <= Number.MAX_SAFE_INTEGER ? value : -1;
}

function compareBytes(line: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = line[aStart + i] - line[bStart + i];
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

function sameBytes(line: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aEnd - aStart === bEnd - bStart && compareBytes(line, aStart, aEnd, bStart, bEnd) === 0;
}

const PROTO = bytesOf('__proto__');

function isProto(line: Uint8Array, start: number): boolean {
  for (let i = 0; i < PROTO.length; i++) if (line[start + i] !== PROTO[i]) return false;
  return true;
}
