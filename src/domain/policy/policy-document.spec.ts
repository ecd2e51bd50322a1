import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_JSON_SCHEMA, ruleFor, validatePolicyDocument, type PolicyDocument } from './policy-document.js';
import { COST_SENSITIVE_POLICY, EU_REGULATED_POLICY } from './policy-examples.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('policy document', () => {
  it('publishes exactly the schema it validates with (docs/policy.schema.json)', () => {
    const published = JSON.parse(readFileSync(join(process.cwd(), 'docs/policy.schema.json'), 'utf8')) as unknown;
    expect(published).toEqual(JSON.parse(JSON.stringify(POLICY_JSON_SCHEMA)));
  });

  it.each([
    ['regulated EU', EU_REGULATED_POLICY],
    ['cost-sensitive', COST_SENSITIVE_POLICY],
  ])('accepts the %s example', (_name, doc) => {
    expect(validatePolicyDocument(clone(doc))).toEqual({ ok: true, document: doc });
  });

  it('names every defect with its JSON pointer', () => {
    const doc = clone(EU_REGULATED_POLICY) as unknown as Record<string, any>;
    doc.rules[0].required_regions = ['EU West'];
    doc.rules[0].colour = 'blue';
    doc.rules[0].fallback.max_share = 0.05;
    const v = validatePolicyDocument(doc);
    expect(v.ok).toBe(false);
    const errors = (v as { errors: string[] }).errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/rules\/0: unknown field "colour"/),
        expect.stringMatching(/^\/rules\/0\/required_regions\/0:/),
        expect.stringMatching(/^\/rules\/0\/fallback\/max_share:/),
      ]),
    );
  });

  it('refuses duplicate rule ids and two rules with the same match', () => {
    const doc = clone(COST_SENSITIVE_POLICY);
    doc.rules.push({ ...doc.rules[0] });
    const v = validatePolicyDocument(doc);
    expect(v.ok).toBe(false);
    expect((v as { errors: string[] }).errors).toEqual([
      '/rules/2/id: rule id "budget-default" is used twice',
      '/rules/2/match: another rule has the same match',
    ]);
  });

  it('picks the most specific rule: alias and category, then alias, then category', () => {
    const doc: PolicyDocument = {
      schema: 'routing-ledger/policy/v1',
      rules: [
        { id: 'cat', match: { task_category: 'legal' } },
        { id: 'alias', match: { alias: 'chat' } },
        { id: 'both', match: { alias: 'chat', task_category: 'legal' } },
      ],
    };
    expect(ruleFor(doc, 'chat', 'legal')?.id).toBe('both');
    expect(ruleFor(doc, 'chat', 'code')?.id).toBe('alias');
    expect(ruleFor(doc, 'chat', null)?.id).toBe('alias');
    expect(ruleFor(doc, 'other', 'legal')?.id).toBe('cat');
    expect(ruleFor(doc, 'other', null)).toBeNull();
  });
});
