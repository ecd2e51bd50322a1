import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { AuthConfig, RuntimeConfig } from '../config/app-config.js';
import { ForbiddenError, UnauthenticatedError } from './auth.errors.js';
import { verificationKeys } from './auth-keys.js';
import { hasAnyRole, type Principal, type Role } from './principal.js';
import { TokenVerifier } from './token-verifier.js';

export const ROLES_KEY = 'routing-ledger:roles';
export const ANONYMOUS_OUTSIDE_PRODUCTION_KEY = 'routing-ledger:anonymous-outside-production';

export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * Guards routes marked with @Roles: a valid bearer token with one of the roles, or 401/403.
 * Routes without @Roles are public. The guard needs only the auth and runtime config and the Reflector,
 * so any module can host a @Roles route without importing an auth module (the ledger and
 * ingest modules do).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG.auth) private readonly auth: AuthConfig,
    @Inject(CONFIG.runtime) private readonly runtime: RuntimeConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (!roles) return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (
      header === undefined &&
      this.runtime.env !== 'production' &&
      this.reflector.getAllAndOverride<boolean>(ANONYMOUS_OUTSIDE_PRODUCTION_KEY, targets)
    ) {
      return true;
    }
    try {
      const principal = await (await verifierFor(this.auth, this.runtime)).verify(bearerToken(header));
      if (!hasAnyRole(principal, roles))
        throw new ForbiddenError(`this endpoint needs one of the roles ${roles.join(', ')}`);
      req.principal = principal;
      return true;
    } catch (e) {
      // RFC 6750 §3: a 401 names the scheme, so clients know to send a bearer token.
      if (e instanceof UnauthenticatedError)
        ctx
          .switchToHttp()
          .getResponse<Response>()
          .setHeader('WWW-Authenticate', 'Bearer realm="routing-ledger", error="invalid_token"');
      throw e;
    }
  }
}

function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthenticatedError('missing bearer token (Authorization: Bearer <jwt>)');
  const m = /^Bearer +([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header.trim());
  if (!m) throw new UnauthenticatedError('Authorization header must be "Bearer <jwt>"');
  return m[1];
}

/**
 * One verifier per configuration, shared by every guard instance (one exists per module that
 * hosts a guarded controller), so a remote JWKS is fetched and cached once. A failure to load
 * the keys (an unreadable JWKS file) is not cached: the next request tries again.
 */
const verifiers = new WeakMap<AuthConfig, Promise<TokenVerifier>>();
const log = new Logger('auth');

export function verifierFor(auth: AuthConfig, runtime: RuntimeConfig): Promise<TokenVerifier> {
  let v = verifiers.get(auth);
  if (!v) {
    v = verificationKeys(auth, runtime).then((keys) => {
      if (keys.source === 'none') log.error(`every bearer token will be refused: ${keys.detail}`);
      else log.log(`bearer tokens verified against ${keys.source} ${keys.detail}`);
      return new TokenVerifier(keys.getKey, { issuer: auth.issuer, audience: auth.audience });
    });
    v.catch(() => verifiers.delete(auth));
    verifiers.set(auth, v);
  }
  return v;
}
