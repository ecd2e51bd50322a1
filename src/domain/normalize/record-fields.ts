import type { AssertedValue, Asserter, CanonicalRecord } from '../record/canonical-record.js';
import { endUserHash, redactText, stripUrl } from '../privacy/redact.js';
import { count, obj, str, type JsonObject } from './json-value.js';

/**
 * Record members every adapter fills the same way from a gateway value, so each rule (what is
 * masked, hashed or bounded) is written once. Each returns undefined when there is nothing to record.
 */

/** Safe free text for the record (error classes, tags): secrets masked, bounded. */
export function safeText(v: unknown, max = 256): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const r = redactText(s);
  return r.length <= max ? r : r.slice(0, max);
}

/** A model claim (resolved_model, reported_model) with who asserts it. */
export function assertedValue(value: string | undefined, by: Asserter): AssertedValue | undefined {
  return value ? { value, asserted_by: by } : undefined;
}

/** A status code the record's http_status holds (100–599); anything else is left out. */
export function httpStatus(code: number | undefined): number | undefined {
  return code !== undefined && code >= 100 && code <= 599 ? code : undefined;
}

/** The endpoint of a URL: host and path only, never credentials or the query (stripUrl). */
export function endpointOfUrl(url: unknown): CanonicalRecord['endpoint'] {
  const s = str(url);
  return s ? stripUrl(s) : undefined;
}

/** usage.cached_input_tokens from an OpenAI-style usage object (`prompt_tokens_details.cached_tokens`). */
export function cachedInputTokens(usage: JsonObject | undefined): number | undefined {
  return count(obj(usage?.prompt_tokens_details)?.cached_tokens);
}

/** usage.reasoning_tokens from an OpenAI-style usage object (`completion_tokens_details.reasoning_tokens`). */
export function reasoningTokens(usage: JsonObject | undefined): number | undefined {
  return count(obj(usage?.completion_tokens_details)?.reasoning_tokens);
}

/** end_user_hash: the end user is never stored, only its hash. */
export function hashedEndUser(user: string | undefined): string | undefined {
  // A lower-case SHA-256 is already a hash: the form redactForProduce leaves of an e-mail id.
  return user ? (/^[0-9a-f]{64}$/.test(user) ? user : endUserHash(user)) : undefined;
}
