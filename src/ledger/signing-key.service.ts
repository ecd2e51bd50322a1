import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { JWK } from 'jose';
import { CONFIG } from '../config/config.module.js';
import type { RuntimeConfig, SigningConfig } from '../config/app-config.js';
import {
  exportPrivateJwk,
  generateSigningKey,
  importSigningKey,
  type Signer,
  type SigningKey,
} from '../domain/checkpoint/signing-key.js';
import { connectExternalSigner } from './external-signer.js';
import { DEV_KEY_FILE, readJwks } from './signing-key-history.js';

// Defined apart (no Nest, no TypeORM) so the standalone export can read the key history alone.
export { DEV_KEY_FILE };

/**
 * The ledger's checkpoint signing key, and the public history of every key that ever signed.
 * The key is a Signer: held by the process (SIGNING_KEY_JWK, SIGNING_KEY_FILE, the development
 * key) or by an external signer (SIGNING_EXTERNAL_URL, see external-signer.ts).
 *
 * Rotation: start the service with a new key; on start-up it closes the validity window of
 * the keys before it and opens its own. Old public keys stay in the JWKS so old
 * checkpoints keep verifying.
 */
@Injectable()
export class SigningKeyService {
  private readonly log = new Logger(SigningKeyService.name);
  private key?: Promise<Signer>;

  constructor(
    @Inject(CONFIG.signing) private readonly signing: SigningConfig,
    @Inject(CONFIG.runtime) private readonly runtime: RuntimeConfig,
    private readonly db: DataSource,
  ) {}

  /**
   * The current key, loaded and registered once per process. The promise is shared: batches of
   * several partitions arrive concurrently (PARTITIONS_CONSUMED_CONCURRENTLY), and each must not
   * load, generate or register a key of its own. A failed load is forgotten, so the next call retries.
   */
  current(): Promise<Signer> {
    if (!this.key) {
      const loading = (async () => {
        const key = this.signing.external
          ? await connectExternalSigner(this.signing.external)
          : await loadOrCreateSigningKey(this.signing, this.runtime.dataDir, (m) => this.log.warn(m));
        await this.register(key);
        return key;
      })();
      this.key = loading;
      loading.catch(() => {
        if (this.key === loading) this.key = undefined;
      });
    }
    return this.key;
  }

  /** Every public key that ever signed a checkpoint, with its validity window. */
  jwks(): Promise<{ keys: JWK[] }> {
    return readJwks((sql, params) => this.db.query(sql, params));
  }

  private async register(key: Signer): Promise<void> {
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

/** Key from SIGNING_KEY_JWK, else SIGNING_KEY_FILE, else (development only) DATA_DIR/ledger-signing-key.jwk. */
export async function loadOrCreateSigningKey(
  signing: SigningConfig,
  dataDir: string,
  warn: (m: string) => void,
): Promise<SigningKey> {
  if (signing.jwk) return importSigningKey(JSON.parse(signing.jwk) as JWK);
  if (signing.file) return importSigningKey(JSON.parse(await readFile(signing.file, 'utf8')) as JWK);
  const path = join(dataDir, DEV_KEY_FILE);
  try {
    return await importSigningKey(JSON.parse(await readFile(path, 'utf8')) as JWK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  warn(
    `no SIGNING_KEY_FILE or SIGNING_KEY_JWK: generating a development signing key at ${path} — do not use it in production`,
  );
  const key = await generateSigningKey();
  await mkdir(dataDir, { recursive: true });
  // Written whole to a private file, then linked into place: link() creates the name atomically
  // or fails with EEXIST, so no process ever reads a half-written key ('wx' creates the file
  // empty and writes it afterwards: a concurrent reader parsed "" and crashed the consumer).
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(await exportPrivateJwk(key)), { mode: 0o600 });
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  // Another process may have won the race to create it: use whatever is on disk.
  return importSigningKey(JSON.parse(await readFile(path, 'utf8')) as JWK);
}
