import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigSections } from '../config/app-config.js';
import { loadOrCreateDevAuthKey } from '../auth/auth-keys.js';
import { ALL_TENANTS, ROLES, type Role } from '../auth/principal.js';
import { DEFAULT_TOKEN_TTL, mintToken, parseTtl } from '../auth/token-mint.js';
import { UsageError } from './usage-error.js';

/**
 * `npm run --silent token -- --role admin [--tenants a,b] [--ttl 1h] [--sub name]`
 * Prints one JWT on stdout, signed by the development key the service trusts when it runs
 * with the same DATA_DIR (and no AUTH_JWKS_*). `--role` may list several roles, comma-separated.
 * An admin without --tenants spans every tenant; other roles must name their tenants.
 * Exit 2 on a usage or configuration error.
 */
async function main(): Promise<string> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      tenants: { type: 'string' },
      ttl: { type: 'string', default: DEFAULT_TOKEN_TTL },
      sub: { type: 'string' },
    },
    strict: true,
  });
  const roles = (values.role ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (roles.length === 0) throw new UsageError(`--role is required: one or more of ${ROLES.join(', ')}`);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length) throw new UsageError(`unknown role ${unknown.join(', ')}: expected ${ROLES.join(', ')}`);
  let tenants = (values.tenants ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tenants.length === 0) {
    if (!roles.includes('admin')) throw new UsageError('--tenants is required unless --role includes admin');
    tenants = [ALL_TENANTS];
  }
  const ttlSeconds = (() => {
    try {
      return parseTtl(values.ttl!);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();

  if (process.env.NODE_ENV === 'production')
    throw new UsageError('refusing to mint a development token with NODE_ENV=production: use your identity provider');
  // DATA_DIR (where the development key lives) and AUTH_*: no database, no Kafka.
  const config = loadConfigSections(['runtime', 'auth']);
  if (config.auth.jwksFile || config.auth.jwksUrl) {
    throw new UsageError(
      'the service verifies tokens against AUTH_JWKS_FILE / AUTH_JWKS_URL, not the development key: mint tokens with that issuer',
    );
  }
  const key = await loadOrCreateDevAuthKey(config.runtime.dataDir, (m) => process.stderr.write(`${m}\n`));
  return mintToken(
    key,
    { subject: values.sub ?? `dev-cli:${roles.join('+')}`, roles: roles as Role[], tenants },
    { issuer: config.auth.issuer, audience: config.auth.audience, ttlSeconds },
  );
}

main().then(
  (token) => process.stdout.write(`${token}\n`),
  (e: Error) => {
    process.stderr.write(
      e instanceof UsageError ||
        e instanceof ConfigError ||
        (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `token: ${e.message}\n`
        : `token failed: ${e.stack ?? e.message}\n`,
    );
    process.exit(2);
  },
);
