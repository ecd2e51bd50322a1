import { ForbiddenError, UnauthenticatedError } from './auth.errors.js';

/**
 * Who is calling and what they may read, derived from verified JWT claims. Pure: the guard
 * verifies the signature, this decides what the claims mean.
 *
 * Claims: `roles` (array of role names; unknown names are ignored) and `tenants` (array of
 * tenant ids). `"*"` in `tenants` means every tenant and is honoured for `admin` only; any
 * other role presenting it is refused, because a token that claims more than its role may
 * hold is a misissued token. A missing `tenants` claim is an empty scope, never "all".
 */

/** `disclosure`: a product's backend fetching signed disclosures of its own tenant's requests, nothing else. */
export const ROLES = ['ingest', 'responder', 'auditor', 'admin', 'disclosure'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that read decisions, incidents and findings. */
export const READ_ROLES: readonly Role[] = ['responder', 'auditor', 'admin'];

export const ALL_TENANTS = '*';
/** Bounds the claim so a token cannot make every query carry a huge array. */
export const MAX_TENANTS_IN_TOKEN = 1000;

export type TenantScope = { readonly kind: 'all' } | { readonly kind: 'tenants'; readonly tenants: readonly string[] };

export interface Principal {
  subject: string;
  roles: Role[];
  scope: TenantScope;
}

export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const roles = claims.roles;
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw new UnauthenticatedError('token has no "roles" array');
  }
  const known = ROLES.filter((r) => roles.includes(r));
  const tenants = claims.tenants ?? [];
  if (!Array.isArray(tenants) || !tenants.every((t) => typeof t === 'string' && t.length > 0)) {
    throw new UnauthenticatedError('"tenants" claim must be an array of tenant ids');
  }
  if (tenants.length > MAX_TENANTS_IN_TOKEN)
    throw new UnauthenticatedError(`"tenants" claim lists more than ${MAX_TENANTS_IN_TOKEN} tenants`);
  let scope: TenantScope;
  if (tenants.includes(ALL_TENANTS)) {
    if (!known.includes('admin')) throw new UnauthenticatedError('"tenants": ["*"] is allowed for the admin role only');
    scope = { kind: 'all' };
  } else {
    scope = { kind: 'tenants', tenants: [...new Set(tenants as string[])].sort() };
  }
  return { subject: typeof claims.sub === 'string' ? claims.sub : 'unknown', roles: known, scope };
}

export function hasAnyRole(p: Principal, allowed: readonly Role[]): boolean {
  return p.roles.some((r) => allowed.includes(r));
}

export function scopeIncludes(scope: TenantScope, tenant: string): boolean {
  return scope.kind === 'all' || scope.tenants.includes(tenant);
}

/**
 * The scope a query runs with: the caller's scope, narrowed to `tenant` when the caller
 * filters on one. Asking for a tenant outside the scope is a 403 (the caller named it, so
 * nothing leaks by saying no); an empty scope is also a 403, rather than empty results that
 * would read as "nothing happened".
 */
export function queryScope(scope: TenantScope, tenant?: string): TenantScope {
  if (tenant !== undefined) {
    if (!scopeIncludes(scope, tenant))
      throw new ForbiddenError(`tenant ${JSON.stringify(tenant)} is outside your token's scope`);
    return { kind: 'tenants', tenants: [tenant] };
  }
  if (scope.kind === 'tenants' && scope.tenants.length === 0)
    throw new ForbiddenError('your token is scoped to no tenant');
  return scope;
}
