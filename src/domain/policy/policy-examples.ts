/**
 * The two example policies of docs/policies.md: a regulated EU tenant and a cost-sensitive one.
 * The spec validates them against the schema, and the demo publishes the first.
 */
import { POLICY_SCHEMA_ID, type PolicyDocument } from './policy-document.js';

export const EU_REGULATED_POLICY: PolicyDocument = {
  schema: POLICY_SCHEMA_ID,
  description: 'Regulated EU bank: EU residency, PII guardrail, quality first, evaluated versions only',
  rules: [
    {
      id: 'eu-chat',
      match: { alias: 'gpt-smart' },
      allowed_targets: [
        { provider: 'openai', model: 'gpt-4o', versions: ['gpt-4o-2024-08-06'] },
        { provider: 'azure', model: 'gpt-4o' },
      ],
      required_regions: ['eu'],
      required_checks: ['pii-guard'],
      objective: 'quality',
      fallback: {
        allowed_targets: [{ provider: 'anthropic', model: 'claude-sonnet-4' }],
        max_share: '0.05',
        window_minutes: 60,
      },
      cache_allowed: false,
      evaluations: [
        {
          evaluation_id: 'eval-2026-10-credit-chat',
          model_versions: ['gpt-4o-2024-08-06', 'claude-sonnet-4-20250514'],
          accuracy_target: '0.92',
          escalation_threshold: '0.15',
          test_set: 'credit-faq-v3',
        },
      ],
      disclose_fallback: true,
      monitoring_plan: 'Risk team reviews policy findings weekly; residency findings page the on-call.',
    },
  ],
};

export const COST_SENSITIVE_POLICY: PolicyDocument = {
  schema: POLICY_SCHEMA_ID,
  description: 'Consumer app: cheapest adequate model, cache welcome, legal questions escalate',
  rules: [
    {
      id: 'budget-default',
      match: { alias: 'budget-chat' },
      allowed_targets: [
        { provider: 'groq', model: 'llama-3.3-70b' },
        { provider: 'together', model: 'llama-3.3-70b' },
      ],
      objective: 'cost',
      fallback: { allowed_targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], max_share: '0.2' },
      cache_allowed: true,
    },
    {
      id: 'budget-legal',
      match: { alias: 'budget-chat', task_category: 'legal' },
      allowed_targets: [{ provider: 'openai', model: 'gpt-4o' }],
      required_checks: ['moderation'],
      objective: 'quality',
      cache_allowed: false,
    },
  ],
};
