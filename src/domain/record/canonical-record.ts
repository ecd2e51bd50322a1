/**
 * The canonical routing record, schema v1 (docs/record.md; JSON Schema in docs/record.schema.json).
 *
 * One record per routing decision, whatever gateway sent it. It is what gets canonicalized
 * (RFC 8785), hashed into the Merkle log, exported and verified.
 *
 * Value rules that keep canonical bytes simple and portable:
 *  - strings, booleans, safe integers, arrays and objects only; no floats anywhere
 *    (cost is a decimal string, router scores are decimal strings);
 *  - optional fields are absent, never null;
 *  - times are RFC 3339 UTC with milliseconds: 2026-11-25T16:45:59.123Z.
 */

export const SCHEMA_VERSION = '1';

export type TriState = true | false | 'unknown';
export type Asserter = 'client' | 'gateway' | 'provider' | 'ledger';
export type AttemptsCompleteness = 'full' | 'targets_only' | 'count_only' | 'none';
export type CacheStatus = 'hit' | 'semantic_hit' | 'miss' | 'bypass' | 'refresh' | 'unknown';
export type OutcomeStatus = 'success' | 'error' | 'blocked' | 'cancelled';
export type PolicyResult = 'pass' | 'fail' | 'skipped' | 'error';
export type RoutingStrategy = 'static' | 'conditional' | 'fallback' | 'loadbalance' | 'cascade' | 'learned';
export type SourceFormat = 'native' | 'litellm' | 'portkey' | 'openrouter' | 'otel';

export interface AssertedValue {
  value: string;
  asserted_by: Asserter;
}

export interface Attempt {
  index: number;
  provider?: string;
  model?: string;
  region?: string;
  /** Host the attempt was sent to (credentials and query removed), when the gateway logs it. */
  host?: string;
  status?: 'success' | 'error' | 'skipped' | 'timeout' | 'unknown';
  error_class?: string;
  http_status?: number;
  latency_ms?: number;
  started_at?: string;
}

export interface PolicyCheck {
  name: string;
  result: PolicyResult;
  required?: boolean;
  detail?: string;
}

export interface CanonicalRecord {
  schema_version: typeof SCHEMA_VERSION;
  event_id: string;
  occurred_at: string;
  received_at?: string;
  gateway: { id: string; kind?: string; version?: string };
  tenant_id: string;
  request_id: string;
  trace_id?: string;
  session_id?: string;
  end_user_hash?: string;
  requested_model: string;
  resolved_model?: AssertedValue;
  reported_model?: AssertedValue;
  provider?: string;
  model_version?: { version?: string; deployment_id?: string; system_fingerprint?: string };
  endpoint?: { host?: string; path?: string };
  region?: { served?: string; required?: string[] };
  routing?: {
    strategy?: RoutingStrategy;
    reason?: string;
    rule_id?: string;
    policy_version?: string;
    config_hash?: string;
    router?: string;
    score?: string;
    threshold?: string;
    /** The tenant policy's objective, e.g. "quality" or "cost"; powers cost-bias findings. */
    objective?: string;
  };
  task?: { category?: string; tags?: string[] };
  attempts?: { completeness: AttemptsCompleteness; count?: number; items?: Attempt[] };
  fallback_used?: TriState;
  retries?: number;
  cache?: { status: CacheStatus; key_hash?: string };
  usage?: { input_tokens?: number; output_tokens?: number; cached_input_tokens?: number; reasoning_tokens?: number };
  latency?: { total_ms?: number; ttft_ms?: number; gateway_overhead_ms?: number };
  cost?: { amount: string; currency: string; source?: 'gateway' | 'computed' };
  policy_checks?: PolicyCheck[];
  outcome: { status: OutcomeStatus; http_status?: number; error_class?: string; finish_reason?: string };
  disclosure?: { model_substituted_notice?: TriState };
  content?: { prompt_sha256?: string; response_sha256?: string };
  source: {
    format: SourceFormat;
    adapter_version?: string;
    raw_sha256: string;
    topic?: string;
    partition?: number;
    offset?: string;
  };
  attestation?: { kid?: string; verified: boolean };
  /** Adapter notes on what it normalized or could not know (kept so a reader sees why). */
  normalization_notes?: string[];
}

/**
 * Source fields the ledger fills at ingest; they are excluded from the content hash so that
 * an identical event re-delivered at another offset, or re-sent by a gateway inside another
 * batch (LiteLLM arrays, OTLP exports: raw_sha256 covers the whole payload), is recognised
 * as the same event. Conflicts are judged on the normalized content.
 */
export const LEDGER_ASSIGNED_SOURCE_FIELDS = ['topic', 'partition', 'offset', 'raw_sha256'] as const;
