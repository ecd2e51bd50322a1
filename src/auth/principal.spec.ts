import { hasAnyRole, principalFromClaims, queryScope, scopeIncludes } from './principal.js';

describe('principalFromClaims', () => {
  it('keeps known roles and ignores unknown ones', () => {
    expect(principalFromClaims({ sub: 'u', roles: ['responder', 'root'], tenants: ['a'] }).roles).toEqual([
      'responder',
    ]);
  });

  it('refuses a token without a roles array', () => {
    expect(() => principalFromClaims({ roles: 'admin' })).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });

  it('treats a missing tenants claim as an empty scope, not as every tenant', () => {
    expect(principalFromClaims({ roles: ['admin'] }).scope).toEqual({ kind: 'tenants', tenants: [] });
  });

  it('grants every tenant to an admin with "*"', () => {
    expect(principalFromClaims({ roles: ['admin'], tenants: ['*'] }).scope).toEqual({ kind: 'all' });
  });

  it('refuses "*" for a role other than admin', () => {
    expect(() => principalFromClaims({ roles: ['auditor'], tenants: ['*'] })).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED' }),
    );
  });

  it('refuses tenants that are not non-empty strings', () => {
    expect(() => principalFromClaims({ roles: ['auditor'], tenants: ['a', ''] })).toThrow(/tenants/);
    expect(() => principalFromClaims({ roles: ['auditor'], tenants: 'a' })).toThrow(/tenants/);
  });
});

describe('scopes', () => {
  const scoped = { kind: 'tenants', tenants: ['a', 'b'] } as const;

  it('includes only listed tenants', () => {
    expect(scopeIncludes(scoped, 'a')).toBe(true);
    expect(scopeIncludes(scoped, 'c')).toBe(false);
    expect(scopeIncludes({ kind: 'all' }, 'c')).toBe(true);
  });

  it('narrows to a requested tenant inside the scope', () => {
    expect(queryScope(scoped, 'b')).toEqual({ kind: 'tenants', tenants: ['b'] });
  });

  it('forbids a requested tenant outside the scope', () => {
    expect(() => queryScope(scoped, 'c')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('forbids querying with an empty scope', () => {
    expect(() => queryScope({ kind: 'tenants', tenants: [] })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('checks roles by intersection', () => {
    const p = principalFromClaims({ roles: ['auditor'], tenants: ['a'] });
    expect(hasAnyRole(p, ['auditor', 'admin'])).toBe(true);
    expect(hasAnyRole(p, ['ingest'])).toBe(false);
  });
});
