import type {
  Attempt,
  CacheStatus,
  CanonicalRecord,
  OutcomeStatus,
  PolicyCheck,
  RoutingStrategy,
  TriState,
} from '../../domain/record/canonical-record.js';
import { contentSha256, redactValue, sha256Hex } from '../../domain/privacy/redact.js';
import { costAmountNoted, gatewayCost } from '../../domain/normalize/cost.js';
import {
  count,
  id,
  int,
  isObject,
  jsonObjectOf,
  obj,
  parseJsonText,
  str,
  type Json,
  type JsonObject,
} from '../../domain/normalize/json-value.js';
import { normalizeProvider } from '../../domain/normalize/provider.js';
import {
  assertedValue,
  cachedInputTokens,
  endpointOfUrl,
  hashedEndUser,
  httpStatus,
  reasoningTokens,
  safeText,
} from '../../domain/normalize/record-fields.js';
import { parseHttpDate, parseTime, toMs } from '../../domain/normalize/time.js';
import {
  DecodeError,
  ROUTING_HEADERS,
  UNKNOWN_REQUESTED_MODEL,
  deriveEventId,
  type AdaptedRecord,
  type Adapter,
  type RawEvent,
} from './adapter.js';
import { finalize } from './finalize.js';
import { header, headerIn } from './headers.js';
import { gatewayId, resolveTenant } from './identity.js';
import { documentAdapter, documentObject, recordSource } from './payload.js';
import { requiredTime } from './required-time.js';

/**
 * Portkey AI gateway → canonical record. Three shapes, all from Portkey's public formats:
 *
 *  - capture: one request/response as Portkey's log-insert API describes a log object
 *    (`{request:{url,method,headers,body}, response:{status,headers,body,time,streamingMode},
 *    metadata}`), where `response.headers` carries the routing headers the gateway sets
 *    (src/handlers/services/responseService.ts): `x-portkey-provider`,
 *    `x-portkey-last-used-option-index` ("config", "config.targets[1]", nested
 *    "config.targets[1].targets[0]"), `x-portkey-retry-attempt-count` (-1 = retries exhausted),
 *    `x-portkey-cache-status` and `x-portkey-trace-id`. The applied routing config is `config`
 *    or the request's `x-portkey-config` header (inline JSON, or a saved config id "pc-...").
 *  - export: a row of Portkey's logs export (JSONL): `ai_org`, `ai_model`, `cost` **in cents**,
 *    `cost_currency`, `response_time` (ms), `cache_status`, `stream_mode`, `trace_id`, ...
 *  - stream: an entry of the gateway's log stream (src/middlewares/log): `requestOptions[]`
 *    holds one object per target tried, in order, so it is the only Portkey shape with the
 *    targets of a fallback chain. Its `time` is `toLocaleString()` in the gateway's time zone
 *    and is not used; `requestOptions[].createdAt` (ISO, UTC) is.
 *
 * Portkey has no stable event id: ids are derived from the trace id (or log id) and the option
 * index and status.
 */
export const portkeyAdapter: Adapter = documentAdapter('portkey', 'portkey/1', adaptOne);

function adaptOne(raw: RawEvent, json: unknown, where: string, sha: string): AdaptedRecord {
  const doc = documentObject(json, where, 'each Portkey event');
  const shape = portkeyShape(doc);
  if (shape === 'stream') return fromStream(raw, doc, where, sha);
  if (shape === 'export') return fromExport(raw, doc, where, sha);
  if (shape === 'capture') return fromCapture(raw, doc, where, sha);
  throw new DecodeError(
    'NOT_PORTKEY',
    `${where}: not a Portkey log object (no x-portkey-* response headers, export columns or requestOptions)`,
  );
}

export type PortkeyShape = 'capture' | 'export' | 'stream';

/** Which Portkey shape a JSON object is, if any (also used by format sniffing). */
export function portkeyShape(doc: JsonObject): PortkeyShape | undefined {
  if (Array.isArray(doc.requestOptions) && doc.requestOptions.some((o) => isObject(o) && isObject(o.providerOptions)))
    return 'stream';
  if ('ai_org' in doc || 'ai_model' in doc || 'cost_currency' in doc || 'response_status_code' in doc) return 'export';
  const hasPortkeyHeaders = (h: Json | undefined) =>
    isObject(h) && Object.keys(h).some((k) => k.toLowerCase().startsWith('x-portkey-'));
  if (isObject(doc.response) && hasPortkeyHeaders(doc.response.headers)) return 'capture';
  if (isObject(doc.request) && hasPortkeyHeaders(doc.request.headers) && isObject(doc.response)) return 'capture';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Routing config and option index

interface Hop {
  mode?: string;
  index: number;
  target?: JsonObject;
  siblings: JsonObject[];
}

/** "config.targets[1].targets[0]" → [1, 0]; "config" → []; "1" (older gateways) → [1]. */
export function parseOptionIndex(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return [Number(v)];
  if (!/^config(?:\.(?:targets|options)\[\d+\])*$/.test(v)) return undefined;
  return [...v.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
}

function parseConfig(v: Json | undefined, notes: string[]): { config?: JsonObject; configId?: string } {
  if (isObject(v)) return { config: v };
  const s = str(v);
  if (!s) return {};
  if (s.startsWith('{')) {
    const parsed = obj(parseJsonText(s));
    if (parsed) return { config: parsed };
    notes.push('x-portkey-config is not valid JSON; routing config unknown');
    return {};
  }
  return { configId: id(s) };
}

/**
 * routing.config_hash: SHA-256 (JCS) of the applied config with credential fields masked
 * (api_key, virtual_key, ...), so the hash names the routing policy and does not change when a
 * key is rotated.
 */
function configHash(config: JsonObject | undefined): string | undefined {
  return config ? contentSha256(redactValue(config)) : undefined;
}

const modeOf = (level: JsonObject | undefined): string | undefined =>
  str(obj(level?.strategy)?.mode) ?? str(level?.mode);
const targetsOf = (level: JsonObject | undefined): JsonObject[] =>
  (Array.isArray(level?.targets) ? level.targets : Array.isArray(level?.options) ? level.options : []).filter(isObject);

function walk(config: JsonObject | undefined, path: number[]): Hop[] {
  const hops: Hop[] = [];
  let level = config;
  for (const index of path) {
    const siblings = targetsOf(level);
    const target = siblings[index];
    hops.push({ mode: modeOf(level), index, target, siblings });
    level = target;
  }
  return hops;
}

const STRATEGY: Record<string, RoutingStrategy> = {
  fallback: 'fallback',
  loadbalance: 'loadbalance',
  conditional: 'conditional',
  single: 'static',
};

interface Routing {
  fallback: TriState;
  strategy?: RoutingStrategy;
  hops: Hop[];
  served?: JsonObject;
}

function routingOf(config: JsonObject | undefined, path: number[] | undefined, notes: string[]): Routing {
  if (path === undefined) {
    notes.push('fallback_used unknown: no x-portkey-last-used-option-index');
    return { fallback: 'unknown', hops: [] };
  }
  const hops = walk(config, path);
  const mode = modeOf(config);
  const strategy = mode ? STRATEGY[mode] : path.length === 0 ? 'static' : undefined;
  // "config" (no index) means a single-provider config: the config itself is the served target.
  const served = path.length === 0 ? config : hops.at(-1)?.target;
  // Index 0 at every level is the primary of any chain: no fallback whatever the modes are.
  if (path.every((i) => i === 0)) return { fallback: false, strategy, hops, served };
  if (hops.some((h) => h.mode === 'fallback' && h.index > 0)) return { fallback: true, strategy, hops, served };
  if (config && hops.every((h) => h.mode !== undefined)) return { fallback: false, strategy, hops, served };
  notes.push(
    'fallback_used unknown: the option index names a non-primary target but the routing config (strategy mode) was not sent',
  );
  return { fallback: 'unknown', strategy, hops, served };
}

const targetModel = (t: JsonObject | undefined): string | undefined =>
  id(obj(t?.override_params)?.model) ?? id(obj(t?.overrideParams)?.model);
const targetProvider = (t: JsonObject | undefined): string | undefined => str(t?.provider);

/**
 * Attempts from the config: at the first fallback level, targets[0..i] were tried in order and all
 * but the last failed (Portkey moves on only on a failure status). Per-attempt latency and status
 * are not reported, hence `targets_only`.
 */
function attemptsFromConfig(r: Routing, finalStatus: Attempt['status'], notes: string[]): CanonicalRecord['attempts'] {
  const fb = r.hops.find((h) => h.mode === 'fallback');
  if (fb && fb.siblings.length > fb.index) {
    const items: Attempt[] = fb.siblings.slice(0, fb.index + 1).map((t, j) => ({
      index: j,
      provider: normalizeProvider(targetProvider(t), []),
      model: targetModel(t),
      status: j < fb.index ? 'error' : finalStatus,
    }));
    if (fb.index > 0)
      notes.push(
        'earlier targets of the fallback chain are recorded as errors: Portkey falls back only on a failure status',
      );
    return { completeness: 'targets_only', items };
  }
  if (r.served)
    return {
      completeness: 'targets_only',
      items: [
        {
          index: 0,
          provider: normalizeProvider(targetProvider(r.served), []),
          model: targetModel(r.served),
          status: finalStatus,
        },
      ],
    };
  return { completeness: 'none' };
}

/** x-portkey-retry-attempt-count: N retries, or -1 when the retries were exhausted. */
function retriesOf(
  v: string | undefined,
  config: JsonObject | undefined,
  r: Routing,
  notes: string[],
): number | undefined {
  const n = int(v);
  if (n === undefined) return undefined;
  if (n >= 0) return n;
  if (n === -1) {
    const configured = count(obj(r.served?.retry)?.attempts) ?? count(obj(config?.retry)?.attempts);
    notes.push(
      configured !== undefined
        ? `x-portkey-retry-attempt-count -1 (retries exhausted): retries = the ${configured} configured attempts`
        : 'x-portkey-retry-attempt-count -1 (retries exhausted) and the configured attempts are unknown; retries left out',
    );
    return configured;
  }
  notes.push('x-portkey-retry-attempt-count is negative but not -1; ignored');
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Shared field mapping

const CACHE: Record<string, CacheStatus> = {
  HIT: 'hit',
  'SEMANTIC HIT': 'semantic_hit',
  SEMANTIC_HIT: 'semantic_hit',
  MISS: 'miss',
  'SEMANTIC MISS': 'miss',
  SEMANTIC_MISS: 'miss',
  REFRESH: 'refresh',
  DISABLED: 'bypass',
};

function cacheOf(v: string | undefined, key: Json | undefined, notes: string[]): CanonicalRecord['cache'] {
  if (v === undefined) return undefined;
  const status = CACHE[v.toUpperCase()];
  if (!status) notes.push('cache status value not recognised; recorded as unknown');
  if (v.toUpperCase() === 'DISABLED') notes.push('Portkey cache status DISABLED recorded as bypass');
  const k = str(key);
  return { status: status ?? 'unknown', key_hash: k ? sha256Hex(k) : undefined };
}

function outcomeOf(
  status: number | undefined,
  body: JsonObject | undefined,
  notes: string[],
): CanonicalRecord['outcome'] {
  const choice = Array.isArray(body?.choices) ? obj(body?.choices[0]) : undefined;
  const finish = safeText(choice?.finish_reason, 64);
  if (status === undefined) {
    notes.push('no response status; outcome from the response body');
    return { status: body?.error ? 'error' : 'success', finish_reason: finish };
  }
  let s: OutcomeStatus;
  // 446: a guardrail with deny=true failed, the gateway refused the request.
  if (status === 446) s = 'blocked';
  else if (status >= 200 && status < 300) s = 'success';
  else s = 'error';
  const err = obj(body?.error);
  return {
    status: s,
    http_status: httpStatus(status),
    error_class: s === 'success' ? undefined : (safeText(err?.type) ?? safeText(err?.code)),
    finish_reason: finish,
  };
}

/** Guardrail verdicts Portkey adds to the response body as `hook_results`. */
function hookChecks(body: JsonObject | undefined): PolicyCheck[] | undefined {
  const hooks = obj(body?.hook_results);
  if (!hooks) return undefined;
  const out: PolicyCheck[] = [];
  for (const list of [hooks.before_request_hooks, hooks.after_request_hooks]) {
    for (const h of Array.isArray(list) ? list : []) {
      const o = obj(h);
      const name = safeText(o?.id);
      if (name && typeof o?.verdict === 'boolean')
        out.push({
          name,
          result: o.verdict ? 'pass' : 'fail',
          required: typeof o.deny === 'boolean' ? o.deny : undefined,
        });
    }
  }
  return out.length ? out : undefined;
}

function usageOf(body: JsonObject | undefined): CanonicalRecord['usage'] {
  const u = obj(body?.usage);
  return {
    input_tokens: count(u?.prompt_tokens) ?? count(u?.input_tokens),
    output_tokens: count(u?.completion_tokens) ?? count(u?.output_tokens),
    cached_input_tokens: cachedInputTokens(u),
    reasoning_tokens: reasoningTokens(u),
  };
}

/**
 * Hashes of the content only, not the whole bodies: the prompt is messages (chat), prompt (text)
 * or input (responses API); the completion is choices (chat/text) or output (responses API).
 */
function contentHashes(request: JsonObject | undefined, response: JsonObject | undefined): CanonicalRecord['content'] {
  return {
    prompt_sha256: contentSha256(request?.messages ?? request?.prompt ?? request?.input),
    response_sha256: contentSha256(response?.choices ?? response?.output ?? response?.content),
  };
}

/** Portkey metadata (x-portkey-metadata header or the log's metadata): `_user` is the end user. */
function metadataOf(...candidates: Array<Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const c of candidates) {
    const o = jsonObjectOf(c);
    if (o) Object.assign(out, o);
  }
  return out;
}

function tenantCandidates(
  m: JsonObject,
  extra: Array<[string, Json | undefined]> = [],
): Array<[string, Json | undefined]> {
  return [
    ...extra,
    ['metadata.workspace_slug', m.workspace_slug],
    ['metadata.workspace', m.workspace],
    ['metadata._workspace', m._workspace],
    ['metadata._organisation', m._organisation ?? m.organisation ?? m.organization],
    ['metadata._user', m._user],
  ];
}

function endUser(m: JsonObject): string | undefined {
  return hashedEndUser(id(m._user) ?? id(m.user));
}

function modelsOf(requested: string | undefined, notes: string[]): string {
  if (requested) return requested;
  notes.push('requested_model unknown: the request body names no model (a Portkey config can supply it)');
  return UNKNOWN_REQUESTED_MODEL;
}

/** Only a W3C trace id (32 hex digits, not all zero) goes in trace_id; Portkey's are often UUIDs. */
function w3cTraceId(v: string | undefined): string | undefined {
  return v && /^[0-9a-f]{32}$/.test(v) && !/^0+$/.test(v) ? v : undefined;
}

function finalStatusOf(outcome: CanonicalRecord['outcome']): Attempt['status'] {
  return outcome.status === 'success' ? 'success' : outcome.status === 'error' ? 'error' : 'unknown';
}

// ---------------------------------------------------------------------------------------------
// capture: request/response with x-portkey-* headers

function fromCapture(raw: RawEvent, doc: JsonObject, where: string, sha: string): AdaptedRecord {
  const notes: string[] = [];
  const req = obj(doc.request) ?? {};
  const res = obj(doc.response) ?? {};
  const resHeaders = res.headers;
  const reqBody = jsonObjectOf(req.body);
  const resBody = jsonObjectOf(res.body);
  const meta = metadataOf(headerIn(req.headers, 'x-portkey-metadata'), doc.metadata);

  const time = parseTime(doc.created_at ?? doc.createdAt ?? meta.createdAt, 'created_at');
  let occurred = time?.iso;
  if (time) notes.push(...time.notes);
  else {
    occurred = parseHttpDate(headerIn(resHeaders, 'date'));
    if (occurred) notes.push('occurred_at from the response Date header (second precision)');
  }
  if (!occurred)
    throw new DecodeError('BAD_TIME', `${where}: no created_at and no response Date header to time the request`);

  const { config, configId } = parseConfig(doc.config ?? headerIn(req.headers, 'x-portkey-config'), notes);
  const optionIndex = headerIn(resHeaders, 'x-portkey-last-used-option-index');
  const path = parseOptionIndex(optionIndex);
  if (optionIndex !== undefined && path === undefined)
    notes.push('x-portkey-last-used-option-index not understood; fallback unknown');
  const routing = routingOf(config, path, notes);
  const status = int(res.status);
  const outcome = outcomeOf(status, resBody, notes);
  const traceId =
    headerIn(resHeaders, 'x-portkey-trace-id') ?? str(meta.traceId) ?? headerIn(req.headers, 'x-portkey-trace-id');
  const gw = gatewayId(raw, undefined, 'portkey', notes);
  const requested = modelsOf(id(reqBody?.model), notes);
  let resolved = targetModel(routing.served);
  if (!resolved && config && routing.served && requested !== UNKNOWN_REQUESTED_MODEL) {
    resolved = requested;
    notes.push(
      'resolved_model: the served target has no override_params.model, so the gateway passed the requested model through',
    );
  }
  const nativeId = traceId ?? `sha256:${sha}`;
  if (!traceId) notes.push('no x-portkey-trace-id; event identity derived from the payload hash');

  const record: CanonicalRecord = {
    schema_version: '1',
    event_id: deriveEventId(gw, nativeId, `option:${optionIndex ?? 'unknown'}|status:${status ?? 'unknown'}`),
    occurred_at: occurred,
    gateway: { id: gw, kind: 'portkey' },
    tenant_id: resolveTenant(raw, tenantCandidates(meta), where, notes, gw),
    request_id: id(traceId) ?? id(header(raw, ROUTING_HEADERS.requestId)) ?? nativeId,
    trace_id: w3cTraceId(traceId),
    end_user_hash: endUser(meta),
    requested_model: requested,
    resolved_model: assertedValue(resolved, 'gateway'),
    reported_model: assertedValue(id(resBody?.model), 'provider'),
    provider: normalizeProvider(headerIn(resHeaders, 'x-portkey-provider') ?? targetProvider(routing.served), notes),
    model_version: { system_fingerprint: id(resBody?.system_fingerprint) },
    endpoint: endpointOfUrl(req.url),
    routing: {
      strategy: routing.strategy,
      rule_id: configId,
      config_hash: configHash(config),
      router: 'portkey',
    },
    attempts: attemptsFromConfig(routing, finalStatusOf(outcome), notes),
    fallback_used: routing.fallback,
    retries: retriesOf(headerIn(resHeaders, 'x-portkey-retry-attempt-count'), config, routing, notes),
    cache: cacheOf(headerIn(resHeaders, 'x-portkey-cache-status'), undefined, notes),
    usage: usageOf(resBody),
    latency: { total_ms: toMs(res.time ?? res.response_time) },
    policy_checks: hookChecks(resBody),
    outcome,
    content: contentHashes(reqBody, resBody),
    source: recordSource(portkeyAdapter, sha),
  };
  if (res.streamingMode === true) notes.push('streamed response: Portkey reports no time to first token');
  return finalize(record, notes, where);
}

// ---------------------------------------------------------------------------------------------
// export: one JSONL row of the logs export

function fromExport(raw: RawEvent, row: JsonObject, where: string, sha: string): AdaptedRecord {
  const notes: string[] = [];
  const occurred = requiredTime(row.created_at, 'created_at', where, notes);
  const reqBody = jsonObjectOf(row['request.body'] ?? obj(row.request)?.body);
  const resBody = jsonObjectOf(row['response.body'] ?? obj(row.response)?.body);
  const meta = metadataOf(row.metadata);
  const gw = gatewayId(raw, undefined, 'portkey', notes);
  const logId = id(row.id) ?? id(row.log_id);
  const traceId = id(row.trace_id);
  const nativeId = logId ?? traceId ?? `sha256:${sha}`;
  const status = int(row.response_status_code);
  const outcome = outcomeOf(status, resBody, notes);
  if (status === undefined && (row.is_success === 0 || row.is_success === false)) outcome.status = 'error';

  // "cost: Cost of the request in cents (USD)" (Portkey logs export docs): dollars = cents / 100,
  // done on the decimal digits so 0.0825 cents is exactly 0.000825 USD.
  const currency = str(row.cost_currency)?.toUpperCase() ?? 'USD';
  const cost = costAmountNoted(row.cost, 'cost (cents)', notes, -2);
  if (cost !== undefined) notes.push(`cost converted from cents: ${cost} ${currency}`);

  const mode = str(row.mode)?.toLowerCase();
  const { config, configId } = parseConfig(row.config, notes);
  const streamed = row.stream_mode === true || str(row.stream_mode)?.toUpperCase() === 'TRUE';
  const retrySuccess = count(row.retry_success_count);

  const record: CanonicalRecord = {
    schema_version: '1',
    event_id: deriveEventId(gw, nativeId, `status:${status ?? 'unknown'}`),
    occurred_at: occurred,
    gateway: { id: gw, kind: 'portkey' },
    tenant_id: resolveTenant(raw, tenantCandidates(meta, [['workspace_slug', row.workspace_slug]]), where, notes, gw),
    request_id: traceId ?? logId ?? nativeId,
    trace_id: w3cTraceId(traceId),
    end_user_hash: endUser(meta),
    requested_model: modelsOf(id(reqBody?.model), notes),
    resolved_model: assertedValue(id(row.ai_model), 'gateway'),
    reported_model: assertedValue(id(resBody?.model), 'provider'),
    provider: normalizeProvider(str(row.ai_org), notes),
    endpoint: endpointOfUrl(row.request_url),
    routing: {
      strategy: mode ? STRATEGY[mode] : undefined,
      rule_id: configId,
      config_hash: configHash(config),
      router: 'portkey',
    },
    attempts: { completeness: 'none' },
    fallback_used: exportFallback(mode, notes),
    retries: retrySuccess,
    cache: cacheOf(str(row.cache_status), undefined, notes),
    usage: { input_tokens: count(row.req_units), output_tokens: count(row.res_units), ...cachedOnly(resBody) },
    latency: { total_ms: toMs(row.response_time) },
    cost: gatewayCost(cost, currency),
    outcome,
    content: contentHashes(reqBody, resBody),
    source: recordSource(portkeyAdapter, sha),
  };
  if (retrySuccess !== undefined) notes.push('retries from retry_success_count');
  if (streamed) notes.push('streamed response (stream_mode TRUE): Portkey reports no time to first token');
  return finalize(record, notes, where);
}

function cachedOnly(body: JsonObject | undefined): { cached_input_tokens?: number } {
  return { cached_input_tokens: cachedInputTokens(obj(body?.usage)) };
}

/** The export says which strategy ran (`mode`), not which target served: a fallback mode alone is not a fallback. */
function exportFallback(mode: string | undefined, notes: string[]): TriState {
  if (mode === 'single') return false;
  notes.push(
    `fallback_used unknown: the export row gives the mode${mode ? ` (${mode})` : ''} but not which target served`,
  );
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// stream: one entry of the gateway's log stream, one requestOptions item per target tried

function fromStream(raw: RawEvent, entry: JsonObject, where: string, sha: string): AdaptedRecord {
  const notes: string[] = [];
  const tried = (entry.requestOptions as Json[]).filter(isObject);
  const first = tried[0];
  const last = tried[tried.length - 1];
  const occurred = requiredTime(
    first.createdAt,
    'requestOptions[0].createdAt',
    where,
    notes,
    'is not a timestamp (the entry\'s "time" is local and not used)',
  );
  const status = int(entry.status);
  // The gateway overwrites requestOptions[0].response with the final response body; for a stream
  // it writes a message instead, and the served target's originalResponse may still hold the
  // model and usage the stream reported.
  const finalBody = obj(first.response);
  const servedBody = obj(obj(last.originalResponse)?.body);
  const answerBody = finalBody?.model !== undefined || finalBody?.usage !== undefined ? finalBody : servedBody;
  const outcome = outcomeOf(status, finalBody, notes);
  if (outcome.status !== 'success' && !outcome.error_class)
    outcome.error_class = safeText(obj(servedBody?.error)?.type) ?? safeText(obj(servedBody?.error)?.code);
  const requestBody = obj(obj(first.finalUntransformedRequest)?.body) ?? obj(first.requestParams);
  const lastParams = obj(last.requestParams);
  const gw = gatewayId(raw, undefined, 'portkey', notes);
  const clientTraceId = streamTraceId(tried);
  if (clientTraceId) notes.push("request_id: the client's x-portkey-trace-id");
  const nativeId =
    id(header(raw, ROUTING_HEADERS.requestId)) ?? clientTraceId ?? id(first.hookSpanId) ?? `sha256:${sha}`;

  const items: Attempt[] = tried.map((o, j) => {
    const po = obj(o.providerOptions);
    const failed = j < tried.length - 1;
    const body = obj(obj(o.originalResponse)?.body);
    const err = obj(body?.error);
    return {
      index: j,
      provider: normalizeProvider(str(po?.provider), []),
      model: id(obj(o.requestParams)?.model),
      host: endpointOfUrl(po?.requestURL)?.host,
      status: failed ? (err ? 'error' : 'unknown') : finalStatusOf(outcome),
      // The last target's error is the request's: a request whose every target failed ends with it.
      error_class: failed ? (safeText(err?.type) ?? safeText(err?.code)) : outcome.error_class,
      http_status: failed ? attemptStatus(o, body) : (attemptStatus(o, body) ?? outcome.http_status),
      latency_ms: toMs(o.executionTime),
      started_at: parseTime(o.createdAt, 'createdAt')?.iso,
    };
  });
  const lastRetry = obj(obj(last.providerOptions)?.retry);
  const fallback: TriState = tried.length > 1;
  // A load-balanced target carries its weight (the gateway sets one on every target of a
  // loadbalance level, and its newer versions log the key with the value masked).
  const weighted = tried.some((o) => obj(o.providerOptions) && 'weight' in obj(o.providerOptions)!);
  const strategy: RoutingStrategy | undefined = fallback ? 'fallback' : weighted ? 'loadbalance' : undefined;
  const record: CanonicalRecord = {
    schema_version: '1',
    event_id: deriveEventId(
      gw,
      nativeId,
      `option:${str(last.lastUsedOptionIndex) ?? tried.length - 1}|status:${status ?? 'unknown'}`,
    ),
    occurred_at: occurred,
    gateway: { id: gw, kind: 'portkey' },
    tenant_id: resolveTenant(raw, [], where, notes, gw),
    request_id: nativeId,
    trace_id: w3cTraceId(clientTraceId),
    end_user_hash: hashedEndUser(id(requestBody?.user)),
    requested_model: modelsOf(id(requestBody?.model), notes),
    resolved_model: assertedValue(id(lastParams?.model), 'gateway'),
    reported_model: assertedValue(id(answerBody?.model), 'provider'),
    provider: normalizeProvider(str(obj(last.providerOptions)?.provider), notes),
    endpoint: endpointOfUrl(obj(last.providerOptions)?.requestURL),
    routing: { strategy, router: 'portkey' },
    attempts: { completeness: 'targets_only', items },
    fallback_used: fallback,
    cache: cacheOf(str(last.cacheStatus), last.cacheKey, notes),
    usage: usageOf(answerBody),
    latency: { total_ms: toMs(entry.duration) },
    policy_checks: hookChecks(finalBody),
    outcome,
    content: contentHashes(requestBody, finalBody),
    source: recordSource(portkeyAdapter, sha),
  };
  if (tried.length > 1)
    notes.push(`${tried.length} targets tried in one request (one requestOptions entry each): a fallback`);
  if (lastRetry && count(lastRetry.attempts)) notes.push('retries within a target are not itemised in the log stream');
  if (obj(first.requestParams)?.stream === true)
    notes.push(
      answerBody === servedBody && servedBody
        ? "streamed response: model and usage from the served target's response; no time to first token"
        : 'streamed response: the log stream keeps no response body or time to first token',
    );
  if (fallback && outcome.status !== 'success')
    notes.push('every target tried failed: the client got the last error, no target answered');
  return finalize(record, notes, where);
}

/** Header maps a log-stream entry may carry per target (request, response, transformed request). */
const STREAM_HEADER_MAPS = ['requestHeaders', 'responseHeaders'] as const;

/**
 * The client's x-portkey-trace-id, when the entry carries the request's or the response's
 * headers unmasked (gateway versions that log headers mask their values: then there is none).
 */
function streamTraceId(tried: JsonObject[]): string | undefined {
  for (const o of tried) {
    for (const m of [...STREAM_HEADER_MAPS.map((k) => o[k]), obj(o.finalUntransformedRequest)?.headers]) {
      const v = id(headerIn(m, 'x-portkey-trace-id'));
      if (v && !v.includes('REDACTED')) return v;
    }
  }
  return undefined;
}

/** An attempt's HTTP status when the entry gives one: the option's own, or the status in its error body. */
function attemptStatus(o: JsonObject, body: JsonObject | undefined): number | undefined {
  const err = obj(body?.error);
  for (const v of [o.responseStatus, o.status, body?.status, err?.status, err?.code]) {
    const n = int(v);
    if (n !== undefined && n >= 100 && n <= 599) return httpStatus(n);
  }
  return undefined;
}
