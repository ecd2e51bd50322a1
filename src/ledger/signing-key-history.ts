import type { JWK } from 'jose';
import type { RowQuery } from './merkle-node-store.js';

/** The development signing key's file name in DATA_DIR (never for production). */
export const DEV_KEY_FILE = 'ledger-signing-key.jwk';

/**
 * Every public key that ever signed a checkpoint, with its validity window (the ledger's JWKS).
 * A plain function over a query so that the service (SigningKeyService) and the standalone
 * export, which runs without Nest and TypeORM, read it the same way.
 */
export async function readJwks(query: RowQuery): Promise<{ keys: JWK[] }> {
  const rows = (await query(
    'SELECT public_jwk, valid_from, valid_until FROM signing_keys ORDER BY valid_from, kid',
    [],
  )) as Array<{
    public_jwk: JWK;
    valid_from: Date;
    valid_until: Date | null;
  }>;
  return { keys: rows.map((r) => withWindow(r.public_jwk, r.valid_from, r.valid_until)) };
}

function withWindow(jwk: JWK, from: Date, until: Date | null): JWK {
  const out: Record<string, unknown> = { ...jwk, valid_from: from.toISOString() };
  if (until) out.valid_until = until.toISOString();
  return out as JWK;
}
