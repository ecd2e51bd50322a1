import type {
  CacheStatus,
  CanonicalRecord,
  OutcomeStatus,
  PolicyCheck,
  TriState,
} from '../../domain/record/canonical-record.js';
import { contentSha256, sha256Hex } from '../../domain/privacy/redact.js';
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
import { msBetween, parseTime, toMs } from '../../domain/normalize/time.js';
import {
  DecodeError,
  UNKNOWN_REQUESTED_MODEL,
  deriveEventId,
  type AdaptedRecord,
  type Adapter,
  type RawEvent,
} from './adapter.js';
import { finalize } from './finalize.js';
import { headerIn } from './headers.js';
import { gatewayId, resolveTenant } from './identity.js';
import { documentAdapter, documentObject, recordSource } from './payload.js';
import { requiredTime } from './required-time.js';

/**
 * LiteLLM proxy → canonical record. Reads the two shapes LiteLLM emits:
 *  - StandardLoggingPayload (litellm/types/utils.py), as the `generic_api` logger posts it:
 *    a JSON array (`log_format: json_array`, the default), NDJSON (`ndjson`) or one object
 *    (`single`); also accepted wrapped as `{ "standard_logging_object": {...} }` (callback kwargs);
 *  - LiteLLM_SpendLogs rows (litellm/proxy/_types.py SpendLogsPayload), where `metadata` and
 *    `request_tags` are JSON strings and `cache_hit` is the string "True", "False" or "None".
 *
 * Quirks handled (docs/record.md): `model_group` is the group that *served* after a fallback; the alias
 * the client asked for is `metadata.original_model_group` (newer LiteLLM) or
 * `router_metadata.requested_model`. `attempted_fallbacks` may read 0 when a cooled-down primary
 * was skipped, so a served group different from the requested alias counts as a fallback whatever
 * the counter says. `startTime` is epoch seconds (float) or a naive string (UTC).
 */
export const litellmAdapter: Adapter = documentAdapter('litellm', 'litellm/1', adaptOne);

/** LiteLLM writes this in place of messages/response when `turn_off_message_logging` is on. */
const LITELLM_REDACTED = 'redacted-by-litellm';

interface View {
  kind: 'standard_logging_payload' | 'spend_logs_row';
  ev: JsonObject;
  metadata: JsonObject;
  hidden: JsonObject;
  cost: Json | undefined;
  tags: Json | undefined;
}

function viewOf(json: unknown, where: string, notes: string[]): View {
  const doc = documentObject(json, where, 'each LiteLLM event');
  const ev = isObject(doc.standard_logging_object) ? doc.standard_logging_object : doc;
  const isSpendRow = 'spend' in ev && 'request_id' in ev && !('hidden_params' in ev);
  if (!isSpendRow && !('model_group' in ev || 'hidden_params' in ev || 'response_cost' in ev)) {
    throw new DecodeError(
      'NOT_LITELLM',
      `${where}: neither a StandardLoggingPayload nor a LiteLLM_SpendLogs row (no model_group, hidden_params or spend)`,
    );
  }
  if (isSpendRow) {
    return {
      kind: 'spend_logs_row',
      ev,
      metadata: jsonField(ev.metadata, 'metadata', notes) ?? {},
      hidden: {},
      cost: ev.spend,
      tags: typeof ev.request_tags === 'string' ? (parseJsonText(ev.request_tags) ?? undefined) : ev.request_tags,
    };
  }
  return {
    kind: 'standard_logging_payload',
    ev,
    metadata: obj(ev.metadata) ?? {},
    hidden: obj(ev.hidden_params) ?? {},
    cost: ev.response_cost ?? obj(ev.hidden_params)?.response_cost,
    tags: ev.request_tags,
  };
}

function adaptOne(raw: RawEvent, doc: unknown, where: string, sha: string): AdaptedRecord {
  const notes: string[] = [];
  const v = viewOf(doc, where, notes);
  const { ev, metadata, hidden } = v;

  const start = requiredTime(ev.startTime, 'startTime', where, notes, 'is neither epoch seconds nor a timestamp');
  const end = parseTime(ev.endTime, 'endTime');
  const firstToken = parseTime(ev.completionStartTime, 'completionStartTime');

  const gw = gatewayId(raw, undefined, 'litellm', notes);
  const tenant = resolveTenant(
    raw,
    [
      ['metadata.user_api_key_team_id', metadata.user_api_key_team_id],
      ['metadata.team_id', metadata.team_id],
      ['team_id', ev.team_id],
      ['metadata.user_api_key_team_alias', metadata.user_api_key_team_alias],
      ['metadata.team_alias', metadata.team_alias],
      ['metadata.user_api_key_org_id', metadata.user_api_key_org_id],
    ],
    where,
    notes,
    gw,
  );

  const callId = id(ev.id) ?? id(ev.request_id) ?? id(ev.litellm_call_id);
  const nativeId = callId ?? `sha256:${contentSha256(doc) ?? sha}`;
  if (!callId) notes.push('no LiteLLM call id; event identity derived from the event content');
  const status = str(ev.status);

  const models = modelClaims(v, notes);
  const counts = fallbackCounts(v);
  const fallback = fallbackUsed(models, counts, notes);
  const cost = costAmountNoted(v.cost, v.kind === 'spend_logs_row' ? 'spend' : 'response_cost', notes);

  const response = jsonObjectOf(ev.response);
  const record: CanonicalRecord = {
    schema_version: '1',
    event_id: deriveEventId(gw, nativeId, `status:${status ?? 'unknown'}`),
    occurred_at: start,
    gateway: { id: gw, kind: 'litellm' },
    tenant_id: tenant,
    // LiteLLM's trace_id groups the calls of one client request (the failed primary, its
    // retries and the fallback that served), so it is the request; the call id is the event.
    request_id: id(ev.trace_id) ?? nativeId,
    session_id: id(ev.session_id) ?? id(metadata.session_id),
    end_user_hash: hashedEndUser(id(ev.end_user) ?? id(metadata.user_api_key_end_user_id)),
    requested_model: models.requested,
    resolved_model: assertedValue(models.resolved, 'gateway'),
    reported_model: assertedValue(id(response?.model), 'provider'),
    provider: normalizeProvider(str(ev.custom_llm_provider) ?? str(obj(ev.error_information)?.llm_provider), notes),
    model_version: {
      version: id(hidden.litellm_model_name),
      deployment_id: id(ev.model_id) ?? id(hidden.model_id),
      system_fingerprint: id(response?.system_fingerprint),
    },
    endpoint: endpointOfUrl(ev.api_base ?? hidden.api_base),
    task: tagsOf(v.tags),
    attempts: attemptsOf(counts, notes),
    fallback_used: fallback,
    retries: counts.retries,
    cache: cacheOf(ev.cache_hit, ev.cache_key ?? hidden.cache_key, notes),
    usage: usageOf(v, response),
    latency: {
      total_ms: msBetween(start, end?.iso),
      ttft_ms: ev.stream === true ? msBetween(start, firstToken?.iso) : undefined,
      gateway_overhead_ms: toMs(hidden.litellm_overhead_time_ms),
    },
    cost: gatewayCost(cost),
    policy_checks: guardrailChecks(ev.guardrail_information ?? metadata.guardrail_information),
    outcome: outcomeOf(v, status, response, notes),
    content: contentOf(ev.messages, ev.response, notes),
    source: recordSource(litellmAdapter, sha),
  };
  if (v.kind === 'spend_logs_row') notes.push('read as a LiteLLM_SpendLogs row');
  return finalize(record, notes, where);
}

interface ModelClaims {
  requested: string;
  /** Whether `requested` is the alias the gateway logged (false when it is the unknown sentinel). */
  requestedKnown: boolean;
  resolved?: string;
}

function modelClaims(v: View, notes: string[]): ModelClaims {
  const { ev, metadata } = v;
  const router = obj(ev.router_metadata) ?? obj(metadata.router_metadata);
  const alias = id(metadata.original_model_group) ?? id(router?.requested_model);
  const served = id(ev.model_group) ?? id(metadata.model_group);
  if (alias) return { requested: alias, requestedKnown: true, resolved: served };
  notes.push(
    'requested_model unknown: this LiteLLM event has no metadata.original_model_group or router_metadata.requested_model, and model_group is the group that served (after any fallback), so it is not used as the request',
  );
  return { requested: UNKNOWN_REQUESTED_MODEL, requestedKnown: false, resolved: served };
}

interface Counts {
  fallbacks?: number;
  retries?: number;
}

/**
 * attempted_fallbacks / attempted_retries: spend-log metadata (LiteLLM persists them there) or the
 * response headers LiteLLM copies into hidden_params.additional_headers — newer versions keep the
 * header names ("x-litellm-attempted-fallbacks"), older ones underscore them.
 */
function fallbackCounts(v: View): Counts {
  const headers = v.hidden.additional_headers ?? v.metadata.additional_headers;
  const pick = (field: string, headerName: string): number | undefined =>
    count(v.metadata[field]) ??
    count(v.ev[field]) ??
    count(headerIn(headers, headerName)) ??
    count(headerIn(headers, headerName.replace(/-/g, '_')));
  return {
    fallbacks: pick('attempted_fallbacks', 'x-litellm-attempted-fallbacks'),
    retries: pick('attempted_retries', 'x-litellm-attempted-retries'),
  };
}

function fallbackUsed(m: ModelClaims, c: Counts, notes: string[]): TriState {
  const groupsDiffer = m.requestedKnown && m.resolved !== undefined && m.resolved !== m.requested;
  if (groupsDiffer) {
    if (c.fallbacks === 0) {
      notes.push(
        'attempted_fallbacks reads 0 but model_group differs from the requested alias (LiteLLM skips a cooled-down primary without counting it); fallback_used from the groups',
      );
    }
    return true;
  }
  if (c.fallbacks !== undefined) return c.fallbacks > 0;
  notes.push('fallback_used unknown: LiteLLM reported no attempted_fallbacks count');
  return 'unknown';
}

function attemptsOf(c: Counts, notes: string[]): CanonicalRecord['attempts'] {
  if (c.fallbacks === undefined || c.retries === undefined) return { completeness: 'none' };
  notes.push(
    'attempts.count = 1 + attempted_fallbacks + attempted_retries as LiteLLM reports them; LiteLLM does not list the targets',
  );
  return { completeness: 'count_only', count: 1 + c.fallbacks + c.retries };
}

/** cache_hit: a bool in StandardLoggingPayload; "True" / "False" / "None" strings in spend logs. */
function cacheOf(hit: Json | undefined, key: Json | undefined, notes: string[]): CanonicalRecord['cache'] {
  let status: CacheStatus | undefined;
  if (hit === true || hit === 'True' || hit === 'true') status = 'hit';
  else if (hit === false || hit === 'False' || hit === 'false') status = 'miss';
  else if (hit === null || hit === 'None' || hit === '') status = 'unknown';
  else if (hit !== undefined) notes.push('cache_hit has an unrecognised value; cache status left out');
  if (!status) return undefined;
  const k = str(key);
  return { status, key_hash: k ? sha256Hex(k) : undefined };
}

function usageOf(v: View, response: JsonObject | undefined): CanonicalRecord['usage'] {
  const u = obj(v.hidden.usage_object) ?? obj(v.metadata.usage_object) ?? obj(response?.usage);
  return {
    input_tokens: count(v.ev.prompt_tokens),
    output_tokens: count(v.ev.completion_tokens),
    cached_input_tokens: cachedInputTokens(u) ?? count(u?.cache_read_input_tokens),
    reasoning_tokens: reasoningTokens(u),
  };
}

function outcomeOf(
  v: View,
  status: string | undefined,
  response: JsonObject | undefined,
  notes: string[],
): CanonicalRecord['outcome'] {
  const err = obj(v.ev.error_information) ?? obj(v.metadata.error_information);
  const guardrail = str(obj(v.ev.status_fields)?.guardrail_status);
  const code = int(err?.error_code);
  let s: OutcomeStatus;
  if (status === 'failure') s = guardrail === 'guardrail_intervened' ? 'blocked' : 'error';
  else if (status === 'success') s = 'success';
  else {
    s = 'success';
    notes.push(
      'no status field: LiteLLM only wrote successful calls to spend logs before it logged status, so outcome is success',
    );
  }
  const choice = Array.isArray(response?.choices) ? obj(response?.choices[0]) : undefined;
  return {
    status: s,
    http_status: httpStatus(code),
    error_class: s === 'success' ? undefined : safeText(err?.error_class),
    finish_reason: safeText(choice?.finish_reason, 64),
  };
}

function guardrailChecks(info: Json | undefined): PolicyCheck[] | undefined {
  const list = Array.isArray(info) ? info : isObject(info) ? [info] : [];
  const map: Record<string, PolicyCheck['result']> = {
    success: 'pass',
    guardrail_intervened: 'fail',
    guardrail_failed_to_respond: 'error',
    not_run: 'skipped',
  };
  const out: PolicyCheck[] = [];
  for (const g of list) {
    const o = obj(g);
    const name = safeText(o?.guardrail_name);
    const result = map[str(o?.guardrail_status) ?? ''];
    if (name && result) out.push({ name, result });
  }
  return out.length ? out : undefined;
}

function contentOf(
  messages: Json | undefined,
  response: Json | undefined,
  notes: string[],
): CanonicalRecord['content'] {
  const hash = (value: Json | undefined, field: string): string | undefined => {
    const c = typeof value === 'string' && /^[[{]/.test(value.trim()) ? parseJsonText(value) : value;
    if (
      c === undefined ||
      c === null ||
      c === '' ||
      (Array.isArray(c) && c.length === 0) ||
      (isObject(c) && Object.keys(c).length === 0)
    )
      return undefined;
    if (c === LITELLM_REDACTED || JSON.stringify(c).includes(LITELLM_REDACTED)) {
      notes.push(`${field} redacted by LiteLLM (turn_off_message_logging); no hash`);
      return undefined;
    }
    return contentSha256(c);
  };
  return { prompt_sha256: hash(messages, 'messages'), response_sha256: hash(response, 'response') };
}

function tagsOf(tags: Json | undefined): CanonicalRecord['task'] {
  if (!Array.isArray(tags)) return undefined;
  const clean = tags
    .map((t) => safeText(t))
    .filter((t): t is string => t !== undefined)
    .slice(0, 64);
  return clean.length ? { tags: clean } : undefined;
}

function jsonField(v: Json | undefined, field: string, notes: string[]): JsonObject | undefined {
  if (isObject(v)) return v;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const parsed = obj(parseJsonText(v));
  if (!parsed) notes.push(`${field} is not a JSON object; ignored`);
  return parsed;
}
