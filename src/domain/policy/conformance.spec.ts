import fc from 'fast-check';
import { checkDecision, fallbackShareFaults, type DecisionFacts } from './conformance.js';
import type { PolicyDocument } from './policy-document.js';
import { COST_SENSITIVE_POLICY, EU_REGULATED_POLICY } from './policy-examples.js';

/** A decision that meets every rule of EU_REGULATED_POLICY's eu-chat. */
const conforming: DecisionFacts = {
  alias: 'gpt-smart',
  category: null,
  provider: 'openai',
  model: 'gpt-4o',
  version: 'gpt-4o-2024-08-06',
  region_served: 'eu-west-1',
  region_required: ['eu'],
  fallback_used: 'false',
  cache_status: 'miss',
  checks: [{ name: 'pii-guard', result: 'pass', required: true }],
  objective: 'quality',
  notice: null,
};

const kinds = (doc: PolicyDocument, f: Partial<DecisionFacts>) =>
  checkDecision(doc, { ...conforming, ...f }).faults.map((x) => `${x.family}/${x.kind}`);

describe('checkDecision', () => {
  it('finds nothing in a conforming decision', () => {
    expect(checkDecision(EU_REGULATED_POLICY, conforming)).toEqual({ rule_id: 'eu-chat', faults: [] });
  });

  it('flags a gateway that dropped region.required while serving outside the EU: residency and claim mismatch', () => {
    const v = checkDecision(EU_REGULATED_POLICY, { ...conforming, region_served: 'us-east-1', region_required: null });
    expect(v.faults).toEqual([
      expect.objectContaining({
        family: 'policy_violation',
        kind: 'residency',
        rule_id: 'eu-chat',
        required: { regions: ['eu'] },
        done: { region: 'us-east-1' },
      }),
      expect.objectContaining({
        family: 'claim_mismatch',
        kind: 'residency_not_claimed',
        required: { regions: ['eu'] },
        done: { claimed_regions: [] },
      }),
    ]);
  });

  it('flags a claim that differs even when the decision itself stayed in the EU', () => {
    expect(kinds(EU_REGULATED_POLICY, { region_required: ['eu', 'us'] })).toEqual([
      'claim_mismatch/residency_claim_differs',
    ]);
  });

  it.each<[string, Partial<DecisionFacts>, string[]]>([
    [
      'a target outside the allowed ones',
      { provider: 'groq', model: 'llama', version: 'llama-v1' },
      ['policy_violation/target_not_allowed', 'policy_violation/unevaluated_version'],
    ],
    [
      'a fallback target outside the fallback list',
      { provider: 'azure', model: 'gpt-4o', fallback_used: 'true', notice: 'true', version: 'gpt-4o-2024-08-06' },
      ['policy_violation/fallback_target_not_allowed'],
    ],
    [
      'a pinned target without a reported version',
      { version: null },
      ['policy_violation/version_unreported', 'policy_violation/unevaluated_version'],
    ],
    ['a missing required check', { checks: [] }, ['policy_violation/required_check_missing']],
    [
      'a skipped check not claimed required',
      { checks: [{ name: 'pii-guard', result: 'skipped' }] },
      ['policy_violation/required_check_skipped', 'claim_mismatch/check_not_claimed_required'],
    ],
    ['an objective the event does not state', { objective: null }, ['claim_mismatch/objective_not_claimed']],
    ['another objective', { objective: 'cost' }, ['claim_mismatch/objective_claim_differs']],
    [
      'a cached answer',
      { cache_status: 'hit', provider: null, model: null, version: null },
      ['policy_violation/cache_not_allowed'],
    ],
    [
      'an undisclosed allowed fallback',
      {
        fallback_used: 'true',
        provider: 'anthropic',
        model: 'claude-sonnet-4',
        version: 'claude-sonnet-4-20250514',
        notice: 'false',
      },
      ['policy_violation/fallback_not_disclosed'],
    ],
  ])('flags %s', (_name, change, expected) => {
    expect(kinds(EU_REGULATED_POLICY, change)).toEqual(expected);
  });

  it('flags a served version no linked evaluation covers', () => {
    const v = checkDecision(
      {
        ...EU_REGULATED_POLICY,
        rules: [{ ...EU_REGULATED_POLICY.rules[0], allowed_targets: [{ provider: 'openai' }] }],
      },
      { ...conforming, version: 'gpt-4o-2024-11-20' },
    );
    expect(v.faults).toEqual([
      expect.objectContaining({
        kind: 'unevaluated_version',
        required: {
          evaluations: ['eval-2026-10-credit-chat'],
          model_versions: ['claude-sonnet-4-20250514', 'gpt-4o-2024-08-06'],
        },
        done: { provider: 'openai', model: 'gpt-4o', version: 'gpt-4o-2024-11-20' },
      }),
    ]);
  });

  it('judges a legal request by the category rule and others by the alias rule', () => {
    const base: DecisionFacts = {
      ...conforming,
      alias: 'budget-chat',
      provider: 'groq',
      model: 'llama-3.3-70b',
      version: null,
      region_served: null,
      region_required: null,
      checks: [],
      objective: 'cost',
    };
    expect(checkDecision(COST_SENSITIVE_POLICY, base)).toEqual({ rule_id: 'budget-default', faults: [] });
    expect(checkDecision(COST_SENSITIVE_POLICY, { ...base, category: 'legal' }).faults.map((f) => f.kind)).toEqual([
      'target_not_allowed',
      'required_check_missing',
      'objective_claim_differs',
    ]);
  });

  it('leaves uncovered traffic uncovered', () => {
    expect(checkDecision(EU_REGULATED_POLICY, { ...conforming, alias: 'other' })).toEqual({
      rule_id: null,
      faults: [],
    });
  });

  it('never reports a fault for a decision served on an allowed target in an allowed region (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('eu', 'eu-west-1', 'eu-central-2'),
        fc.constantFrom('gpt-4o-2024-08-06', 'claude-sonnet-4-20250514'),
        fc.constantFrom('pass', 'fail'),
        (region, version, result) => {
          const onFallback = version.startsWith('claude');
          const facts: DecisionFacts = {
            ...conforming,
            region_served: region,
            provider: onFallback ? 'anthropic' : 'openai',
            model: onFallback ? 'claude-sonnet-4' : 'gpt-4o',
            version,
            fallback_used: onFallback ? 'true' : 'false',
            notice: onFallback ? 'true' : null,
            checks: [{ name: 'pii-guard', result, required: true }],
          };
          expect(checkDecision(EU_REGULATED_POLICY, facts).faults).toEqual([]);
        },
      ),
    );
  });
});

describe('fallbackShareFaults', () => {
  const w = { alias: 'gpt-smart', window_start: '2026-11-20T10:00:00.000Z' };

  it('compares the share exactly: 5 of 100 is allowed at 0.05, 6 of 100 is not', () => {
    expect(fallbackShareFaults(EU_REGULATED_POLICY, { ...w, requests: 100, fallbacks: 5 })).toBeNull();
    expect(fallbackShareFaults(EU_REGULATED_POLICY, { ...w, requests: 100, fallbacks: 6 })).toEqual(
      expect.objectContaining({
        kind: 'fallback_share_exceeded',
        required: { max_share: '0.05', window_minutes: 60 },
        done: { window_start: w.window_start, requests: 100, fallbacks: 6 },
      }),
    );
  });

  it('agrees with exact rational comparison for any counts (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.nat(100_000), (requests, f) => {
        const fallbacks = Math.min(f, requests);
        const exceeded = fallbacks * 100 > 5 * requests;
        expect(fallbackShareFaults(EU_REGULATED_POLICY, { ...w, requests, fallbacks }) !== null).toBe(exceeded);
      }),
    );
  });
});
