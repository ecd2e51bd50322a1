import { POLICY_SCHEMA_ID, type PolicyDocument } from '../domain/policy/policy-document.js';

/**
 * The demo's declared policy for eu-bank: `gpt-smart` must stay in the EU with the PII guardrail
 * run, and may fall back to Claude Sonnet 4 only. The scripted OpenAI outage serves eu-bank's
 * fallbacks from us-east-1 with the guardrail skipped: the policy violations of the story. Its
 * other aliases have no rule, so they show as uncovered traffic in GET /v1/coverage.
 */
export const DEMO_POLICY_TENANT = 'eu-bank';

export const DEMO_POLICY: PolicyDocument = {
  schema: POLICY_SCHEMA_ID,
  description: 'eu-bank: EU residency and PII redaction for gpt-smart, quality first',
  rules: [
    {
      id: 'gpt-smart-eu',
      match: { alias: 'gpt-smart' },
      allowed_targets: [{ provider: 'openai', model: 'gpt-4o' }],
      required_regions: ['eu'],
      required_checks: ['pii-redaction'],
      objective: 'quality',
      fallback: { allowed_targets: [{ provider: 'anthropic', model: 'claude-sonnet-4' }], max_share: '0.5' },
      evaluations: [
        {
          evaluation_id: 'demo-eval-gpt-smart',
          model_versions: ['gpt-4o-2024-08-06', 'gpt-4o-2024-11-20', 'claude-sonnet-4-20250514'],
          accuracy_target: '0.9',
        },
      ],
    },
  ],
};
