import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { contentSha256 } from '../../domain/privacy/redact.js';
import { costAmountNoted } from '../../domain/normalize/cost.js';
import {
  count,
  id,
  int,
  isObject,
  obj,
  parseJsonText,
  str,
  type Json,
  type JsonObject,
} from '../../domain/normalize/json-value.js';
import { datedModelVersion } from '../../domain/normalize/model-version.js';
import { normalizeProvider } from '../../domain/normalize/provider.js';
import {
  assertedValue,
  endpointOfUrl,
  hashedEndUser,
  httpStatus,
  safeText,
} from '../../domain/normalize/record-fields.js';
import { secondsToMs } from '../../domain/normalize/time.js';
import {
  DecodeError,
  UNKNOWN_REQUESTED_MODEL,
  deriveEventId,
  type AdaptedRecord,
  type Adapter,
  type RawEvent,
} from './adapter.js';
import { finalize } from './finalize.js';
import { gatewayId, resolveTenant } from './identity.js';
import { adaptDocuments, recordSource } from './payload.js';

/**
 * OpenTelemetry GenAI spans (OTLP/JSON, as an SDK or collector exports to POST /v1/traces) →
 * one canonical record per inference span (`gen_ai.operation.name` chat, text_completion,
 * generate_content or embeddings; or, from older instrumentations without the operation name,
 * any span with a `gen_ai.request.model`). Agent, tool and non-GenAI spans are not routing
 * decisions and produce nothing, so an OTLP batch without inference spans adapts to [].
 *
 * Attribute names follow the GenAI semantic conventions (semantic-conventions
 * docs/registry/attributes/gen-ai.md): `gen_ai.request.model`, `gen_ai.response.model`,
 * `gen_ai.provider.name`, `gen_ai.usage.input_tokens`/`output_tokens`; the deprecated names
 * instrumentations still emit by default are read too (`gen_ai.system`,
 * `gen_ai.usage.prompt_tokens`/`completion_tokens`, indexed `gen_ai.prompt.N.content`), with a
 * note. Time to first chunk is in seconds (`gen_ai.response.time_to_first_chunk`) and is
 * converted to ms. A span is one model call: OTel says nothing of the gateway's routing, so
 * fallback_used is "unknown" and attempts "none".
 */
export const otelAdapter: Adapter = {
  format: 'otel',
  version: 'otel/1',
  adapt: (raw) => adaptDocuments(raw, 'otel', inferenceSpans).flat(),
};

/**
 * The records of one OTLP/JSON export: one per inference span, in export order (adapt() joins
 * the exports of a batch: one array per payload document, none per span). Errors name the span,
 * not the document, so `where` is not used.
 */
function inferenceSpans(raw: RawEvent, doc: unknown, _where: string, sha: string): AdaptedRecord[] {
  if (!isObject(doc) || !Array.isArray(doc.resourceSpans))
    throw new DecodeError('NOT_OTLP', 'otel: not an OTLP/JSON traces export (no resourceSpans)');
  const out: AdaptedRecord[] = [];
  for (const rs of doc.resourceSpans.filter(isObject)) {
    const resource = attributes(obj(rs.resource)?.attributes);
    const scopes = (
      Array.isArray(rs.scopeSpans)
        ? rs.scopeSpans
        : Array.isArray(rs.instrumentationLibrarySpans)
          ? rs.instrumentationLibrarySpans
          : []
    ).filter(isObject);
    for (const scope of scopes) {
      for (const span of (Array.isArray(scope.spans) ? scope.spans : []).filter(isObject)) {
        const attrs = attributes(span.attributes);
        if (!isInferenceSpan(attrs)) continue;
        out.push(adaptSpan(raw, resource, span, attrs, sha));
      }
    }
  }
  return out;
}

const INFERENCE_OPERATIONS = new Set([
  'chat',
  'text_completion',
  'generate_content',
  'embeddings',
  'completion',
  'embedding',
]);

function isInferenceSpan(a: Map<string, Json>): boolean {
  const op = str(a.get('gen_ai.operation.name'));
  if (op !== undefined) return INFERENCE_OPERATIONS.has(op);
  return (
    a.has('gen_ai.request.model') ||
    (a.has('gen_ai.system') && (a.has('gen_ai.response.model') || a.has('gen_ai.usage.prompt_tokens')))
  );
}

/** OTLP AnyValue → JSON. intValue is a string in OTLP/JSON (int64); kept as a number when safe. */
function anyValue(v: Json | undefined): Json {
  const o = obj(v);
  if (!o) return null;
  if ('stringValue' in o) return o.stringValue;
  if ('boolValue' in o) return o.boolValue;
  if ('intValue' in o) {
    const n = typeof o.intValue === 'string' ? Number(o.intValue) : o.intValue;
    return typeof n === 'number' && Number.isSafeInteger(n) ? n : o.intValue;
  }
  if ('doubleValue' in o) return o.doubleValue;
  if ('arrayValue' in o)
    return (Array.isArray(obj(o.arrayValue)?.values) ? (obj(o.arrayValue)?.values as Json[]) : []).map(anyValue);
  if ('kvlistValue' in o) return Object.fromEntries(attributes(obj(o.kvlistValue)?.values));
  if ('bytesValue' in o) return o.bytesValue;
  return null;
}

function attributes(list: Json | undefined): Map<string, Json> {
  const m = new Map<string, Json>();
  for (const kv of Array.isArray(list) ? list : []) {
    const o = obj(kv);
    const k = str(o?.key);
    if (k) m.set(k, anyValue(o?.value));
  }
  return m;
}

/** OTLP/JSON ids are hex; some exporters emit the protobuf-JSON base64 form instead. */
function hexId(v: Json | undefined, bytes: number): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(s)) return /^0+$/.test(s) ? undefined : s.toLowerCase();
  const b = Buffer.from(s, 'base64');
  return b.length === bytes && !b.every((x) => x === 0) ? b.toString('hex') : undefined;
}

function nanosToIso(v: Json | undefined): string | undefined {
  const s = typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : undefined) : str(v);
  if (!s || !/^\d{1,20}$/.test(s)) return undefined;
  const ms = BigInt(s) / 1_000_000n;
  if (ms <= 0n || ms > 253402300799999n) return undefined;
  return new Date(Number(ms)).toISOString();
}

function durationMs(start: Json | undefined, end: Json | undefined): number | undefined {
  const a = str(start) ?? (typeof start === 'number' ? String(start) : undefined);
  const b = str(end) ?? (typeof end === 'number' ? String(end) : undefined);
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const d = (BigInt(b) - BigInt(a)) / 1_000_000n;
  return d >= 0n && d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : undefined;
}

function first(a: Map<string, Json>, names: string[], deprecated: Set<string>, notes: string[]): Json | undefined {
  for (const n of names) {
    if (!a.has(n)) continue;
    if (deprecated.has(n)) notes.push(`read deprecated attribute ${n}`);
    return a.get(n);
  }
  return undefined;
}

const DEPRECATED = new Set([
  'gen_ai.system',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.server.time_to_first_token',
]);

function adaptSpan(
  raw: RawEvent,
  resource: Map<string, Json>,
  span: JsonObject,
  a: Map<string, Json>,
  sha: string,
): AdaptedRecord {
  const notes: string[] = [];
  const traceId = hexId(span.traceId, 16);
  const spanId = hexId(span.spanId, 8);
  const where = `otel: span ${spanId ?? '?'}`;
  if (!traceId || !spanId) throw new DecodeError('BAD_SPAN_ID', `${where}: traceId/spanId are not valid OTLP ids`);
  const occurred = nanosToIso(span.startTimeUnixNano);
  if (!occurred) throw new DecodeError('BAD_TIME', `${where}: startTimeUnixNano is not a time in nanoseconds`);

  const gw = gatewayId(raw, id(resource.get('service.instance.id')) ?? id(resource.get('service.name')), 'otel', notes);
  const tenantKeys = ['routing.tenant_id', 'tenant.id', 'tenant_id'];
  const tenant = resolveTenant(
    raw,
    [
      ...tenantKeys.map((k): [string, Json | undefined] => [`resource ${k}`, resource.get(k)]),
      ...tenantKeys.map((k): [string, Json | undefined] => [`span ${k}`, a.get(k)]),
    ],
    where,
    notes,
    gw,
  );
  const statusCode = statusOf(span.status);
  const responseStatus = int(a.get('http.response.status_code') ?? a.get('http.status_code'));
  const errorType = safeText(a.get('error.type'));
  const isError =
    statusCode === 'error' || (responseStatus !== undefined && responseStatus >= 400) || errorType !== undefined;
  const finish = finishReason(a.get('gen_ai.response.finish_reasons'));
  const requested = id(a.get('gen_ai.request.model'));
  if (!requested) notes.push('requested_model unknown: the span has no gen_ai.request.model');
  const reported = id(a.get('gen_ai.response.model'));
  const responseId = id(a.get('gen_ai.response.id'));
  const provider = str(first(a, ['gen_ai.provider.name', 'gen_ai.system'], DEPRECATED, notes));
  const input = count(first(a, ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'], DEPRECATED, notes));
  const output = count(first(a, ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'], DEPRECATED, notes));
  const ttft = secondsToMs(
    first(a, ['gen_ai.response.time_to_first_chunk', 'gen_ai.server.time_to_first_token'], DEPRECATED, notes),
  );
  const user = id(a.get('enduser.id')) ?? id(a.get('user.id'));
  const cost = costOf(a, notes);
  notes.push('fallback_used unknown: an OTel GenAI span describes one model call, not the gateway routing around it');

  const record: CanonicalRecord = {
    schema_version: '1',
    event_id: deriveEventId(gw, `${traceId}:${spanId}`, `status:${statusCode}`),
    occurred_at: occurred,
    gateway: { id: gw, kind: 'otel', version: id(resource.get('service.version')) },
    tenant_id: tenant,
    // The provider's response id (chatcmpl-...) is what a user reports; the span ids otherwise.
    request_id: responseId ?? `${traceId}:${spanId}`,
    trace_id: traceId,
    session_id: id(a.get('gen_ai.conversation.id')) ?? id(a.get('session.id')),
    end_user_hash: hashedEndUser(user),
    requested_model: requested ?? UNKNOWN_REQUESTED_MODEL,
    reported_model: assertedValue(reported, 'provider'),
    provider: normalizeProvider(provider, notes),
    // A dated response model names the snapshot that served.
    model_version: {
      version: datedModelVersion(reported),
      system_fingerprint:
        id(a.get('openai.response.system_fingerprint')) ?? id(a.get('gen_ai.openai.response.system_fingerprint')),
    },
    endpoint: endpointOf(a),
    attempts: { completeness: 'none' },
    fallback_used: 'unknown',
    usage: {
      input_tokens: input,
      output_tokens: output,
      cached_input_tokens:
        count(a.get('gen_ai.usage.cache_read.input_tokens')) ?? count(a.get('gen_ai.usage.cache_read_input_tokens')),
      reasoning_tokens: count(a.get('gen_ai.usage.reasoning.output_tokens')),
    },
    latency: { total_ms: durationMs(span.startTimeUnixNano, span.endTimeUnixNano), ttft_ms: ttft },
    cost,
    outcome: {
      status: isError ? 'error' : 'success',
      http_status: httpStatus(responseStatus),
      error_class: isError ? (errorType ?? safeText(obj(span.status)?.message, 128)) : undefined,
      finish_reason: finish,
    },
    content: { prompt_sha256: promptHash(a, notes), response_sha256: completionHash(a, notes) },
    source: recordSource(otelAdapter, sha),
  };
  if (a.get('gen_ai.request.stream') === true || a.get('llm.is_streaming') === true) notes.push('streamed request');
  return finalize(record, notes, where);
}

/** Span status: OTLP/JSON code 2 / "STATUS_CODE_ERROR" is an error; unset or ok otherwise. */
function statusOf(v: Json | undefined): 'error' | 'ok' | 'unset' {
  const code = obj(v)?.code;
  if (code === 2 || code === 'STATUS_CODE_ERROR') return 'error';
  if (code === 1 || code === 'STATUS_CODE_OK') return 'ok';
  return 'unset';
}

function finishReason(v: Json | undefined): string | undefined {
  const f = Array.isArray(v) ? v[0] : v;
  return safeText(f, 64);
}

function endpointOf(a: Map<string, Json>): CanonicalRecord['endpoint'] {
  const fromUrl = endpointOfUrl(str(a.get('url.full')) ?? str(a.get('http.url')));
  const host = id(a.get('server.address'))?.toLowerCase() ?? fromUrl?.host;
  // A path is only kept when it belongs to the same host (url.full may name a proxy hop).
  return host ? { host, path: fromUrl?.host === host ? fromUrl.path : undefined } : undefined;
}

/** `gen_ai.usage.cost` is not a semantic-convention attribute, but OpenLIT and others emit it (USD). */
function costOf(a: Map<string, Json>, notes: string[]): CanonicalRecord['cost'] {
  if (!a.has('gen_ai.usage.cost')) return undefined;
  const amount = costAmountNoted(a.get('gen_ai.usage.cost'), 'gen_ai.usage.cost', notes);
  if (amount === undefined) return undefined;
  notes.push(
    'cost from gen_ai.usage.cost (not a semantic-convention attribute; computed by the instrumentation, USD assumed)',
  );
  return { amount, currency: 'USD', source: 'computed' };
}

/**
 * Content hashes: the structured `gen_ai.input.messages` / `gen_ai.output.messages` (a JSON string
 * on spans is parsed first, so both representations hash alike), else the deprecated indexed
 * `gen_ai.prompt.N.role/content` attributes as `[{role, content}, ...]`, else the deprecated
 * single `gen_ai.prompt` / `gen_ai.completion`.
 */
function promptHash(a: Map<string, Json>, notes: string[]): string | undefined {
  return contentHash(a, 'gen_ai.input.messages', 'gen_ai.prompt', notes);
}

function completionHash(a: Map<string, Json>, notes: string[]): string | undefined {
  return contentHash(a, 'gen_ai.output.messages', 'gen_ai.completion', notes);
}

function contentHash(a: Map<string, Json>, current: string, deprecated: string, notes: string[]): string | undefined {
  if (a.has(current)) return contentSha256(parsedJson(a.get(current)));
  const indexed = indexedMessages(a, deprecated);
  if (indexed.length) {
    notes.push(`content hash from deprecated ${deprecated}.N.* attributes`);
    return contentSha256(indexed);
  }
  if (a.has(deprecated)) {
    notes.push(`content hash from deprecated ${deprecated}`);
    return contentSha256(parsedJson(a.get(deprecated)));
  }
  return undefined;
}

function indexedMessages(a: Map<string, Json>, prefix: string): JsonObject[] {
  const byIndex = new Map<number, JsonObject>();
  for (const [k, v] of a) {
    const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.(role|content)$`).exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    byIndex.set(i, { ...(byIndex.get(i) ?? {}), [m[2]]: v });
  }
  return [...byIndex.entries()].sort((x, y) => x[0] - y[0]).map(([, v]) => v);
}

function parsedJson(v: Json | undefined): Json | undefined {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!t.startsWith('[') && !t.startsWith('{')) return v;
  const parsed = parseJsonText(t);
  return parsed === undefined ? v : parsed;
}
