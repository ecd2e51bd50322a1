import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * Principle 4 of docs/record.md: no content, no secrets. Everything here is pure and synchronous so
 * adapters, loggers and the dead-letter path can all call it before a byte is stored.
 *
 * What is a secret here: API keys (sk-..., AIza..., AKIA..., gh*_..., JWTs), Authorization /
 * Bearer / Basic credentials, values of secret-named fields and headers (api_key, x-api-key,
 * authorization, cookie, *_token, *_secret, password...), and query strings of URLs (stripped
 * whole: providers and MCP servers put tokens there under many names). E-mail addresses are
 * personal data: hashed into `end_user_hash` when they identify the user, removed elsewhere.
 * Prompts and completions are reduced to SHA-256 (see contentSha256 for the exact bytes).
 */

export const REDACTED = '[REDACTED]';
export const EMAIL_MASK = '[EMAIL]';

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/**
 * SHA-256 of prompt or completion content, as stored in content.prompt_sha256/response_sha256.
 * The hashed bytes are:
 *  - for a string (a raw prompt or completion text): its UTF-8 bytes, unchanged;
 *  - for anything else (a messages array, a response object): its RFC 8785 (JCS) canonical
 *    JSON, so key order or whitespace in the gateway's serialization does not change the hash.
 * A verifier holding the original messages can recompute it. A stand-in left by redactForProduce
 * gives the hash of the content it replaced. Returns undefined for absent
 * content (undefined/null) rather than hashing "null".
 */
export function contentSha256(content: unknown): string | undefined {
  if (content === undefined || content === null) return undefined;
  // Content that redactForProduce replaced before producing carries its original hash.
  const ref = contentRefSha256(content);
  if (ref !== undefined) return ref;
  if (typeof content === 'string') return sha256Hex(content);
  const canonical = canonicalize(content);
  return canonical === undefined ? undefined : sha256Hex(canonical);
}

// Bounded repetitions (RFC 5321: local part ≤ 64, labels ≤ 63) keep the scan linear on long
// runs of word characters, which an unbounded `[...]+@` would make quadratic.
const EMAIL_RE = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g;
const EMAIL_EXACT = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}$/;

export function isEmail(value: string): boolean {
  return EMAIL_EXACT.test(value.trim());
}

/**
 * end_user_hash of an end-user identifier: SHA-256 of the trimmed identifier, lower-cased first
 * when it is an e-mail address (mail hosts treat the address case-insensitively in practice, and
 * one user should hash to one value).
 */
export function endUserHash(id: string): string {
  const trimmed = id.trim();
  return sha256Hex(isEmail(trimmed) ? trimmed.toLowerCase() : trimmed);
}

/** Header and field names whose values are credentials, compared after lower-casing and '-' → '_'. */
const SECRET_NAMES = new Set([
  'authorization',
  'proxy_authorization',
  'api_key',
  'apikey',
  'x_api_key',
  'api_token',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'secret',
  'client_secret',
  'password',
  'passwd',
  'cookie',
  'set_cookie',
  'credentials',
  'private_key',
  'x_portkey_api_key',
  'x_portkey_virtual_key',
  'virtual_key',
  'x_goog_api_key',
  'openai_api_key',
  'anthropic_api_key',
  'aws_secret_access_key',
  'aws_session_token',
  'ocp_apim_subscription_key',
]);

export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/-/g, '_');
  if (SECRET_NAMES.has(n)) return true;
  // *_api_key, *_secret, *_token, *_password: but not *_tokens (counts) or *_token_count.
  return /(?:^|_)(?:api_key|apikey|secret|password|auth_token|access_key)$/.test(n) || /_token$/.test(n);
}

/** Free-text patterns that look like credentials, each replaced by the mask, prefix kept when harmless. */
const TEXT_PATTERNS: Array<[RegExp, string]> = [
  // "Authorization: Bearer x", "Bearer x", "Basic x" (also inside JSON strings).
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9\-._~+/]{6,}=*/gi, `$1 ${REDACTED}`],
  // OpenAI / Anthropic / OpenRouter / LiteLLM virtual keys: sk-..., sk-proj-..., sk-ant-..., sk-or-v1-...
  [/\bsk-[A-Za-z0-9_-]{6,}/g, REDACTED],
  // Google API keys, AWS access key ids, GitHub and Slack tokens, JWTs.
  [/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Query strings of URLs are dropped whole ("?api_key=...", "?sig=...", "?key=...").
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>?#]*)\?[^\s"'<>#]*/gi, `$1?${REDACTED}`],
  // Credentials in URL userinfo: scheme://user:pass@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s"'<>/@:]+:[^\s"'<>/@]+@/gi, `$1${REDACTED}@`],
  // JSON pairs with a secret-looking name: "api_key": "...", "x-api-key":"...", "password": "...".
  [
    /("[^"\\]*(?:api[_-]?key|apikey|virtual[_-]?key|access[_-]?key|private[_-]?key|authorization|secret|password|passwd|token(?!s)|credential|cookie)[^"\\]*"\s*:\s*")(?:[^"\\]|\\.)*(")/gi,
    `$1${REDACTED}$2`,
  ],
  // key=value and header lines outside JSON: api_key=..., x-api-key: ..., password=...
  [
    /\b((?:x-)?api[_-]?key|apikey|virtual[_-]?key|authorization|access[_-]?token|refresh[_-]?token|client[_-]?secret|password|passwd|secret)(\s*[=:]\s*)(?!\[REDACTED\])[^\s"'&,;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // Query parameters that travel without their URL: &token=..., ;sig=...
  [
    /([?&;](?:[A-Za-z0-9_.-]*?)(?:key|token|secret|sig|signature|password|auth)[A-Za-z0-9_.-]*=)[^&\s"'#]+/gi,
    `$1${REDACTED}`,
  ],
  [EMAIL_RE, EMAIL_MASK],
];

/** Masks anything in free text that looks like a credential, a URL query string or an e-mail. */
export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of TEXT_PATTERNS) out = out.replace(re, replacement);
  return out;
}

/**
 * An endpoint as the record may keep it: host and path only. Query string, fragment and userinfo
 * are removed (credentials and signed-URL tokens live there); the path is masked with redactText
 * because some hosted endpoints embed keys in the path. Undefined when the text is not a URL.
 */
export function stripUrl(url: string): { host?: string; path?: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (!parsed.host) return undefined;
  const path = parsed.pathname && parsed.pathname !== '/' ? redactText(decodeSafe(parsed.pathname)) : undefined;
  return { host: parsed.host.toLowerCase(), ...(path ? { path } : {}) };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Field names that carry prompt or completion content in the formats we ingest. */
const CONTENT_NAMES = new Set([
  'messages',
  'prompt',
  'prompts',
  'completion',
  'completions',
  'choices',
  'content',
  'contents',
  'text',
  'input',
  'inputs',
  'output',
  'outputs',
  'instructions',
  'system',
  'system_instructions',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.retrieval.query.text',
]);

export function isContentName(name: string): boolean {
  const n = name.toLowerCase();
  return CONTENT_NAMES.has(n) || /^(?:gen_ai|llm)\.(?:prompt|completion)s?\.\d+\.content$/.test(n);
}

/**
 * Deep copy of a parsed JSON value with secrets masked and content replaced by its hash
 * (`"[CONTENT sha256:<hex>]"`). OTLP attribute lists (`{key, value}` pairs) are handled by the
 * attribute's key. Used for logging and the dead-letter queue, never for the record itself
 * (adapters pick fields, they do not copy payloads).
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 64) return REDACTED;
  if (typeof value === 'string') {
    // JSON carried as a string (x-portkey-config, spend-log metadata): redact its structure too.
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      const inner = tryParse(t);
      if (inner.ok && typeof inner.value === 'object' && inner.value !== null)
        return JSON.stringify(redactValue(inner.value, depth + 1));
    }
    return redactText(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  // OTLP attribute: { key: "gen_ai.input.messages", value: { stringValue: "..." } }.
  if (typeof obj.key === 'string' && 'value' in obj && Object.keys(obj).length <= 2) {
    if (isSecretName(obj.key) || /(?:^|\.)(?:authorization|cookie|api[_-]?key)$/i.test(obj.key))
      return { key: obj.key, value: REDACTED };
    if (isContentName(obj.key)) return { key: obj.key, value: contentMarker(obj.value) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && v !== undefined && v !== '' && isSecretName(k)) out[k] = REDACTED;
    else if (v !== null && v !== undefined && isContentName(k)) out[k] = contentMarker(v);
    else out[redactText(k)] = redactValue(v, depth + 1);
  }
  return out;
}

function contentMarker(v: unknown): string {
  return `[CONTENT sha256:${contentSha256(v) ?? 'none'}]`;
}

/** Headers with credential-bearing values masked and the rest passed through redactText. */
export function redactHeaders(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers))
    out[k] = v === undefined ? v : isSecretName(k) ? REDACTED : redactText(v);
  return out;
}

/**
 * What the dead-letter path stores for bytes it could not turn into records. When the bytes are
 * JSON (one document, or NDJSON lines) they are parsed and passed through redactValue, so
 * secret fields, prompts and completions go too; otherwise (truncated or non-JSON bytes) the
 * UTF-8 text is masked with redactText. Bytes that are not valid UTF-8 come back with U+FFFD in
 * place of the invalid sequences: the DLQ keeps a readable, safe copy, not the exact bytes
 * (raw_sha256 is not computed from it).
 */
export function redactForDeadLetter(payload: Buffer): Buffer {
  const text = payload.toString('utf8').replace(/^\uFEFF/, '');
  const whole = tryParse(text);
  if (whole.ok) return Buffer.from(JSON.stringify(redactValue(whole.value)), 'utf8');
  const lines = text.split(/\r?\n/);
  if (lines.filter((l) => l.trim() !== '').length > 1) {
    const out = lines.map((line) => {
      if (line.trim() === '') return line;
      const p = tryParse(line);
      return p.ok ? JSON.stringify(redactValue(p.value)) : redactJsonishText(line);
    });
    return Buffer.from(out.join('\n'), 'utf8');
  }
  return Buffer.from(redactJsonishText(text), 'utf8');
}

/**
 * Text that looks like JSON but does not parse (typically truncated): string values of content
 * fields ("content", "prompt", "text", ...) are masked up to their closing quote or the end of
 * the text, after redactText. Content inside arrays of plain strings is not found this way.
 */
/** A string value short and plain enough to keep in a dead letter (a model name, an id, a status). */
const PLAIN_VALUE = /^[A-Za-z0-9_.:/@-]{0,64}$/;

/**
 * Text that looks like JSON but does not parse (truncated, or broken on purpose). Keys stay so
 * a person can see what was sent; string values stay only when they are short plain tokens.
 * Anything longer — prose, a JSON document inside a string such as Portkey's x-portkey-config,
 * prompt text under an OTLP stringValue — is masked, and so is an unterminated last value,
 * since the cut may fall in the middle of anything.
 */
function redactJsonishText(text: string): string {
  const contentMasked = redactText(text).replace(
    /("(?:content|prompt|text|completion|input|output|query|system|instructions|arguments)"\s*:\s*")(?:[^"\\]|\\.)*("|$)/gi,
    (_m, head: string, tail: string) => `${head}[CONTENT]${tail}`,
  );
  return contentMasked.replace(/"((?:[^"\\]|\\.)*)("\s*:|"|$)/g, (whole: string, body: string, end: string) => {
    if (end.endsWith(':') || body === '[CONTENT]') return whole;
    if (end === '"' && PLAIN_VALUE.test(body)) return whole;
    const url = end === '"' ? stripUrl(body) : undefined;
    if (url?.host) return `"${new URL(body.trim()).protocol}//${url.host}${url.path ?? ''}"`;
    return `"${REDACTED}${end}`;
  });
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * Content replaced at produce time keeps its hash in this form, so that the adapter reading the
 * produced payload stores the same content.prompt_sha256/response_sha256 as one reading the
 * original (contentSha256 recognises it). It does not start with `[` or `{`, which adapters take
 * for JSON text.
 */
const CONTENT_REF_PREFIX = 'redacted-content:sha256:';
const CONTENT_REF = /^redacted-content:sha256:([0-9a-f]{64})$/;
/** Set on an object or on an array's first element whose content was replaced: the original's contentSha256. */
export const CONTENT_SHA256_KEY = '_content_sha256';

/** The hash recorded by redactForProduce in place of content, if `value` is such a stand-in. */
export function contentRefSha256(value: unknown): string | undefined {
  if (typeof value === 'string') return CONTENT_REF.exec(value)?.[1];
  const holder = Array.isArray(value) ? value[0] : value;
  if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) return undefined;
  const h = (holder as Record<string, unknown>)[CONTENT_SHA256_KEY];
  return typeof h === 'string' && /^[0-9a-f]{64}$/.test(h) ? h : undefined;
}

/** Scalar fields kept in the skeleton of a content item ({index, finish_reason} of a choice): never text. */
const CONTENT_SKELETON_KEYS = new Set(['index', 'finish_reason', 'finishReason', 'stop_reason', 'role', 'type']);

/**
 * What an HTTP route or a bridge may put on the decisions topic for a payload it was given: Kafka
 * keeps what it is given for its retention, so secrets and content go before producing, not only
 * before storing. For JSON (one document or NDJSON lines), values of secret-named fields are
 * masked, strings pass through redactText (keys in error and status messages, bearer tokens, URL
 * queries), a whole-string e-mail becomes its end_user_hash (so the record's end_user_hash is
 * unchanged) and e-mails in free text are masked. Content fields (isContentName) become a
 * reference to their hash: `"redacted-content:sha256:<hex>"`, or for an array of choices or
 * messages a skeleton keeping only index, role and finish reason, the first item carrying
 * `_content_sha256`; objects that held content carry `_content_sha256` of their original form.
 * contentSha256 returns those hashes, so the record made from the produced payload holds the same
 * content hashes as one made from the original. A line that is not JSON (it will be quarantined)
 * keeps its keys and short plain values only, as in a dead letter.
 * Returns the input itself when nothing needed masking (its exact bytes are kept).
 */
export function redactForProduce(payload: Buffer): Buffer {
  const text = payload.toString('utf8').replace(/^\uFEFF/, '');
  const whole = tryParse(text);
  if (whole.ok) return sameOr(payload, whole.value, produceValue(whole.value, 0).value);
  // NDJSON, or text that will not decode at all (quarantined with its reason): a line that is not
  // JSON keeps its keys and short plain values only, as a dead letter does.
  const lines = text.split(/\r?\n/);
  let changed = false;
  const out = lines.map((line) => {
    if (line.trim() === '') return line;
    const p = tryParse(line);
    const masked = p.ok ? produceValue(p.value, 0) : undefined;
    const next = masked ? (masked.changed ? JSON.stringify(masked.value) : line) : redactJsonishText(line);
    changed ||= next !== line;
    return next;
  });
  return changed ? Buffer.from(out.join('\n'), 'utf8') : payload;
}

function sameOr(payload: Buffer, before: unknown, after: unknown): Buffer {
  return after === before ? payload : Buffer.from(JSON.stringify(after), 'utf8');
}

interface Produced {
  value: unknown;
  changed: boolean;
  /** Content was replaced somewhere below (the holder then records its original hash). */
  content: boolean;
}

const SAME = (value: unknown): Produced => ({ value, changed: false, content: false });

function produceValue(value: unknown, depth: number): Produced {
  if (depth > 64) return { value: REDACTED, changed: true, content: false };
  if (typeof value === 'string') return produceString(value, depth);
  if (Array.isArray(value)) {
    const items = value.map((v) => produceValue(v, depth + 1));
    if (!items.some((i) => i.changed)) return SAME(value);
    return { value: items.map((i) => i.value), changed: true, content: items.some((i) => i.content) };
  }
  if (typeof value !== 'object' || value === null) return SAME(value);
  const obj = value as Record<string, unknown>;
  // OTLP attribute: { key: "gen_ai.input.messages", value: { stringValue: "..." } }.
  if (typeof obj.key === 'string' && 'value' in obj && Object.keys(obj).length <= 2) {
    const v = obj.value as Record<string, unknown> | undefined;
    const inner = typeof v?.stringValue === 'string' ? v.stringValue : v;
    if (isSecretName(obj.key) || /(?:^|\.)(?:authorization|cookie|api[_-]?key)$/i.test(obj.key))
      return inner === REDACTED
        ? SAME(value)
        : { value: { key: obj.key, value: { stringValue: REDACTED } }, changed: true, content: false };
    if (isContentName(obj.key)) {
      if (isEmptyContent(inner) || contentRefSha256(inner) !== undefined) return SAME(value);
      return {
        value: { key: obj.key, value: { stringValue: contentRef(inner) } },
        changed: true,
        content: true,
      };
    }
  }
  const out: Record<string, unknown> = {};
  let changed = false;
  let content = false;
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && v !== undefined && v !== '' && isSecretName(k) && v !== REDACTED) {
      out[k] = REDACTED;
      changed = true;
    } else if (isContentName(k) && !isEmptyContent(v) && contentRefSha256(v) === undefined) {
      out[k] = contentStandIn(v);
      changed = content = true;
    } else {
      const r = produceValue(v, depth + 1);
      out[k] = r.value;
      changed ||= r.changed;
      content ||= r.content;
    }
  }
  if (!changed) return SAME(value);
  if (content && !(CONTENT_SHA256_KEY in obj)) out[CONTENT_SHA256_KEY] = contentSha256(value);
  return { value: out, changed, content };
}

function produceString(value: string, depth: number): Produced {
  const t = value.trim();
  // JSON carried as a string (x-portkey-config, spend-log metadata): its structure is masked too.
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    const inner = tryParse(t);
    if (inner.ok && typeof inner.value === 'object' && inner.value !== null) {
      const r = produceValue(inner.value, depth + 1);
      return r.changed ? { value: JSON.stringify(r.value), changed: true, content: r.content } : SAME(value);
    }
  }
  if (isEmail(t)) return { value: endUserHash(t), changed: true, content: false };
  const masked = redactText(value);
  return masked === value ? SAME(value) : { value: masked, changed: true, content: false };
}

/** What gateways write in place of content they did not log (LiteLLM's turn_off_message_logging). */
const CONTENT_PLACEHOLDERS = new Set(['redacted-by-litellm']);

/** Nothing to hide and nothing adapters would hash (absent, empty, or a gateway's placeholder): kept as is. */
function isEmptyContent(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    (typeof v === 'string' && (['', '{}', '[]'].includes(v.trim()) || CONTENT_PLACEHOLDERS.has(v.trim()))) ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && Object.keys(v).length === 0)
  );
}

/** The hash adapters compute for a content value: JSON text is hashed as the value it holds. */
function contentRef(v: unknown): string {
  let value = v;
  if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
    const p = tryParse(v.trim());
    if (p.ok) value = p.value;
  }
  return `${CONTENT_REF_PREFIX}${contentSha256(value)}`;
}

function contentStandIn(v: unknown): unknown {
  if (!Array.isArray(v)) return contentRef(v);
  const skeleton = v.map((item) => {
    const kept: Record<string, unknown> = {};
    if (typeof item === 'object' && item !== null && !Array.isArray(item))
      for (const [k, x] of Object.entries(item))
        if (CONTENT_SKELETON_KEYS.has(k) && (typeof x !== 'object' || x === null)) kept[k] = x;
    return kept;
  });
  skeleton[0] = { ...skeleton[0], [CONTENT_SHA256_KEY]: contentRef(v).slice(CONTENT_REF_PREFIX.length) };
  return skeleton;
}
