/**
 * What changed between two versions of a tenant's policy, rule by rule (rules are matched by id),
 * and inside a changed rule member by member, with JSON pointers, so an auditor reads "rule
 * eu-chat: /required_regions [eu] → absent" instead of comparing two documents.
 */
import { canonicalJson } from '../canonical/canonical-json.js';
import type { PolicyDocument, PolicyRule } from './policy-document.js';

export interface MemberChange {
  /** JSON pointer inside the rule (or the document for top-level members). */
  path: string;
  /** Absent members are null here, and listed in `absent`. */
  before: unknown;
  after: unknown;
}

export interface PolicyDiff {
  rules_added: PolicyRule[];
  rules_removed: PolicyRule[];
  rules_changed: Array<{ rule_id: string; changes: MemberChange[] }>;
  document_changes: MemberChange[];
}

export function diffPolicies(from: PolicyDocument, to: PolicyDocument): PolicyDiff {
  const before = new Map(from.rules.map((r) => [r.id, r]));
  const after = new Map(to.rules.map((r) => [r.id, r]));
  return {
    rules_added: to.rules.filter((r) => !before.has(r.id)),
    rules_removed: from.rules.filter((r) => !after.has(r.id)),
    rules_changed: to.rules
      .filter((r) => before.has(r.id))
      .map((r) => ({ rule_id: r.id, changes: memberChanges(before.get(r.id), r, '') }))
      .filter((c) => c.changes.length > 0),
    document_changes: memberChanges({ description: from.description }, { description: to.description }, ''),
  };
}

/** Changes between two JSON values; objects are walked member by member, anything else compared whole. */
function memberChanges(a: unknown, b: unknown, path: string): MemberChange[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => memberChanges(a[k], b[k], `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  if (same(a, b)) return [];
  return [{ path: path || '/', before: a ?? null, after: b ?? null }];
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
