import { jest } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { mintToken } from '../../src/auth/token-mint.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { fixtureJson } from '../../src/ingest/adapters/fixtures/fixture-kit.js';
import { fixture } from '../support/adapter-fixtures.js';
import {
  adminToken,
  ledgerRecords,
  post,
  quarantineRows,
  startLedgerRun,
  waitConsumed,
  type LedgerRun,
} from '../support/ledger-harness.js';

jest.setTimeout(180_000);

/**
 * Single-tenant gateways (a LiteLLM proxy without teams, an OTel SDK) send events that name no
 * tenant. The ledger takes, in order: the event, x-routing-tenant, the ingest token's only tenant,
 * DEFAULT_TENANT; each with a note saying where it came from. Nothing is quarantined or dropped.
 */
describe('tenant resolution for events that name no tenant', () => {
  let run: LedgerRun;
  const withoutTeam = (requestId: string) => ({
    ...fixtureJson<Record<string, unknown>>('litellm', 'slp-fallback-served.json'),
    metadata: {},
    id: requestId,
    trace_id: requestId,
  });

  beforeAll(async () => {
    run = await startLedgerRun({ env: { DEFAULT_TENANT: 'solo-default' } });
  });

  afterAll(async () => {
    await run?.stop();
  });

  it('files LiteLLM events without a team under the token tenant, the header, or DEFAULT_TENANT, and says which', async () => {
    await mkdir(run.env.DATA_DIR, { recursive: true });
    const key = await loadOrCreateDevAuthKey(run.env.DATA_DIR);
    const token = (tenants: string[]) =>
      mintToken(
        key,
        { subject: 'litellm-proxy', roles: ['ingest'], tenants },
        { issuer: 'routing-ledger', audience: 'routing-ledger-api', ttlSeconds: 600 },
      );
    const url = `${run.baseUrl}/v1/ingest/litellm`;
    const gw = { 'x-routing-gateway-id': 'litellm-solo' };
    const sends: Array<[string, Record<string, string>]> = [
      ['call-token', { ...gw, authorization: `Bearer ${await token(['solo-co'])}` }],
      [
        'call-header',
        { ...gw, 'x-routing-tenant': 'from-header', authorization: `Bearer ${await token(['solo-co'])}` },
      ],
      ['call-two-tenants', { ...gw, authorization: `Bearer ${await token(['a-co', 'b-co'])}` }],
      // A sender cannot claim a token tenant: the header is the ledger's own.
      ['call-spoofed', { ...gw, 'x-routing-token-tenant': 'spoofed', 'x-routing-default-tenant': 'spoofed-too' }],
    ];
    for (const [id, headers] of sends) {
      const res = await post(url, JSON.stringify([withoutTeam(id)]), headers);
      expect({ id, status: res.status, quarantined: res.body.quarantined }).toEqual({
        id,
        status: 202,
        quarantined: undefined,
      });
    }
    const otlp = await post(`${run.baseUrl}/v1/traces`, fixture('otel/otlp-missing.json').bytes, {
      'x-routing-gateway-id': 'otel-sdk',
    });
    expect(otlp.status).toBe(200);
    expect(otlp.body.partialSuccess.rejectedSpans).toBeUndefined();

    await waitConsumed(run);
    const records = await ledgerRecords(run.db);
    const litellm = (id: string) =>
      records.find((r) => r.gateway.id === 'litellm-solo' && r.request_id === id) as CanonicalRecord;
    const noteOf = (r: CanonicalRecord) => (r.normalization_notes ?? []).find((n) => n.startsWith('tenant_id'));
    expect([litellm('call-token').tenant_id, noteOf(litellm('call-token'))]).toEqual([
      'solo-co',
      'tenant_id from the ingest token, whose only tenant it is',
    ]);
    expect([litellm('call-header').tenant_id, noteOf(litellm('call-header'))]).toEqual([
      'from-header',
      'tenant_id from the x-routing-tenant header',
    ]);
    for (const id of ['call-two-tenants', 'call-spoofed']) {
      expect(litellm(id).tenant_id).toBe('solo-default');
      expect(noteOf(litellm(id))).toContain('DEFAULT_TENANT "solo-default"');
    }
    const spans = records.filter((r) => r.gateway.id === 'otel-sdk');
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((r) => r.tenant_id === 'solo-default')).toBe(true);
    expect(await quarantineRows(run.db)).toEqual([]);
  });

  it("files a registered gateway's tenantless events under its default tenant, before DEFAULT_TENANT", async () => {
    const admin = await adminToken(run);
    const registered = await post(
      `${run.baseUrl}/v1/gateways`,
      JSON.stringify({ id: 'litellm-registered', kind: 'litellm', default_tenant: 'registered-co' }),
      { authorization: `Bearer ${admin}` },
    );
    expect(registered.status).toBeLessThan(300);
    expect(registered.body.default_tenant).toBe('registered-co');
    const key = await loadOrCreateDevAuthKey(run.env.DATA_DIR);
    const twoTenants = await mintToken(
      key,
      { subject: 'litellm-proxy', roles: ['ingest'], tenants: ['a-co', 'b-co'] },
      { issuer: 'routing-ledger', audience: 'routing-ledger-api', ttlSeconds: 600 },
    );
    const res = await post(`${run.baseUrl}/v1/ingest/litellm`, JSON.stringify([withoutTeam('call-registered')]), {
      'x-routing-gateway-id': 'litellm-registered',
      authorization: `Bearer ${twoTenants}`,
    });
    expect(res.status).toBe(202);
    await waitConsumed(run);
    const record = (await ledgerRecords(run.db)).find((r) => r.request_id === 'call-registered');
    expect(record?.tenant_id).toBe('registered-co');
    expect(record?.normalization_notes).toContain(
      'tenant_id is the default tenant registered for gateway "litellm-registered": the event named none',
    );
  });
});
