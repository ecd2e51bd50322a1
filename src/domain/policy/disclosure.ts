/**
 * Disclosures: a short, user-safe statement of what answered a request, which a product may show
 * its users, signed by the ledger (compact JWS, Ed25519, a key of the ledger's JWKS) and bound to
 * the ledger entry by its leaf hash, so it can be checked against the record's receipt.
 *
 * Built from an allow-list: only the members below exist, whatever the record holds. No cost,
 * tokens, prompt or response hashes, user ids, gateway, endpoint, tenant id or routing internals.
 */
import type { CanonicalRecord } from '../record/canonical-record.js';
import { canonicalBytes } from '../canonical/canonical-json.js';
import { signJws } from '../checkpoint/checkpoint-jws.js';
import type { Signer } from '../checkpoint/signing-key.js';
import { regionWithin } from './conformance.js';

export const DISCLOSURE_TYP = 'routing-ledger-disclosure+jws';
export const DISCLOSURE_VERSION = 1;

export type Route = 'primary' | 'fallback' | 'cache' | 'unknown';
export type FallbackReason = 'outage' | 'rate_limit' | 'policy' | 'other';

export interface DisclosureStatement {
  v: typeof DISCLOSURE_VERSION;
  request_id: string;
  answered_at: string;
  /** The model that answered; null for a cached answer or a failed request. */
  model: { name: string; display_name: string } | null;
  provider: { name: string; display_name: string; third_party: boolean | null } | null;
  route: Route;
  fallback_reason: FallbackReason | null;
  cached: boolean;
  /** Broad area of the serving region (EU, US, UK, APAC, ...); null when not reported. */
  region_area: string | null;
  /** True when a check the request required (by the gateway's claim or the tenant's policy) did not run. */
  required_check_skipped: boolean;
  /** One sentence in plain terms. */
  sentence: string;
  /** Binds the statement to the ledger entry: check it against GET /v1/records/{event_id}/receipt. */
  ledger: { event_id: string; shard: number; leaf_index: number; leaf_hash: string };
  issued_at: string;
}

export interface EntryPosition {
  shard: number;
  leaf_index: number;
  leaf_hash: string;
}

const PROVIDERS: Record<string, string> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  azure: 'Microsoft Azure',
  bedrock: 'AWS Bedrock',
  vertex: 'Google Cloud Vertex AI',
  google: 'Google',
  gemini: 'Google',
  groq: 'Groq',
  together: 'Together AI',
  mistral: 'Mistral AI',
  cohere: 'Cohere',
  openrouter: 'OpenRouter',
  deepseek: 'DeepSeek',
  fireworks: 'Fireworks AI',
};

/** Model name prefix → the company that makes it; a provider other than the maker hosts it as a third party. */
const MAKERS: Array<[RegExp, string[]]> = [
  [/^(gpt|o\d|chatgpt|text-embedding|dall-e|whisper)/, ['openai', 'azure']],
  [/^claude/, ['anthropic']],
  [/^gemini/, ['google', 'gemini', 'vertex']],
  [/^(mistral|mixtral|codestral)/, ['mistral']],
  [/^command/, ['cohere']],
  [/^deepseek/, ['deepseek']],
];

const AREAS: Array<[string[], string]> = [
  [['eu', 'europe', 'westeurope', 'northeurope', 'francecentral', 'germanywestcentral'], 'EU'],
  [['uk', 'uksouth', 'ukwest'], 'UK'],
  [['us', 'eastus', 'eastus2', 'westus', 'westus2', 'westus3', 'centralus', 'northamerica'], 'US'],
  [['ca', 'canadacentral'], 'Canada'],
  [['ap', 'asia', 'japaneast', 'australiaeast', 'me', 'in'], 'Asia-Pacific'],
  [['sa', 'southamerica', 'brazilsouth'], 'South America'],
];

/**
 * The statement for `record` at `position`. `policyRequiredChecks`: the checks the tenant's policy
 * in force requires, so a check the gateway stopped reporting still counts as skipped.
 */
export function disclosureStatement(
  record: CanonicalRecord,
  position: EntryPosition,
  issuedAt: string,
  policyRequiredChecks: readonly string[] = [],
): DisclosureStatement {
  const cached = record.cache?.status === 'hit' || record.cache?.status === 'semantic_hit';
  const route: Route = cached
    ? 'cache'
    : record.fallback_used === true
      ? 'fallback'
      : record.fallback_used === false
        ? 'primary'
        : 'unknown';
  const modelName = cached ? undefined : (record.resolved_model?.value ?? record.reported_model?.value);
  const provider = cached ? undefined : record.provider;
  const statement: Omit<DisclosureStatement, 'sentence'> = {
    v: DISCLOSURE_VERSION,
    request_id: record.request_id,
    answered_at: record.occurred_at,
    model: modelName ? { name: modelName, display_name: modelDisplayName(modelName) } : null,
    provider: provider
      ? { name: provider, display_name: providerDisplayName(provider), third_party: thirdParty(provider, modelName) }
      : null,
    route,
    fallback_reason: route === 'fallback' ? fallbackReason(record) : null,
    cached,
    region_area: cached || !record.region?.served ? null : regionArea(record.region.served),
    required_check_skipped: requiredCheckSkipped(record, policyRequiredChecks),
    ledger: { event_id: record.event_id, ...position },
    issued_at: issuedAt,
  };
  return { ...statement, sentence: disclosureSentence(statement) };
}

export async function signDisclosure(s: DisclosureStatement, key: Signer): Promise<string> {
  return signJws(canonicalBytes(s), DISCLOSURE_TYP, key);
}

const REASONS: Record<FallbackReason, string> = {
  outage: 'the primary provider was unavailable',
  rate_limit: 'the primary provider was at its rate limit',
  policy: 'a policy rule ruled out the primary model',
  other: 'the primary model could not answer',
};

export function disclosureSentence(s: Omit<DisclosureStatement, 'sentence'>): string {
  const skipped = s.required_check_skipped ? ' A required safety check was skipped.' : '';
  if (s.route === 'cache') return `Answered from a stored answer to an earlier identical request (cached).${skipped}`;
  if (!s.model) return `No model answered this request.${skipped}`;
  const who = [s.provider?.display_name, s.provider?.third_party ? 'a third-party host' : null, s.region_area]
    .filter(Boolean)
    .join(', ');
  const target = `${s.model.display_name}${who ? ` (${who})` : ''}`;
  if (s.route === 'fallback')
    return `Answered by a fallback model, ${target}, because ${REASONS[s.fallback_reason ?? 'other']}.${skipped}`;
  if (s.route === 'primary') return `Answered by the requested model, ${target}.${skipped}`;
  return `Answered by ${target}; whether this was the requested model is not known.${skipped}`;
}

/** "claude-sonnet-4" → "Claude Sonnet 4", "gpt-4o" → "GPT-4o". */
export function modelDisplayName(model: string): string {
  const base = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  const words = base.split(/[-_ ]+/).filter(Boolean);
  if (words[0]?.toLowerCase() === 'gpt') return `GPT-${words.slice(1).join('-')}`;
  return words.map((w) => (/^[a-z]/.test(w) ? w[0].toUpperCase() + w.slice(1) : w)).join(' ');
}

export function providerDisplayName(provider: string): string {
  return PROVIDERS[provider.toLowerCase()] ?? provider[0].toUpperCase() + provider.slice(1);
}

/** Whether `provider` hosts a model made by someone else; null when the maker is not known. */
export function thirdParty(provider: string, model: string | undefined): boolean | null {
  if (!model) return null;
  const maker = MAKERS.find(([re]) => re.test(model.toLowerCase()));
  return maker ? !maker[1].includes(provider.toLowerCase()) : null;
}

export function regionArea(served: string): string | null {
  const s = served.toLowerCase();
  return AREAS.find(([prefixes]) => prefixes.includes(s) || regionWithin(s, prefixes))?.[1] ?? null;
}

/** The user-safe category of why the first target did not answer, from the attempt chain and the routing reason. */
export function fallbackReason(r: CanonicalRecord): FallbackReason {
  const failed = (r.attempts?.items ?? []).find((a) => a.status !== 'success');
  const text = [failed?.error_class, failed?.status, r.routing?.reason].filter(Boolean).join(' ').toLowerCase();
  const http = failed?.http_status;
  if (http === 429 || /rate.?limit|quota|too.?many/.test(text)) return 'rate_limit';
  if (/polic|guardrail|moderat|content.?filter|blocked|residency/.test(text)) return 'policy';
  if ((http !== undefined && http >= 500) || /timeout|unavailable|outage|overload|server|connect|5\d\d/.test(text))
    return 'outage';
  return 'other';
}

function requiredCheckSkipped(r: CanonicalRecord, policyChecks: readonly string[]): boolean {
  const checks = r.policy_checks ?? [];
  const notRun = (c: { result: string }) => c.result === 'skipped' || c.result === 'error';
  if (checks.some((c) => c.required === true && notRun(c))) return true;
  return policyChecks.some((name) => {
    const c = checks.find((x) => x.name === name);
    return !c || notRun(c);
  });
}
