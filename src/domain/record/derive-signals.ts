import { sameModel } from '../normalize/model-version.js';
import type { CanonicalRecord } from './canonical-record.js';

/**
 * Signals derived from one record at ingest and stored beside it (not inside it: they can
 * be recomputed, so they are not signed). Signals needing history (an alias resolving to a
 * new version) are computed by queries over the stored records.
 */
export type Signal =
  | 'fallback'
  | 'silent_substitution'
  | 'residency_violation'
  | 'policy_bypass'
  | 'cache_hit'
  | 'error'
  | 'unknown_attempts'
  | 'missing_version'
  | 'missing_region';

export function deriveSignals(r: CanonicalRecord): Signal[] {
  const out: Signal[] = [];
  if (r.fallback_used === true) out.push('fallback');
  if (isSubstituted(r) && r.disclosure?.model_substituted_notice !== true) out.push('silent_substitution');
  if (isResidencyViolation(r)) out.push('residency_violation');
  if (isPolicyBypass(r)) out.push('policy_bypass');
  if (r.cache?.status === 'hit' || r.cache?.status === 'semantic_hit') out.push('cache_hit');
  if (r.outcome.status === 'error') out.push('error');
  if (!r.attempts || r.attempts.completeness === 'none' || r.attempts.completeness === 'count_only')
    out.push('unknown_attempts');
  if (!r.model_version?.version && !r.model_version?.deployment_id) out.push('missing_version');
  if (!r.region?.served) out.push('missing_region');
  return out;
}

/**
 * A fallback served, or the attempt that served is not the first target tried. A request that
 * did not succeed was answered by no target (every target failed and the client got the last
 * error), so nothing was substituted.
 */
export function isSubstituted(r: CanonicalRecord): boolean {
  if (r.outcome.status !== 'success') return false;
  if (r.fallback_used === true) return true;
  if (answeredByAnotherModel(r)) return true;
  const items = r.attempts?.items ?? [];
  const served = items.find((a) => a.status === 'success');
  const first = items[0];
  return (
    !!served && !!first && served !== first && (served.model !== first.model || served.provider !== first.provider)
  );
}

/**
 * An OpenTelemetry GenAI span is one call to a provider with no gateway choosing in between: the
 * requested model is what the provider was asked for, so a response model that is neither it nor
 * a dated snapshot of it (gpt-4o answered by gpt-4o-mini) is a substitution.
 */
function answeredByAnotherModel(r: CanonicalRecord): boolean {
  const reported = r.reported_model?.value;
  return (
    r.source.format === 'otel' &&
    r.resolved_model === undefined &&
    reported !== undefined &&
    r.requested_model !== 'unknown' &&
    !sameModel(r.requested_model, reported)
  );
}

export function isResidencyViolation(r: CanonicalRecord): boolean {
  const required = r.region?.required;
  const served = r.region?.served;
  if (!required?.length || !served) return false;
  return !required.some((prefix) => served === prefix || served.startsWith(`${prefix}-`));
}

/** A required check that did not run (skipped or errored) — on any path, fallbacks included. */
export function isPolicyBypass(r: CanonicalRecord): boolean {
  return (r.policy_checks ?? []).some((c) => c.required === true && (c.result === 'skipped' || c.result === 'error'));
}
