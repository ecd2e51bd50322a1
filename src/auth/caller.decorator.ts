import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { UnauthenticatedError } from './auth.errors.js';
import type { AuthenticatedRequest } from './jwt-auth.guard.js';
import type { Principal } from './principal.js';

/**
 * The verified caller of a @Roles route. Services take its scope as an argument rather than
 * reading a request-scoped provider, so the scope is visible in every signature.
 */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // Only reachable if a route forgot @Roles: fail closed.
  if (!principal) throw new UnauthenticatedError('missing bearer token');
  return principal;
});
