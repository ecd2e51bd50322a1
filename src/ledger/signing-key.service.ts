import { Inject, Injectable, Logger } from '@nestjs/common';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { JWK } from 'jose';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { exportPrivateJwk, generateSigningKey, importSigningKey, type SigningKey } from '../domain/checkpoint/signing-key.js';

export const DEV_KEY_FILE = 'ledger-signing-key.jwk';

/**
 * The ledger's checkpoint signing key, and the public history of every key that ever signed.
 *
 * Rotation: start the service with a new key; on start-up it closes the validity window of
 * the keys before it and opens its own. Old public keys stay in the JWKS so old
 * checkpoints keep verifying.
 */
@Injectable()
export class SigningKeyService {
  private readonly log = new Logger(SigningKeyService.name);
  private key?: SigningKey;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
  ) {}

  async current(): Promise<SigningKey> {
    if (!this.key) {
      this.key = await loadOrCreateSigningKey(this.config, (m) => this.log.warn(m));
      await this.register(this.key);
    }
    return this.key;
  }

  /** Every public key that ever signed a checkpoint, with its validity window. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows: Array<{ public_jwk: JWK; valid_from: Date; valid_until: Date | null }> = await this.db.query(
      'SELECT public_jwk, valid_from, valid_until FROM signing_keys ORDER BY valid_from, kid',
    );
    return { keys: rows.map((r) => withWindow(r.public_jwk, r.valid_from, r.valid_until)) };
  }

  private async register(key: SigningKey): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
      const now = new Date();
      await m.query('UPDATE signing_keys SET valid_until = $1 WHERE valid_until IS NULL AND kid <> $2', [now, key.kid]);
      await m.query(
        `INSERT INTO signing_keys (kid, public_jwk, valid_from) VALUES ($1, $2, $3)
         ON CONFLICT (kid) DO UPDATE SET valid_until = NULL`,
        [key.kid, JSON.stringify(key.publicJwk), now],
      );
    });
  }
}

function withWindow(jwk: JWK, from: Date, until: Date | null): JWK {
  const out: Record<string, unknown> = { ...jwk, valid_from: from.toISOString() };
  if (until) out.valid_until = until.toISOString();
  return out as JWK;
}

/** Key from SIGNING_KEY_JWK, else SIGNING_KEY_FILE, else (development only) DATA_DIR/ledger-signing-key.jwk. */
export async function loadOrCreateSigningKey(config: AppConfig, warn: (m: string) => void): Promise<SigningKey> {
  if (config.signingKey.jwk) return importSigningKey(JSON.parse(config.signingKey.jwk) as JWK);
  if (config.signingKey.file) return importSigningKey(JSON.parse(await readFile(config.signingKey.file, 'utf8')) as JWK);
  const path = join(config.dataDir, DEV_KEY_FILE);
  try {
    return await importSigningKey(JSON.parse(await readFile(path, 'utf8')) as JWK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  warn(`no SIGNING_KEY_FILE or SIGNING_KEY_JWK: generating a development signing key at ${path} — do not use it in production`);
  const key = await generateSigningKey();
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(path, JSON.stringify(await exportPrivateJwk(key)), { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  // Another process may have won the race to create it: use whatever is on disk.
  return importSigningKey(JSON.parse(await readFile(path, 'utf8')) as JWK);
}
