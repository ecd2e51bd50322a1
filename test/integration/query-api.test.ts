import { jest } from '@jest/globals';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { appendRecords, startQueryApp, type QueryApp } from '../support/query-app.js';
import {
  GLOBEX_EVALUATION,
  MULTI_EVENT_REQUEST,
  OUTAGE,
  REPOINT_AT,
  scenarioRecords,
  WINDOW,
} from '../support/query-scenario.js';

jest.setTimeout(120_000);

/**
 * Query, incident and findings APIs over seeded traffic written through the real append
 * path: they must find exactly the planted incidents and findings, and nothing in the
 * tenants the script left alone.
 */
describe('query API over seeded traffic', () => {
  let db: TestDatabase;
  let q: QueryApp;
  let admin: string;
  const records: CanonicalRecord[] = scenarioRecords();
  const inWindow = (r: CanonicalRecord) => r.occurred_at >= WINDOW.from && r.occurred_at < WINDOW.to;
  const inOutage = (r: CanonicalRecord) =>
    Date.parse(r.occurred_at) >= OUTAGE.from && Date.parse(r.occurred_at) < OUTAGE.to;

  beforeAll(async () => {
    db = await createTestDatabase('rl_query_api');
    q = await startQueryApp({ databaseUrl: db.url, dataDir: `/tmp/rl/${db.name}` });
    await appendRecords(q.append, records);
    admin = await q.token('admin', ['*']);
    const res = await q.post('/v1/evaluations', GLOBEX_EVALUATION, admin);
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await q?.close();
    await db?.drop();
  });

  // Response bodies are asserted field by field, so they are typed loosely.
  const json = async (res: Response | Promise<Response>, status = 200): Promise<any> => {
    const r = await res;
    const body = await r.json();
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(body)}`);
    return body;
  };

  describe('decisions', () => {
    it('pages through every decision, newest first, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const page: { items: Array<{ event_id: string; occurred_at: string }>; next_cursor: string | null } =
          await json(q.get(`/v1/decisions?limit=173${cursor ? `&cursor=${cursor}` : ''}`, admin));
        seen.push(...page.items.map((i) => i.event_id));
        for (let i = 1; i < page.items.length; i++)
          expect(page.items[i - 1].occurred_at >= page.items[i].occurred_at).toBe(true);
        cursor = page.next_cursor;
        pages++;
      }
      expect(pages).toBe(Math.ceil(records.length / 173));
      expect(new Set(seen).size).toBe(records.length);
      expect(seen.length).toBe(records.length);
    });

    it('filters by tenant, signal, provider, fallback and time', async () => {
      const page = await json(q.get(`/v1/decisions?tenant=eu-bank&signal=residency_violation&limit=500`, admin));
      const expected = records.filter(
        (r) => r.tenant_id === 'eu-bank' && r.region?.served === 'us-east-1' && r.outcome.status === 'success',
      );
      expect(page.items.map((i: { event_id: string }) => i.event_id).sort()).toEqual(
        expected.map((r) => r.event_id).sort(),
      );
      expect(page.items.every((i: { signals: string[] }) => i.signals.includes('residency_violation'))).toBe(true);

      const acme = await json(
        q.get(
          `/v1/decisions?tenant=acme&provider=anthropic&fallback_used=true&from=${WINDOW.from}&to=${WINDOW.to}&limit=500`,
          admin,
        ),
      );
      expect(acme.items).toHaveLength(records.filter((r) => r.tenant_id === 'acme' && inOutage(r)).length);
      expect(acme.items[0]).toMatchObject({
        tenant_id: 'acme',
        provider: 'anthropic',
        fallback_used: true,
        requested_model: 'gpt-smart',
      });
    });

    it('pages a scope of several tenants filtered on a gateway or a signal, newest first, as one list', async () => {
      // A few named tenants are walked one by one and merged: the merge must keep the global order
      // across tenants and pages, and each filter must hold in every tenant (eu-bank never uses
      // kong-ai-us; only eu-bank has residency violations). A wide scope (here padded with tenants
      // that have no records) is one walk of every tenant's records by time: the same answers.
      const scoped = ['eu-bank', 'globex', 'initech', 'acme'];
      const wide = [...scoped, ...Array.from({ length: 8 }, (_, i) => `no-records-${i}`)];
      const cases: Array<[string, (r: CanonicalRecord) => boolean]> = [
        ['gateway=kong-ai-us', (r) => r.gateway.id === 'kong-ai-us'],
        [
          'signal=residency_violation',
          (r) => r.tenant_id === 'eu-bank' && r.region?.served === 'us-east-1' && r.outcome.status === 'success',
        ],
        [`gateway=kong-ai-us&from=${WINDOW.from}&to=${WINDOW.to}`, (r) => r.gateway.id === 'kong-ai-us' && inWindow(r)],
      ];
      for (const [tenants, [filter, matches]] of [scoped, wide].flatMap((t) => cases.map((c) => [t, c] as const))) {
        const token = await q.token('responder', tenants);
        const expected = records.filter((r) => scoped.includes(r.tenant_id) && matches(r));
        expect([filter, expected.length > 7]).toEqual([filter, true]); // more than a page of 7
        const whole = await json(q.get(`/v1/decisions?${filter}&limit=500`, token));
        const items: Array<{ event_id: string; occurred_at: string }> = whole.items;
        expect([filter, items.map((i) => i.event_id).sort()]).toEqual([filter, expected.map((r) => r.event_id).sort()]);
        for (let i = 1; i < items.length; i++)
          expect([filter, items[i - 1].occurred_at >= items[i].occurred_at]).toEqual([filter, true]);
        const paged: string[] = [];
        let cursor: string | null = '';
        while (cursor !== null) {
          const page: { items: Array<{ event_id: string }>; next_cursor: string | null } = await json(
            q.get(`/v1/decisions?${filter}&limit=7${cursor ? `&cursor=${cursor}` : ''}`, token),
          );
          paged.push(...page.items.map((i) => i.event_id));
          cursor = page.next_cursor;
        }
        expect([filter, paged]).toEqual([filter, items.map((i) => i.event_id)]);
      }
    });

    it('refuses bad cursors, bad windows and unknown parameters with problem details', async () => {
      for (const path of [
        '/v1/decisions?cursor=not-a-cursor!',
        `/v1/decisions?cursor=${Buffer.from('{"v":1,"t":"x","id":"y"}').toString('base64url')}`,
      ]) {
        const res = await q.get(path, admin);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(((await res.json()) as { type: string }).type).toBe('urn:routing-ledger:error:bad_cursor');
      }
      expect((await q.get(`/v1/decisions?from=${WINDOW.to}&to=${WINDOW.from}`, admin)).status).toBe(400);
      expect((await q.get('/v1/decisions?colour=blue', admin)).status).toBe(400);
      expect((await q.get('/v1/decisions?limit=100000', admin)).status).toBe(400);
      expect((await q.get('/v1/decisions?signal=made_up', admin)).status).toBe(400);
    });

    it('returns one decision with its record and a receipt link that resolves', async () => {
      const d = await json(q.get('/v1/decisions/evt-eu-bank-9999-b', admin));
      expect(d).toMatchObject({
        event_id: 'evt-eu-bank-9999-b',
        tenant_id: 'eu-bank',
        record: { request_id: MULTI_EVENT_REQUEST },
        links: { receipt: '/v1/records/evt-eu-bank-9999-b/receipt' },
      });
      expect((await q.get(d.links.receipt)).status).toBe(200);
      expect((await q.get('/v1/decisions/no-such-event', admin)).status).toBe(404);
    });

    it('returns every event of a request and of a trace in order, with the attempt chain', async () => {
      const r = await json(q.get(`/v1/requests/${MULTI_EVENT_REQUEST}`, admin));
      expect(r.events.map((e: { event_id: string }) => e.event_id)).toEqual([
        'evt-eu-bank-9999-a',
        'evt-eu-bank-9999-b',
      ]);
      expect(
        r.attempt_chain.map(
          (s: { step: number; provider: string; status: string }) => `${s.step}:${s.provider}:${s.status}`,
        ),
      ).toEqual(['1:openai:error', '2:openai:error', '3:anthropic:success']);
      const t = await json(
        q.get(`/v1/traces/${records.find((x) => x.request_id === MULTI_EVENT_REQUEST)!.trace_id}`, admin),
      );
      expect(t.events).toHaveLength(2);
      expect((await q.get('/v1/requests/nope', admin)).status).toBe(404);
    });

    it('explains a decision: requested → tried → served, why, checks, in plain words', async () => {
      const e = await json(q.get('/v1/decisions/evt-eu-bank-9999-b/explain', admin));
      expect(e.requested).toEqual({ model: 'gpt-smart' });
      expect(e.served).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4', region: 'us-east-1' });
      expect(e.findings.map((f: { signal: string }) => f.signal)).toEqual([
        'fallback',
        'silent_substitution',
        'residency_violation',
        'policy_bypass',
      ]);
      expect(e.text).toContain('It tried 2 target(s): 1) openai gpt-4o failed: provider_unavailable (HTTP 503)');
      expect(e.text).toContain(
        'Policy bypass on the fallback path: required check(s) did not run: pii-redaction (skipped).',
      );
    });
  });

  describe('incident reconstruction', () => {
    let incident: Record<string, any>;

    beforeAll(async () => {
      incident = await json(q.post('/v1/incidents/reconstruct', { ...WINDOW, provider: 'openai' }, admin));
    });

    it('finds exactly the tenants and targets hit by the openai outage', () => {
      const involved = records.filter(
        (r) => inWindow(r) && (r.provider === 'openai' || r.attempts?.items?.some((a) => a.provider === 'openai')),
      );
      const hit = involved.filter((r) => inOutage(r) && ['eu-bank', 'acme'].includes(r.tenant_id));
      expect(incident.summary).toEqual({
        requests: involved.length,
        affected_requests: hit.length,
        fallbacks: hit.filter((r) => r.fallback_used === true).length,
        failed_requests: 1,
        affected_tenants: ['acme', 'eu-bank'],
      });
      expect(incident.affected_by_target).toEqual([
        {
          tenant_id: 'eu-bank',
          requested_alias: 'gpt-smart',
          served: { provider: 'anthropic', model: 'claude-sonnet-4' },
          requests: 17,
          affected: 17,
          fallbacks: 17,
          failed: 0,
        },
        {
          tenant_id: 'acme',
          requested_alias: 'gpt-smart',
          served: { provider: 'anthropic', model: 'claude-sonnet-4' },
          requests: 12,
          affected: 12,
          fallbacks: 12,
          failed: 0,
        },
        {
          tenant_id: 'eu-bank',
          requested_alias: 'gpt-smart',
          served: { provider: null, model: null },
          requests: 1,
          affected: 1,
          fallbacks: 0,
          failed: 1,
        },
      ]);
    });

    it('reports the fallback chain and error classes', () => {
      expect(incident.fallback_chains).toEqual([
        {
          steps: [
            { provider: 'openai', model: 'gpt-4o', region: null, status: 'error', error_class: 'provider_unavailable' },
            {
              provider: 'anthropic',
              model: 'claude-sonnet-4',
              region: 'us-east-1',
              status: 'success',
              error_class: null,
            },
          ],
          requests: 29,
          tenants: ['acme', 'eu-bank'],
          example_event_id: expect.any(String),
        },
      ]);
      expect(incident.error_classes).toEqual([
        { source: 'attempt', provider: 'openai', error_class: 'provider_unavailable', count: 30 },
        { source: 'outcome', provider: null, error_class: 'provider_unavailable', count: 1 },
      ]);
    });

    it('compares cost and latency with the hour before, and draws a per-minute timeline', () => {
      expect(incident.baseline).toEqual({ from: '2026-11-20T09:00:00.000Z', to: WINDOW.from });
      expect(incident.deltas.requests.baseline).toBe(600);
      expect(incident.deltas.affected_rate.baseline).toBe(0);
      expect(incident.deltas.latency_ms.delta.avg).toBeGreaterThan(0);
      const [usd] = incident.deltas.cost;
      expect(usd.currency).toBe('USD');
      expect(Number(usd.delta_per_request)).toBeGreaterThan(0);
      expect(typeof usd.window.total).toBe('string');
      expect(incident.timeline).toHaveLength(10);
      const hitMinutes = incident.timeline
        .filter((m: { affected: number }) => m.affected > 0)
        .map((m: { minute: string }) => m.minute.slice(11, 16));
      expect(hitMinutes).toEqual(['10:02', '10:03', '10:04', '10:05']);
    });

    it('lists affected requests with links to their explanation', () => {
      expect(incident.affected_requests).toHaveLength(30);
      expect(incident.affected_requests_truncated).toBe(false);
      expect(incident.affected_requests[0].links.explain).toMatch(/^\/v1\/decisions\/.+\/explain$/);
      expect(new Set(incident.affected_requests.map((a: { tenant_id: string }) => a.tenant_id))).toEqual(
        new Set(['acme', 'eu-bank']),
      );
    });

    it('narrows to one tenant, and finds nothing for an untouched one', async () => {
      const acme = await json(
        q.post('/v1/incidents/reconstruct', { ...WINDOW, provider: 'openai', tenant: 'acme' }, admin),
      );
      expect(acme.summary.affected_tenants).toEqual(['acme']);
      const initech = await json(q.post('/v1/incidents/reconstruct', { ...WINDOW, tenant: 'initech' }, admin));
      expect(initech.summary).toMatchObject({ affected_requests: 0, affected_tenants: [] });
      expect(initech.fallback_chains).toEqual([]);
    });

    it('reads a window that cuts minutes in whole minutes, says so, and counts exactly the records of what it read', async () => {
      const from = '2026-11-20T10:02:30.500Z';
      const to = '2026-11-20T10:04:45Z';
      const cut = await json(q.post('/v1/incidents/reconstruct', { from, to, provider: 'openai' }, admin));
      expect(cut.requested_window).toEqual({ from, to: '2026-11-20T10:04:45.000Z' });
      expect(cut.window).toEqual({ from: '2026-11-20T10:02:00.000Z', to: '2026-11-20T10:05:00.000Z' });
      const at = (t: string) => Date.parse(t);
      const involvedIn = (a: number, b: number) =>
        records.filter(
          (r) =>
            at(r.occurred_at) >= a &&
            at(r.occurred_at) < b &&
            (r.provider === 'openai' || r.attempts?.items?.some((x) => x.provider === 'openai')),
        );
      const involved = involvedIn(at(cut.window.from), at(cut.window.to));
      expect(involved.length).toBeGreaterThan(0);
      expect(cut.summary.requests).toBe(involved.length);
      expect(cut.summary.fallbacks).toBe(involved.filter((r) => r.fallback_used === true).length);
      expect(cut.timeline.reduce((n: number, m: { requests: number }) => n + m.requests, 0)).toBe(involved.length);
      expect(cut.timeline.map((m: { minute: string }) => m.minute.slice(11, 16))).toEqual(['10:02', '10:03', '10:04']);
      expect(cut.deltas.requests.baseline).toBe(
        involvedIn(at(cut.window.from) - 3_600_000, at(cut.window.from)).length,
      );
      const w = cut.deltas.latency_ms.window;
      expect(w.p95_bucket_ms[0]).toBeLessThanOrEqual(w.p95);
      expect(cut.affected_requests.length).toBe(Math.min(100, cut.summary.affected_requests));
      expect(
        cut.affected_requests.every(
          (a: { occurred_at: string }) =>
            at(a.occurred_at) >= at(cut.window.from) && at(a.occurred_at) < at(cut.window.to),
        ),
      ).toBe(true);
    });

    it('refuses windows that are inverted or longer than a day', async () => {
      expect((await q.post('/v1/incidents/reconstruct', { from: WINDOW.to, to: WINDOW.from }, admin)).status).toBe(400);
      expect(
        (await q.post('/v1/incidents/reconstruct', { from: '2026-11-18T00:00:00Z', to: WINDOW.to }, admin)).status,
      ).toBe(400);
      expect((await q.post('/v1/incidents/reconstruct', { from: 'yesterday', to: WINDOW.to }, admin)).status).toBe(400);
    });
  });

  describe('findings', () => {
    let findings: Array<Record<string, any>>;

    beforeAll(async () => {
      findings = (await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}`, admin))).findings;
    });

    it('finds exactly the planted findings, and none in untouched tenants', () => {
      expect(findings.map((f) => `${f.tenant_id} ${f.type}/${f.kind} ${f.alias}`).sort()).toEqual([
        'eu-bank policy_bypass/required_check_skipped_on_fallback gpt-smart',
        'eu-bank residency_violation/residency_violation gpt-smart',
        'eu-bank silent_degradation/silent_degradation gpt-smart',
        'globex alias_change/alias_change fast-chat',
        'globex evaluation_drift/task_mix_shift fast-chat',
        'globex evaluation_drift/unevaluated_category fast-chat',
        'globex evaluation_drift/unevaluated_version fast-chat',
        'stark cost_biased_routing/price_driven_concentration budget-chat',
        'umbrella cost_biased_routing/cheaper_target_under_quality_objective smart-router',
        'umbrella cost_biased_routing/difficult_minority smart-router',
      ]);
    });

    it('describes the outage fallout for eu-bank', () => {
      const residency = findings.find((f) => f.type === 'residency_violation')!;
      expect(residency).toMatchObject({
        severity: 'high',
        requests: 17,
        evidence: {
          required_regions: ['eu'],
          served_region: 'us-east-1',
          provider: 'anthropic',
          on_fallback_path: true,
        },
      });
      expect(residency.summary).toBe(
        '17 request(s) of tenant eu-bank for "gpt-smart" that must stay in eu were served in us-east-1 by anthropic, on the fallback path.',
      );
      expect(findings.find((f) => f.type === 'policy_bypass')!.evidence).toMatchObject({
        check: 'pii-redaction',
        result: 'skipped',
        on_fallback_path: true,
      });
      expect(findings.find((f) => f.type === 'silent_degradation')!.evidence).toMatchObject({
        first_choice: { provider: 'openai', model: 'gpt-4o' },
        served: { provider: 'anthropic', model: 'claude-sonnet-4' },
      });
    });

    it('dates the alias repoint and names both targets', () => {
      const change = findings.find((f) => f.type === 'alias_change')!;
      expect(change.first_seen).toBe(REPOINT_AT.replace('.000Z', '.300000Z'));
      expect(change.evidence).toMatchObject({
        from: { version: 'gpt-4o-mini-2024-07-18' },
        to: { version: 'gpt-4o-mini-2025-01-31' },
        previous_still_served: false,
      });
    });

    it('finds the price-driven routing of stark piling onto one provider', () => {
      expect(findings.find((f) => f.kind === 'price_driven_concentration')).toMatchObject({
        tenant_id: 'stark',
        severity: 'low',
        requests: 40,
        evidence: { top_provider: 'groq', share: 0.95, providers_available: 2 },
      });
    });

    it('finds the cheap path umbrella keeps legal requests on', () => {
      const cohort = findings.find((f) => f.kind === 'difficult_minority')!;
      expect(cohort.evidence).toMatchObject({
        task_category: 'legal',
        cheap_path_requests: 27,
        cheap_path_share: 0.9,
        rest_bad_rate: 0,
      });
      expect(findings.find((f) => f.kind === 'cheaper_target_under_quality_objective')).toMatchObject({
        requests: 42,
        evidence: { chosen: { model: 'gpt-4o-mini' }, premium: { model: 'gpt-4o' } },
      });
    });

    it('filters by type, tenant, alias and severity', async () => {
      const byType = await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}&type=evaluation_drift`, admin));
      expect(byType.findings.map((f: { kind: string }) => f.kind).sort()).toEqual([
        'task_mix_shift',
        'unevaluated_category',
        'unevaluated_version',
      ]);
      expect(byType.counts).toEqual({ evaluation_drift: 3 });
      for (const tenant of ['acme', 'initech', 'hooli']) {
        expect(
          (await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}&tenant=${tenant}`, admin))).findings,
        ).toEqual([]);
      }
      const high = await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}&min_severity=high`, admin));
      expect(high.findings.map((f: { type: string }) => f.type).sort()).toEqual([
        'policy_bypass',
        'residency_violation',
      ]);
      expect(
        (await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}&alias=code-helper`, admin))).findings,
      ).toEqual([]);
      // Before the incident, nothing.
      expect(
        (await json(q.get(`/v1/findings?from=2026-11-20T09:00:00Z&to=${WINDOW.from}&type=residency_violation`, admin)))
          .findings,
      ).toEqual([]);
    });

    it('pages findings with limit and cursor: every finding once, in the unpaged order, the window kept', async () => {
      const all = await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}`, admin));
      expect(all.findings.length).toBeGreaterThan(3);
      const seen: unknown[] = [];
      let page = await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}&limit=3`, admin));
      for (let pages = 1; ; pages++) {
        expect(page.findings.length).toBeLessThanOrEqual(3);
        expect(page.counts).toEqual(all.counts);
        expect(page.window).toEqual(all.window);
        seen.push(...page.findings);
        if (page.next_cursor === null) break;
        expect(pages).toBeLessThan(20);
        // The cursor carries the window: no from/to needed on the next call.
        page = await json(q.get(`/v1/findings?limit=3&cursor=${page.next_cursor}`, admin));
      }
      expect(seen).toEqual(all.findings);
      expect((await q.get(`/v1/findings?limit=3&cursor=not-a-cursor`, admin)).status).toBe(400);
      const first = await json(q.get(`/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}&limit=3`, admin));
      expect(
        (
          await q.get(
            `/v1/findings?from=2026-11-20T09:00:00Z&to=${WINDOW.to}&limit=3&cursor=${first.next_cursor}`,
            admin,
          )
        ).status,
      ).toBe(400);
      expect((await q.get(`/v1/findings?limit=0`, admin)).status).toBe(400);
    });

    it('draws the alias history per tenant', async () => {
      const h = await json(q.get(`/v1/aliases/fast-chat/history?from=2026-11-20T08:00:00Z&to=${WINDOW.to}`, admin));
      expect(
        h.tenants.map((t: { tenant_id: string; change_points: unknown[] }) => [t.tenant_id, t.change_points.length]),
      ).toEqual([
        ['globex', 1],
        ['hooli', 0],
      ]);
      const globex = h.tenants[0];
      expect(globex.targets.map((t: { version: string; requests: number }) => [t.version, t.requests])).toEqual([
        ['gpt-4o-mini-2024-07-18', 130],
        ['gpt-4o-mini-2025-01-31', 10],
      ]);
    });

    it('measures coverage per gateway', async () => {
      const c = await json(q.get(`/v1/coverage?from=${WINDOW.from}&to=${WINDOW.to}`, admin));
      expect(c.gateways.map((g: { gateway_id: string }) => g.gateway_id)).toEqual([
        'kong-ai-us',
        'litellm-prod-eu',
        'openrouter-eu',
        'portkey-edge',
      ]);
      const eu = c.gateways.find((g: { gateway_id: string }) => g.gateway_id === 'litellm-prod-eu');
      expect(eu).toMatchObject({
        events: 42,
        unknown_attempts: { count: 0, share: 0 },
        missing_version: { count: 1 },
        missing_region: { count: 0 },
      });
    });
  });

  it('documents every endpoint in OpenAPI, from the DTOs, behind bearer auth', () => {
    const doc = SwaggerModule.createDocument(q.app, new DocumentBuilder().addBearerAuth().build());
    for (const path of [
      '/v1/decisions',
      '/v1/decisions/{eventId}',
      '/v1/decisions/{eventId}/explain',
      '/v1/requests/{requestId}',
      '/v1/traces/{traceId}',
      '/v1/incidents/reconstruct',
      '/v1/findings',
      '/v1/aliases/{alias}/history',
      '/v1/coverage',
      '/v1/evaluations',
    ]) {
      expect(doc.paths[path]).toBeDefined();
    }
    const list = doc.paths['/v1/decisions'].get!;
    expect(list.security).toEqual([{ bearer: [] }]);
    expect((list.parameters as Array<{ name: string }>).map((x) => x.name)).toEqual(
      expect.arrayContaining(['tenant', 'from', 'to', 'signal', 'cursor', 'limit']),
    );
    expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(['401', '403']));
    expect(doc.components?.schemas?.ReconstructIncidentDto).toBeDefined();
    expect(doc.components?.schemas?.RegisterEvaluationDto).toBeDefined();
  });

  describe('evaluations', () => {
    it('lists the registered evaluation to readers of its tenant', async () => {
      const responder = await q.token('responder', ['globex']);
      const list = await json(q.get('/v1/evaluations?alias=fast-chat', responder));
      expect(list.evaluations).toHaveLength(1);
      expect(list.evaluations[0]).toMatchObject({ ...GLOBEX_EVALUATION, registered_by: 'test' });
      expect((await json(q.get('/v1/evaluations', await q.token('responder', ['acme'])))).evaluations).toEqual([]);
    });

    it('validates registrations and limits them to admins of the tenant', async () => {
      const scopedAdmin = await q.token('admin', ['globex']);
      expect((await q.post('/v1/evaluations', { ...GLOBEX_EVALUATION, accuracy_result: 1.5 }, admin)).status).toBe(400);
      expect((await q.post('/v1/evaluations', { ...GLOBEX_EVALUATION, model_versions: [] }, admin)).status).toBe(400);
      expect((await q.post('/v1/evaluations', { ...GLOBEX_EVALUATION, extra: 1 }, admin)).status).toBe(400);
      expect((await q.post('/v1/evaluations', GLOBEX_EVALUATION, await q.token('auditor', ['globex']))).status).toBe(
        403,
      );
      expect((await q.post('/v1/evaluations', { ...GLOBEX_EVALUATION, tenant_id: 'acme' }, scopedAdmin)).status).toBe(
        403,
      );
      const { tenant_id: _t, ...global } = GLOBEX_EVALUATION;
      expect((await q.post('/v1/evaluations', global, scopedAdmin)).status).toBe(403);
    });
  });
});
