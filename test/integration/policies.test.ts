import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { verifyDisclosure } from '../../src/domain/policy/disclosure-verifier.js';
import { verifyPolicyReceipt, type PolicyReceipt } from '../../src/domain/policy/policy-log.js';
import { EU_REGULATED_POLICY } from '../../src/domain/policy/policy-examples.js';
import type { PolicyDocument } from '../../src/domain/policy/policy-document.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { appendRecords, startQueryApp, type QueryApp } from '../support/query-app.js';

jest.setTimeout(120_000);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const WINDOW = { from: '2026-11-20T09:00:00.000Z', to: '2026-11-20T11:00:00.000Z' };
const CHANGE_AT = '2026-11-20T10:00:00.000Z';

/** Version 1: EU only. Version 2 (from CHANGE_AT): EU or US, any gpt-4o version, evaluated versions only. */
const V1: PolicyDocument = EU_REGULATED_POLICY;
const V2: PolicyDocument = {
  ...V1,
  rules: [
    { ...V1.rules[0], required_regions: ['eu', 'us'], allowed_targets: [{ provider: 'openai', model: 'gpt-4o' }] },
  ],
};

interface Draft {
  tenant?: string;
  at: string;
  alias?: string;
  region: string;
  version?: string;
  fallback?: boolean;
}

let seq = 0;
/** A decision of a gateway that stopped reporting region.required (the policy still requires it). */
function decision(d: Draft): CanonicalRecord {
  const n = seq++;
  const tenant = d.tenant ?? 'eu-bank';
  const served = d.fallback
    ? { provider: 'anthropic', model: 'claude-sonnet-4', version: 'claude-sonnet-4-20250514' }
    : { provider: 'openai', model: 'gpt-4o', version: d.version ?? 'gpt-4o-2024-08-06' };
  return {
    schema_version: '1',
    event_id: `evt-pol-${n}`,
    occurred_at: d.at,
    gateway: { id: 'gw-eu', kind: 'native' },
    tenant_id: tenant,
    request_id: `req-pol-${n}`,
    requested_model: d.alias ?? 'gpt-smart',
    resolved_model: { value: served.model, asserted_by: 'gateway' },
    provider: served.provider,
    model_version: { version: served.version },
    region: { served: d.region },
    routing: { strategy: d.fallback ? 'fallback' : 'static', objective: 'quality' },
    attempts: {
      completeness: 'full',
      items: d.fallback
        ? [
            {
              index: 0,
              provider: 'openai',
              model: 'gpt-4o',
              status: 'error',
              error_class: 'provider_unavailable',
              http_status: 503,
            },
            { index: 1, provider: served.provider, model: served.model, status: 'success' },
          ]
        : [{ index: 0, provider: served.provider, model: served.model, status: 'success' }],
    },
    fallback_used: d.fallback ?? false,
    cache: { status: 'miss' },
    usage: { input_tokens: 100, output_tokens: 20 },
    cost: { amount: '0.00100000', currency: 'USD', source: 'gateway' },
    policy_checks: [{ name: 'pii-guard', result: 'pass', required: true }],
    outcome: { status: 'success', http_status: 200 },
    disclosure: { model_substituted_notice: false },
    content: { prompt_sha256: sha(`p${n}`) },
    source: { format: 'native', raw_sha256: sha(`raw${n}`) },
  } as CanonicalRecord;
}

const RECORDS = [
  decision({ at: '2026-11-20T09:10:00.000Z', region: 'eu-west-1' }),
  decision({ at: '2026-11-20T09:20:00.000Z', region: 'eu-west-1' }),
  decision({ at: '2026-11-20T09:30:00.000Z', region: 'us-east-1' }),
  decision({ at: '2026-11-20T09:40:00.000Z', region: 'us-east-1' }),
  decision({ at: '2026-11-20T10:20:00.000Z', region: 'eu-west-1', alias: 'embed' }),
  decision({ at: '2026-11-20T10:30:00.000Z', region: 'us-east-1' }),
  decision({ at: '2026-11-20T10:40:00.000Z', region: 'us-east-1' }),
  decision({ at: '2026-11-20T10:45:00.000Z', region: 'us-east-1', fallback: true }),
  decision({ at: '2026-11-20T10:50:00.000Z', region: 'eu-west-1', version: 'gpt-4o-2024-11-20' }),
  decision({ at: '2026-11-20T10:10:00.000Z', region: 'us-east-1', tenant: 'no-policy' }),
  decision({ at: '2026-11-20T10:11:00.000Z', region: 'us-east-1', tenant: 'no-policy' }),
];
const byVersion = (r: CanonicalRecord) => (r.occurred_at < CHANGE_AT ? 1 : 2);
const governed = RECORDS.filter((r) => r.tenant_id === 'eu-bank' && r.requested_model === 'gpt-smart');

describe('declared policies, conformance and disclosures', () => {
  let db: TestDatabase;
  let q: QueryApp;
  let admin: string;
  let jwks: { keys: Array<Record<string, string>> };

  // Response bodies are asserted field by field, so they are typed loosely.
  const json = async (res: Response | Promise<Response>, status = 200): Promise<any> => {
    const r = await res;
    const body = await r.json();
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const findings = async (type: string) =>
    (await json(q.get(`/v1/findings?type=${type}&tenant=eu-bank&from=${WINDOW.from}&to=${WINDOW.to}`, admin)))
      .findings as any[];

  beforeAll(async () => {
    db = await createTestDatabase('rl_policies');
    q = await startQueryApp({ databaseUrl: db.url, dataDir: `/tmp/rl/${db.name}` });
    await appendRecords(q.append, RECORDS);
    admin = await q.token('admin', ['eu-bank']);
  });

  afterAll(async () => {
    await q?.close();
    await db?.drop();
  });

  describe('policy versions', () => {
    let first: PolicyReceipt;

    it('appends versions into the policy log as receipts that verify offline with the JWKS alone', async () => {
      first = await json(
        q.post('/v1/policies', { tenant_id: 'eu-bank', effective_from: WINDOW.from, document: V1 }, admin),
        201,
      );
      const second: PolicyReceipt = await json(
        q.post('/v1/policies', { tenant_id: 'eu-bank', effective_from: CHANGE_AT, document: V2 }, admin),
        201,
      );
      jwks = await json(q.get('/.well-known/jwks.json'));
      expect(first.entry).toMatchObject({ tenant_id: 'eu-bank', version: 1, prev: null, document: V1 });
      expect(second.entry).toMatchObject({ version: 2, prev: first.leaf_hash, effective_from: CHANGE_AT });
      await expect(verifyPolicyReceipt(first, jwks as never)).resolves.toMatchObject({ tree_size: 1 });
      await expect(verifyPolicyReceipt(second, jwks as never)).resolves.toMatchObject({ tree_size: 2 });
      // Version 1 proven again in the grown log.
      const again: PolicyReceipt = await json(q.get('/v1/policies/eu-bank/versions/1/receipt', admin));
      expect(again.tree_size).toBe(2);
      await expect(verifyPolicyReceipt(again, jwks as never)).resolves.toMatchObject({ tree_size: 2 });
    });

    it('never edits a version in place: the tables refuse UPDATE and DELETE', async () => {
      await expect(db.query(`UPDATE policy_versions SET published_by = 'mallory'`)).rejects.toThrow(/append-only/);
      await expect(db.query(`DELETE FROM policy_checkpoints`)).rejects.toThrow(/append-only/);
    });

    it('refuses an invalid document, a version effective before the latest, and callers who are not admin of the tenant', async () => {
      const bad = await json(
        q.post(
          '/v1/policies',
          { tenant_id: 'eu-bank', effective_from: CHANGE_AT, document: { schema: 'x', rules: [] } },
          admin,
        ),
        400,
      );
      expect(bad.type).toBe('urn:routing-ledger:error:invalid_policy');
      expect(bad.errors).toEqual(
        expect.arrayContaining([expect.stringMatching(/^\/schema: /), expect.stringMatching(/^\/rules: /)]),
      );
      const late = await json(
        q.post('/v1/policies', { tenant_id: 'eu-bank', effective_from: WINDOW.from, document: V1 }, admin),
        409,
      );
      expect(late.type).toBe('urn:routing-ledger:error:policy_effective_from_before_latest');
      const body = { tenant_id: 'eu-bank', effective_from: WINDOW.to, document: V1 };
      await json(q.post('/v1/policies', body, await q.token('admin', ['other'])), 403);
      await json(q.post('/v1/policies', body, await q.token('auditor', ['eu-bank'])), 403);
    });

    it('lists the versions and shows what changed between them', async () => {
      const list = await json(q.get('/v1/policies?tenant=eu-bank', await q.token('auditor', ['eu-bank'])));
      expect(list.versions.map((v: any) => [v.version, v.effective_from, v.leaf_hash])).toEqual([
        [1, WINDOW.from, first.leaf_hash],
        [2, CHANGE_AT, expect.stringMatching(/^[0-9a-f]{64}$/)],
      ]);
      const diff = await json(q.get('/v1/policies/eu-bank/diff?from=1&to=2', admin));
      expect(diff.rules_changed).toEqual([
        {
          rule_id: 'eu-chat',
          changes: [
            { path: '/allowed_targets', before: V1.rules[0].allowed_targets, after: V2.rules[0].allowed_targets },
            { path: '/required_regions', before: ['eu'], after: ['eu', 'us'] },
          ],
        },
      ]);
      await json(q.get('/v1/policies/eu-bank/diff?from=1&to=9', admin), 404);
      await json(q.get('/v1/policies/eu-bank/diff?from=1&to=2', await q.token('admin', ['other'])), 403);
    });
  });

  describe('conformance', () => {
    it('judges decisions before and after the change by their own version: residency only under version 1', async () => {
      const residency = (await findings('policy_violation')).filter((f) => f.kind === 'residency');
      const expected = governed.filter((r) => r.region?.served === 'us-east-1' && byVersion(r) === 1);
      expect(residency).toEqual([
        expect.objectContaining({
          type: 'policy_violation',
          severity: 'high',
          requests: expected.length,
          sample_event_ids: expected.map((r) => r.event_id),
          evidence: expect.objectContaining({
            policy_version: 1,
            rule_id: 'eu-chat',
            required: { regions: ['eu'] },
            done: { region: 'us-east-1' },
          }),
        }),
      ]);
      expect(residency[0].summary).toContain('policy version 1');
    });

    it('reports the gateway that dropped region.required as a claim mismatch naming each version', async () => {
      const mismatches = (await findings('claim_mismatch')).filter((f) => f.kind === 'residency_not_claimed');
      const counts = mismatches.map((f) => [f.evidence.policy_version, f.requests, f.evidence.required]).sort();
      expect(counts).toEqual([
        [1, governed.filter((r) => byVersion(r) === 1).length, { regions: ['eu'] }],
        [2, governed.filter((r) => byVersion(r) === 2).length, { regions: ['eu', 'us'] }],
      ]);
    });

    it('flags a served version that no linked evaluation covers, an undisclosed fallback and a fallback share over the limit', async () => {
      const violations = await findings('policy_violation');
      const unevaluated = violations.filter((f) => f.kind === 'unevaluated_version');
      expect(unevaluated).toEqual([
        expect.objectContaining({
          requests: 1,
          evidence: expect.objectContaining({
            policy_version: 2,
            done: { provider: 'openai', model: 'gpt-4o', version: 'gpt-4o-2024-11-20' },
          }),
        }),
      ]);
      expect(violations.filter((f) => f.kind === 'fallback_not_disclosed').map((f) => f.requests)).toEqual([1]);
      const share = violations.filter((f) => f.kind === 'fallback_share_exceeded');
      const hour = governed.filter((r) => byVersion(r) === 2);
      expect(share.map((f) => f.evidence.done)).toEqual([
        {
          window_start: CHANGE_AT,
          requests: hour.length,
          fallbacks: hour.filter((r) => r.fallback_used === true).length,
        },
      ]);
    });

    it('lists them among all findings, counted', async () => {
      const all = await json(q.get(`/v1/findings?tenant=eu-bank&from=${WINDOW.from}&to=${WINDOW.to}`, admin));
      expect(all.counts.policy_violation).toBeGreaterThanOrEqual(4);
      expect(all.counts.claim_mismatch).toBe(2);
    });

    it('shows traffic no policy covers in coverage', async () => {
      const cov = await json(q.get(`/v1/coverage?from=${WINDOW.from}&to=${WINDOW.to}`, await q.token('admin', ['*'])));
      const euBank = cov.policy.find((t: any) => t.tenant_id === 'eu-bank');
      const eu = RECORDS.filter((r) => r.tenant_id === 'eu-bank');
      expect(euBank).toMatchObject({
        has_policy: true,
        events: eu.length,
        covered: governed.length,
        uncovered_routes: [{ route: 'embed', requests: 1 }],
      });
      const none = cov.policy.find((t: any) => t.tenant_id === 'no-policy');
      expect(none).toMatchObject({ has_policy: false, covered: 0, uncovered: 2, uncovered_share: 1 });
    });
  });

  describe('full verification of the policy log', () => {
    it('passes on the stored log, and names a version edited behind the triggers', async () => {
      const auditor = await q.token('auditor', ['eu-bank']);
      expect(await json(q.post('/v1/policies/verify', {}, auditor))).toEqual({
        ok: true,
        versions: 2,
        checkpoints: 2,
        problems: [],
      });
      await db.query(`ALTER TABLE policy_versions DISABLE TRIGGER policy_versions_append_only`);
      await db.query(`UPDATE policy_versions SET entry = replace(entry, '"eu"', '"us"') WHERE version = 1`);
      await db.query(`ALTER TABLE policy_versions ENABLE TRIGGER policy_versions_append_only`);
      const report = await json(q.post('/v1/policies/verify', {}, auditor));
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ code: 'LEAF_HASH_MISMATCH', leaf_index: 0 });
    });
  });

  describe('disclosures', () => {
    const fallback = RECORDS.find((r) => r.fallback_used === true) as CanonicalRecord;

    it('returns a signed statement that verifies with the JWKS alone and matches the record receipt', async () => {
      const token = await q.token('disclosure', ['eu-bank']);
      const d = await json(q.get(`/v1/disclosures/${fallback.request_id}`, token));
      const statement = await verifyDisclosure(d.jws, jwks as never);
      expect(statement).toEqual(d.statement);
      expect(statement.sentence).toBe(
        'Answered by a fallback model, Claude Sonnet 4 (Anthropic, US), because the primary provider was unavailable.',
      );
      const receipt = await json(q.get(`/v1/records/${fallback.event_id}/receipt`, admin));
      expect(statement.ledger).toEqual({
        event_id: fallback.event_id,
        shard: receipt.shard,
        leaf_index: receipt.leaf_index,
        leaf_hash: receipt.leaf_hash,
      });
      const i = d.jws.indexOf('.') + 5;
      const flipped = d.jws.slice(0, i) + (d.jws[i] === 'A' ? 'B' : 'A') + d.jws.slice(i + 1);
      await expect(verifyDisclosure(flipped, jwks as never)).rejects.toThrow();
      // Nothing of cost, usage, prompt or tenant internals anywhere in the answer.
      const names: string[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object')
          for (const [k, x] of Object.entries(v)) {
            names.push(k);
            walk(x);
          }
      };
      walk(d);
      for (const banned of ['cost', 'amount', 'usage', 'content', 'prompt_sha256', 'tenant_id', 'gateway', 'routing'])
        expect(names).not.toContain(banned);
      expect(JSON.stringify(d)).not.toContain(fallback.cost?.amount as string);
    });

    it("answers another tenant's request with 404, and the disclosure role nothing else", async () => {
      const other = await q.token('disclosure', ['no-policy']);
      await json(q.get(`/v1/disclosures/${fallback.request_id}`, other), 404);
      await json(q.get('/v1/disclosures/req-never-seen', other), 404);
      await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}`, other), 403);
    });
  });
});
