import type { Attempt, CanonicalRecord, OutcomeStatus, TriState } from '../../domain/record/canonical-record.js';
import { costAmountNoted, gatewayCost } from '../../domain/normalize/cost.js';
import { count, id, int, isObject, obj, str, type JsonObject } from '../../domain/normalize/json-value.js';
import { normalizeProvider } from '../../domain/normalize/provider.js';
import { assertedValue, hashedEndUser, httpStatus, safeText } from '../../domain/normalize/record-fields.js';
import { toMs } from '../../domain/normalize/time.js';
import {
  DecodeError,
  ROUTING_HEADERS,
  UNKNOWN_REQUESTED_MODEL,
  type AdaptedRecord,
  type Adapter,
  type RawEvent,
} from './adapter.js';
import { finalize } from './finalize.js';
import { header } from './headers.js';
import { gatewayId, resolveTenant } from './identity.js';
import { documentAdapter, documentObject, recordSource } from './payload.js';
import { requiredTime } from './required-time.js';

/**
 * OpenRouter generation object (GET /api/v1/generation?id=gen-..., `{ "data": {...} }`, or the
 * bare object; one per payload, a JSON array or NDJSON) → canonical record.
 *
 * `provider_responses[]` is the only full attempt list OpenRouter exposes: one item per provider
 * tried, in order, with its HTTP status and latency. `model_permaslug` is the dated model version
 * that served; `data_region` is where it was routed (global, europe, us).
 *
 * The generation object does not say which model the client asked for (`model` is the model
 * used). requested_model comes from the x-routing-requested-model header, a capture envelope
 * `{ "request": { "model": ... }, "data": {...} }`, or `router` when the client asked for a router
 * such as openrouter/auto; otherwise it is "unknown". OpenRouter's generation id is stable and
 * unique, so it is the event id.
 */
export const openrouterAdapter: Adapter = documentAdapter('openrouter', 'openrouter/1', adaptOne);

/** Whether a JSON object is an OpenRouter generation (or its `{data}` wrapper). */
export function isOpenRouterGeneration(doc: JsonObject): boolean {
  const g = obj(doc.data) ?? doc;
  return (
    Array.isArray(g.provider_responses) ||
    (typeof g.id === 'string' &&
      g.id.startsWith('gen-') &&
      ('total_cost' in g || 'provider_name' in g || 'native_tokens_prompt' in g))
  );
}

function adaptOne(raw: RawEvent, json: unknown, where: string, sha: string): AdaptedRecord {
  const doc = documentObject(json, where, 'each OpenRouter event');
  const g = obj(doc.data) ?? doc;
  if (!isOpenRouterGeneration(doc))
    throw new DecodeError(
      'NOT_OPENROUTER',
      `${where}: not an OpenRouter generation object (no gen- id or provider_responses)`,
    );
  const notes: string[] = [];
  const genId = id(g.id);
  if (!genId) throw new DecodeError('NO_EVENT_ID', `${where}: the generation has no id`);
  const occurred = requiredTime(g.created_at, 'created_at', where, notes);

  const responses = Array.isArray(g.provider_responses) ? g.provider_responses.filter(isObject) : undefined;
  const attempts = responses?.map((r, index): Attempt => {
    const status = int(r.status);
    return {
      index,
      provider: normalizeProvider(str(r.provider_name), []),
      model: id(r.model_permaslug),
      status: status === undefined ? 'unknown' : status >= 200 && status < 300 ? 'success' : 'error',
      http_status: httpStatus(status),
      latency_ms: toMs(r.latency),
    };
  });
  const served = responses?.at(-1);
  const { fallback, retries } = fallbackOf(attempts, notes);
  const cost = costAmountNoted(g.total_cost, 'total_cost', notes);
  const gw = gatewayId(raw, undefined, 'openrouter', notes);

  const record: CanonicalRecord = {
    schema_version: '1',
    event_id: genId,
    occurred_at: occurred,
    gateway: { id: gw, kind: 'openrouter' },
    tenant_id: resolveTenant(raw, [['tenant_id', doc.tenant_id]], where, notes, gw),
    request_id: id(g.request_id) ?? genId,
    session_id: id(g.session_id),
    end_user_hash: hashedEndUser(id(g.external_user)),
    requested_model: requestedModel(raw, doc, g, notes),
    resolved_model: assertedValue(id(g.model), 'gateway'),
    provider: normalizeProvider(str(g.provider_name) ?? str(served?.provider_name), notes),
    model_version: {
      version: id(served?.model_permaslug) ?? id(g.model_permaslug),
      deployment_id: id(served?.endpoint_id),
    },
    region: str(g.data_region) ? { served: str(g.data_region) } : undefined,
    routing: id(g.router) ? { router: id(g.router) } : undefined,
    attempts: attempts ? { completeness: 'full', count: attempts.length, items: attempts } : { completeness: 'none' },
    fallback_used: fallback,
    retries,
    usage: {
      input_tokens: count(g.native_tokens_prompt) ?? count(g.tokens_prompt),
      output_tokens: count(g.native_tokens_completion) ?? count(g.tokens_completion),
      cached_input_tokens: count(g.native_tokens_cached),
      reasoning_tokens: count(g.native_tokens_reasoning),
    },
    // "latency: Total latency in milliseconds" (OpenRouter API reference, GetGenerationData).
    latency: { total_ms: toMs(g.latency) },
    cost: gatewayCost(cost),
    outcome: outcomeOf(g, served),
    source: recordSource(openrouterAdapter, sha),
  };
  if (count(g.native_tokens_prompt) !== undefined)
    notes.push("usage from native_tokens_* (the provider's own counts), not OpenRouter's normalized tokens_*");
  if (g.streamed === true) notes.push('streamed generation: OpenRouter reports no time to first token');
  if (g.is_byok === true)
    notes.push("bring-your-own-key generation: total_cost is OpenRouter's fee, not the provider bill");
  return finalize(record, notes, where);
}

function requestedModel(raw: RawEvent, doc: JsonObject, g: JsonObject, notes: string[]): string {
  const fromHeader = id(header(raw, ROUTING_HEADERS.requestedModel));
  if (fromHeader) return fromHeader;
  const fromEnvelope = id(obj(doc.request)?.model);
  if (fromEnvelope) return fromEnvelope;
  const router = id(g.router);
  if (router) {
    notes.push(`requested_model from router: the client asked for the ${router} router`);
    return router;
  }
  notes.push(
    'requested_model unknown: the generation object reports the model used, not the one requested (send x-routing-requested-model)',
  );
  return UNKNOWN_REQUESTED_MODEL;
}

/**
 * A fallback is served when an earlier attempt went to another provider or model than the one
 * that served; an attempt repeating the previous provider and model is a retry.
 */
function fallbackOf(attempts: Attempt[] | undefined, notes: string[]): { fallback: TriState; retries?: number } {
  if (!attempts) {
    notes.push('fallback_used unknown: no provider_responses (older generation object)');
    return { fallback: 'unknown' };
  }
  if (attempts.length === 0) return { fallback: 'unknown' };
  const last = attempts[attempts.length - 1];
  const key = (a: Attempt) => `${a.provider ?? '?'}|${a.model ?? '?'}`;
  let retries = 0;
  for (let i = 1; i < attempts.length; i++) if (key(attempts[i]) === key(attempts[i - 1])) retries++;
  return { fallback: attempts.slice(0, -1).some((a) => key(a) !== key(last)), retries };
}

function outcomeOf(g: JsonObject, served: JsonObject | undefined): CanonicalRecord['outcome'] {
  const status = int(served?.status);
  const finish = safeText(g.finish_reason, 64);
  let s: OutcomeStatus = 'success';
  if (g.cancelled === true) s = 'cancelled';
  else if ((status !== undefined && status >= 400) || finish === 'error') s = 'error';
  return {
    status: s,
    http_status: httpStatus(status),
    error_class: s === 'error' ? safeText(g.native_finish_reason, 64) : undefined,
    finish_reason: finish,
  };
}
