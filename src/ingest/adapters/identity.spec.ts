import { resolveTenant } from './identity.js';

describe('resolveTenant', () => {
  const raw = (headers: Record<string, string>) => ({ payload: Buffer.from('{}'), headers, receivedAt: new Date() });
  const resolve = (candidates: Array<[string, unknown]>, headers: Record<string, string>) => {
    const notes: string[] = [];
    return { tenant: resolveTenant(raw(headers), candidates, 'test', notes), notes };
  };
  const all = {
    'x-routing-tenant': 'header-co',
    'x-routing-token-tenant': 'token-co',
    'x-routing-default-tenant': 'default-co',
  };

  it('takes the event, then x-routing-tenant, then the token tenant, then the default, each with a note but the first', () => {
    expect(resolve([['team_id', 'event-co']], all)).toEqual({ tenant: 'event-co', notes: [] });
    expect(resolve([['team_id', undefined]], all).tenant).toBe('header-co');
    const { 'x-routing-tenant': _h, ...noHeader } = all;
    expect(resolve([], noHeader)).toEqual({
      tenant: 'token-co',
      notes: ['tenant_id from the ingest token, whose only tenant it is'],
    });
    const { 'x-routing-token-tenant': _t, ...onlyDefault } = noHeader;
    expect(resolve([], onlyDefault).notes[0]).toContain('DEFAULT_TENANT "default-co"');
  });

  it("takes a gateway's registered default tenant after the token and before DEFAULT_TENANT", () => {
    const registered = (gatewayId: string) => (gatewayId === 'litellm-solo' ? 'solo-co' : undefined);
    const at = (headers: Record<string, string>, gateway: string) => {
      const notes: string[] = [];
      const event = { ...raw(headers), gatewayDefaultTenant: registered };
      return { tenant: resolveTenant(event, [], 'test', notes, gateway), notes };
    };
    const { 'x-routing-tenant': _h, 'x-routing-token-tenant': _t, ...onlyDefault } = all;
    expect(at(onlyDefault, 'litellm-solo')).toEqual({
      tenant: 'solo-co',
      notes: ['tenant_id is the default tenant registered for gateway "litellm-solo": the event named none'],
    });
    // Another gateway has none registered: DEFAULT_TENANT, as before.
    expect(at(onlyDefault, 'other-gw').tenant).toBe('default-co');
    // The token's only tenant still comes first.
    const { 'x-routing-tenant': _h2, ...withToken } = all;
    expect(at(withToken, 'litellm-solo').tenant).toBe('token-co');
  });

  it('is NO_TENANT when nothing names one, and never takes an e-mail address', () => {
    expect(() => resolve([], {})).toThrow(expect.objectContaining({ code: 'NO_TENANT' }) as Error);
    expect(() => resolve([['user', 'someone@example.com']], { 'x-routing-token-tenant': 'x@example.com' })).toThrow(
      expect.objectContaining({ code: 'NO_TENANT' }) as Error,
    );
  });
});
