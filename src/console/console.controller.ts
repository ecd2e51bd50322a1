import { Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { loadOrCreateDevAuthKey } from '../auth/auth-keys.js';
import { ALL_TENANTS } from '../auth/principal.js';
import { mintToken } from '../auth/token-mint.js';
import type { AuthConfig, RuntimeConfig } from '../config/app-config.js';
import { CONFIG } from '../config/config.module.js';
import { CONSOLE_CSP, loadConsoleAssets, type ConsoleAsset } from './console-assets.js';
import { ConsoleNotBuiltError, DevTokenRefusedError } from './console.errors.js';

/** Lifetime of the console's one-click development token. */
export const DEV_TOKEN_TTL_S = 3600;

/**
 * The incident console: one page (every /console/... path answers index.html, whose script reads
 * the path: deep links), its script and style, and outside production a development token. The
 * page calls the same API with the same bearer tokens as any other client; it adds no authority.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly files = loadConsoleAssets();

  constructor(
    @Inject(CONFIG.runtime) private readonly runtime: RuntimeConfig,
    @Inject(CONFIG.auth) private readonly auth: AuthConfig,
  ) {}

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() res: Response): void {
    const asset = this.files.assets.get(name);
    if (!asset) throw new ConsoleNotBuiltError(`no console asset ${name}`);
    send(res, asset, 'no-cache');
  }

  /**
   * An admin token for every tenant, signed by the development key: what `npm run token -- --role
   * admin` prints, under the same conditions (never in production, never when tokens are verified
   * against an identity provider's JWKS).
   */
  @Post('dev-token')
  @HttpCode(200)
  async devToken(): Promise<{ token: string; expires_in: number }> {
    if (this.runtime.env === 'production') throw new DevTokenRefusedError('no development tokens in production');
    if (this.auth.jwksFile || this.auth.jwksUrl)
      throw new DevTokenRefusedError(
        'tokens are verified against AUTH_JWKS_FILE / AUTH_JWKS_URL: sign in with one of those',
      );
    const key = await loadOrCreateDevAuthKey(this.runtime.dataDir);
    const token = await mintToken(
      key,
      { subject: 'dev-console:admin', roles: ['admin'], tenants: [ALL_TENANTS] },
      { issuer: this.auth.issuer, audience: this.auth.audience, ttlSeconds: DEV_TOKEN_TTL_S },
    );
    return { token, expires_in: DEV_TOKEN_TTL_S };
  }

  /** Whether the page may offer the one-click development token. */
  @Get('config.json')
  config(): { dev_token: boolean } {
    return { dev_token: this.runtime.env !== 'production' && !this.auth.jwksFile && !this.auth.jwksUrl };
  }

  @Get()
  root(@Res() res: Response): void {
    this.page(res);
  }

  @Get('*path')
  page(@Res() res: Response): void {
    if (!this.files.index) throw new ConsoleNotBuiltError('the console was not built (npm run build)');
    send(res, this.files.index, 'no-store');
  }
}

function send(res: Response, asset: ConsoleAsset, cacheControl: string): void {
  res
    .status(200)
    .set({
      'content-type': asset.type,
      'cache-control': cacheControl,
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    })
    .send(asset.body);
}
