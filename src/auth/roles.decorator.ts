import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ANONYMOUS_OUTSIDE_PRODUCTION_KEY, JwtAuthGuard, ROLES_KEY } from './jwt-auth.guard.js';
import type { Role } from './principal.js';

/** The route needs a bearer token carrying one of `roles` (on a class: every route of it). */
export function Roles(...roles: Role[]) {
  return applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    UseGuards(JwtAuthGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing, invalid, expired or not-yet-valid bearer token' }),
    ApiForbiddenResponse({ description: `Token lacks the role (${roles.join(', ')}) or the tenant` }),
  );
}

/**
 * With @Roles: outside NODE_ENV=production a request WITHOUT an Authorization header passes.
 * A request that presents a token still has it verified and its role checked, so a bad
 * credential is never silently accepted. Used on POST /v1/events, which development tools
 * and the demo call without a token.
 */
export function AnonymousOutsideProduction() {
  return SetMetadata(ANONYMOUS_OUTSIDE_PRODUCTION_KEY, true);
}
