import { jest } from '@jest/globals';
import fc from 'fast-check';
import type { Role } from '../../src/auth/principal.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { appendRecords, startQueryApp, type QueryApp } from '../support/query-app.js';
import { GLOBEX_EVALUATION, scenarioRecords, TENANTS, WINDOW } from '../support/query-scenario.js';

jest.setTimeout(300_000);

/**
 * Property: whatever the token's role and tenant scope, no endpoint returns a record of a
 * tenant outside that scope, nor counts one in an aggregate. By-id reads answer 200 exactly
 * when the record's tenant is in scope and 404 otherwise.
 */
describe('tenant isolation (property)', () => {
  let db: TestDatabase;
  let q: QueryApp;
  const records: CanonicalRecord[] = scenarioRecords();
  const tenantOfEvent = new Map(records.map((r) => [r.event_id, r.tenant_id]));
  const tenantsOfRequest = new Map<string, Set<string>>();
  for (const r of records)
    tenantsOfRequest.set(r.request_id, new Set([...(tenantsOfRequest.get(r.request_id) ?? []), r.tenant_id]));
  const inWindow = (r: CanonicalRecord) => r.occurred_at >= WINDOW.from && r.occurred_at < WINDOW.to;

  beforeAll(async () => {
    db = await createTestDatabase('rl_query_iso');
    q = await startQueryApp({ databaseUrl: db.url, dataDir: `/tmp/rl/${db.name}` });
    await appendRecords(q.append, records);
    expect((await q.post('/v1/evaluations', GLOBEX_EVALUATION, await q.token('admin', ['*']))).status).toBe(201);
  });

  afterAll(async () => {
    await q?.close();
    await db?.drop();
  });

  /** Every tenant a response mentions, directly or through the event and request ids it carries. */
  function tenantsMentioned(body: unknown): Set<string> {
    const out = new Set<string>();
    const visit = (v: unknown, key?: string) => {
      if (Array.isArray(v)) {
        for (const x of v) {
          if (typeof x === 'string' && key === 'sample_event_ids')
            out.add(tenantOfEvent.get(x) ?? `unknown event ${x}`);
          else if (typeof x === 'string' && (key === 'tenants' || key === 'tenant_ids')) out.add(x);
          else visit(x);
        }
      } else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) visit(x, k);
      } else if (typeof v === 'string') {
        if (key === 'tenant_id') out.add(v);
        if (key === 'event_id' || key === 'first_event_id' || key === 'example_event_id')
          out.add(tenantOfEvent.get(v) ?? `unknown event ${v}`);
        if (key === 'request_id') for (const t of tenantsOfRequest.get(v) ?? [`unknown request ${v}`]) out.add(t);
      }
    };
    visit(body);
    return out;
  }

  const scopeArb = fc
    .record({
      role: fc.constantFrom<Role>('responder', 'auditor', 'admin'),
      tenants: fc.subarray([...TENANTS, 'nobody']),
      all: fc.boolean(),
    })
    .map(({ role, tenants, all }) => ({ role, tenants: role === 'admin' && all ? ['*'] : tenants }));

  const record = fc.constantFrom(...records);
  const tenantFilter = fc.option(fc.constantFrom(...TENANTS, 'nobody'), { nil: undefined });

  it('never returns or counts a record outside the token scope, through any endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        scopeArb,
        record,
        tenantFilter,
        fc.constantFrom('gpt-smart', 'fast-chat', 'smart-router', 'code-helper'),
        async (scope, r, tenant, alias) => {
          const token = await q.token(scope.role, scope.tenants);
          const all = scope.tenants.includes('*');
          const allowed = (t: string) => all || scope.tenants.includes(t);
          const emptyScope = !all && scope.tenants.length === 0;
          const filtered = tenant !== undefined && !allowed(tenant);
          const t = tenant ? `tenant=${tenant}&` : '';

          // Lists and aggregates: 403 for a tenant outside the scope or an empty scope; otherwise only in-scope tenants.
          const lists: Array<[string, Promise<Response>]> = [
            ['decisions', q.get(`/v1/decisions?${t}limit=500`, token)],
            ['incident', q.post('/v1/incidents/reconstruct', { ...WINDOW, ...(tenant ? { tenant } : {}) }, token)],
            ['findings', q.get(`/v1/findings?${t}from=${WINDOW.from}&to=${WINDOW.to}`, token)],
            ['alias', q.get(`/v1/aliases/${alias}/history?${t}from=2026-11-20T08:00:00Z&to=${WINDOW.to}`, token)],
            ['coverage', q.get(`/v1/coverage?${t}from=${WINDOW.from}&to=${WINDOW.to}`, token)],
            ['evaluations', q.get(`/v1/evaluations?${t}`, token)],
          ];
          for (const [name, pending] of lists) {
            const res = await pending;
            // Each endpoint's shape is checked below by name.
            const body = (await res.json()) as Record<string, any>;
            if (emptyScope || filtered) {
              expect([name, res.status]).toEqual([name, 403]);
              continue;
            }
            expect([name, res.status]).toEqual([name, 200]);
            for (const seen of tenantsMentioned(body)) expect([name, seen, allowed(seen)]).toEqual([name, seen, true]);
            const visible = records.filter(
              (x) => allowed(x.tenant_id) && (tenant === undefined || x.tenant_id === tenant),
            );
            if (name === 'coverage')
              expect(body.gateways.reduce((n: number, g: { events: number }) => n + g.events, 0)).toBe(
                visible.filter(inWindow).length,
              );
            if (name === 'incident') expect(body.summary.requests).toBe(visible.filter(inWindow).length);
            if (name === 'evaluations')
              expect(
                body.evaluations.every(
                  (e: { tenant_id: string | null }) => e.tenant_id === null || allowed(e.tenant_id),
                ),
              ).toBe(true);
          }

          // By id: 200 exactly when the record's tenant is in scope, else 404 (or 403 for an empty scope).
          const byId: Array<[string, string]> = [
            ['decision', `/v1/decisions/${r.event_id}`],
            ['explain', `/v1/decisions/${r.event_id}/explain`],
            ['request', `/v1/requests/${r.request_id}`],
            ['trace', `/v1/traces/${r.trace_id}`],
          ];
          for (const [name, path] of byId) {
            const res = await q.get(path, token);
            const expected = emptyScope ? 403 : allowed(r.tenant_id) ? 200 : 404;
            expect([name, res.status]).toEqual([name, expected]);
            if (res.status === 200)
              for (const seen of tenantsMentioned(await res.json()))
                expect([name, seen, allowed(seen)]).toEqual([name, seen, true]);
          }
        },
      ),
      { numRuns: 60, seed: Number(process.env.FC_SEED ?? 20261120) },
    );
  });
});
