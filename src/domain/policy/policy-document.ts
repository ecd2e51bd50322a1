/**
 * A tenant's declared routing policy: the tenant's own statement of what its traffic may be
 * routed to, independent of what the router reports about itself. Published as a JSON Schema
 * (docs/policy.schema.json, generated from POLICY_JSON_SCHEMA below; a spec keeps them equal).
 *
 * A document holds rules; a rule applies to one requested alias, one task category, or an alias
 * and a category together. The most specific rule wins (alias + category, then alias, then
 * category), so a tenant can state a default per alias and tighten one category of it.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

export const POLICY_SCHEMA_ID = 'routing-ledger/policy/v1';
export const OBJECTIVES = ['quality', 'cost', 'latency'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** A target the policy allows. Absent model or versions: any model of the provider / any version of the model. */
export interface PolicyTarget {
  provider: string;
  model?: string;
  versions?: string[];
}

export interface EvaluationLink {
  /** The tenant's evaluation id (for instance the id of a registered evaluation, GET /v1/evaluations). */
  evaluation_id: string;
  /** Model versions (or model names) the evaluation covered: a served version outside them is unevaluated. */
  model_versions: string[];
  /** Accuracy the category must reach, 0–1, as a decimal string (no floats in signed documents). */
  accuracy_target?: string;
  /** Share of requests above which traffic must escalate to a stronger target, 0–1, as a decimal string. */
  escalation_threshold?: string;
  test_set?: string;
}

export interface PolicyRule {
  /** Stable name of the rule, quoted by every finding it produces. */
  id: string;
  match: { alias?: string; task_category?: string };
  allowed_targets?: PolicyTarget[];
  /** Residency: region prefixes ("eu" covers "eu-west-1"), as the record's region.required. */
  required_regions?: string[];
  /** Checks (guardrails, moderation) that must run and pass or fail, never be skipped. */
  required_checks?: string[];
  objective?: Objective;
  fallback?: {
    /** Targets a fallback may land on; absent: the rule's allowed_targets. */
    allowed_targets?: PolicyTarget[];
    /** Most fallbacks a window may hold, as a share of the rule's requests (decimal string 0–1). */
    max_share?: string;
    /** The window of max_share, in minutes (default 60). */
    window_minutes?: number;
  };
  /** Whether a cached answer may serve (default true). */
  cache_allowed?: boolean;
  evaluations?: EvaluationLink[];
  /** Whether users must be told when a fallback answered (the record's disclosure notice). */
  disclose_fallback?: boolean;
  /** Free text: who watches what, for the auditor. Not checked. */
  monitoring_plan?: string;
}

export interface PolicyDocument {
  schema: typeof POLICY_SCHEMA_ID;
  description?: string;
  rules: PolicyRule[];
}

const NAME = { type: 'string', minLength: 1, maxLength: 200 } as const;
const SHARE = { type: 'string', pattern: '^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$' } as const;
const TARGET = {
  type: 'object',
  additionalProperties: false,
  required: ['provider'],
  properties: {
    provider: NAME,
    model: NAME,
    versions: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: NAME },
  },
} as const;
const TARGETS = { type: 'array', minItems: 1, maxItems: 100, items: TARGET } as const;

/** The JSON Schema (2020-12) of a policy document. */
export const POLICY_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://routing-ledger.dev/schemas/policy/v1.json',
  title: 'routing-ledger tenant routing policy',
  type: 'object',
  additionalProperties: false,
  required: ['schema', 'rules'],
  properties: {
    schema: { const: POLICY_SCHEMA_ID },
    description: { type: 'string', maxLength: 2000 },
    rules: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'match'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$' },
          match: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: { alias: NAME, task_category: NAME },
          },
          allowed_targets: TARGETS,
          required_regions: {
            type: 'array',
            minItems: 1,
            maxItems: 50,
            uniqueItems: true,
            items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          },
          required_checks: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: NAME },
          objective: { enum: [...OBJECTIVES] },
          fallback: {
            type: 'object',
            additionalProperties: false,
            properties: {
              allowed_targets: TARGETS,
              max_share: SHARE,
              window_minutes: { type: 'integer', minimum: 1, maximum: 1440 },
            },
          },
          cache_allowed: { type: 'boolean' },
          evaluations: {
            type: 'array',
            minItems: 1,
            maxItems: 50,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['evaluation_id', 'model_versions'],
              properties: {
                evaluation_id: NAME,
                model_versions: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: NAME },
                accuracy_target: SHARE,
                escalation_threshold: SHARE,
                test_set: NAME,
              },
            },
          },
          disclose_fallback: { type: 'boolean' },
          monitoring_plan: { type: 'string', maxLength: 2000 },
        },
      },
    },
  },
} as const;

export type PolicyValidation = { ok: true; document: PolicyDocument } | { ok: false; errors: string[] };

let compiled: ReturnType<Ajv2020['compile']> | undefined;

/**
 * The document if it satisfies the schema and the rules' cross-field constraints (rule ids
 * unique; at most one rule per match), else every reason, each naming its JSON pointer.
 */
export function validatePolicyDocument(value: unknown): PolicyValidation {
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile(POLICY_JSON_SCHEMA);
  if (!compiled(value)) return { ok: false, errors: (compiled.errors ?? []).map(describe) };
  const doc = value as PolicyDocument;
  const errors: string[] = [];
  const ids = new Set<string>();
  const matches = new Set<string>();
  doc.rules.forEach((r, i) => {
    if (ids.has(r.id)) errors.push(`/rules/${i}/id: rule id ${JSON.stringify(r.id)} is used twice`);
    ids.add(r.id);
    const key = JSON.stringify([r.match.alias ?? null, r.match.task_category ?? null]);
    if (matches.has(key)) errors.push(`/rules/${i}/match: another rule has the same match`);
    matches.add(key);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, document: doc };
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties')
    return `${where}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** The rule that governs a decision for `alias` and `category`, most specific first; null: uncovered. */
export function ruleFor(doc: PolicyDocument, alias: string, category: string | null): PolicyRule | null {
  const exact = doc.rules.find(
    (r) => r.match.alias === alias && category !== null && r.match.task_category === category,
  );
  if (exact) return exact;
  const byAlias = doc.rules.find((r) => r.match.alias === alias && r.match.task_category === undefined);
  if (byAlias) return byAlias;
  return (
    doc.rules.find((r) => r.match.alias === undefined && category !== null && r.match.task_category === category) ??
    null
  );
}
