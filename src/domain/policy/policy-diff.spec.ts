import { diffPolicies } from './policy-diff.js';
import { EU_REGULATED_POLICY } from './policy-examples.js';
import type { PolicyDocument } from './policy-document.js';

describe('diffPolicies', () => {
  it('is empty between a document and itself', () => {
    expect(diffPolicies(EU_REGULATED_POLICY, EU_REGULATED_POLICY)).toEqual({
      rules_added: [],
      rules_removed: [],
      rules_changed: [],
      document_changes: [],
    });
  });

  it('names each changed member of each rule, and added and removed rules', () => {
    const [rule] = EU_REGULATED_POLICY.rules;
    const { required_regions: _dropped, ...withoutRegions } = rule;
    const next: PolicyDocument = {
      ...EU_REGULATED_POLICY,
      description: 'relaxed',
      rules: [
        { ...withoutRegions, fallback: { ...rule.fallback, max_share: '0.2' } },
        { id: 'code', match: { task_category: 'code' }, objective: 'cost' },
      ],
    };
    const d = diffPolicies(EU_REGULATED_POLICY, next);
    expect(d.rules_added.map((r) => r.id)).toEqual(['code']);
    expect(d.rules_removed).toEqual([]);
    expect(d.rules_changed).toEqual([
      {
        rule_id: 'eu-chat',
        changes: [
          { path: '/fallback/max_share', before: '0.05', after: '0.2' },
          { path: '/required_regions', before: ['eu'], after: null },
        ],
      },
    ]);
    expect(d.document_changes).toEqual([
      { path: '/description', before: EU_REGULATED_POLICY.description, after: 'relaxed' },
    ]);
    expect(diffPolicies(next, EU_REGULATED_POLICY).rules_removed.map((r) => r.id)).toEqual(['code']);
  });
});
