import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import type { JWK } from 'jose';
import pg from 'pg';
import { loadConfigSections, type SigningConfig } from '../config/app-config.js';
import type { ExportQuery } from '../domain/bundle/bundle-format.js';
import { importSigningKey, type Jwks, type Signer } from '../domain/checkpoint/signing-key.js';
import { connectExternalSigner } from '../ledger/external-signer.js';
import type { RowQuery } from '../ledger/merkle-node-store.js';
import { DEV_KEY_FILE, readJwks } from '../ledger/signing-key-history.js';
import { writeBundle, type WriteBundleResult } from './bundle-writer.js';
import { generatorInfo } from './generator.js';
import { PgExportSource } from './pg-export-source.js';
import { AppError } from '../common/app-error.js';

/** Connections of a standalone export: the chain read's COPY, the page reads beside it, one spare. */
const STANDALONE_POOL_SIZE = 3;

/** A usage or set-up problem of a standalone export: one line, exit code 2. */
export class ExportSetupError extends AppError {
  readonly code = 'EXPORT_SETUP';
}

export interface StandaloneExportOptions {
  /** Environment to read the configuration from (DATABASE_URL, SIGNING_KEY_*, DATA_DIR, LEDGER_ORIGIN, WITNESS_POLICY_FILE). */
  env?: NodeJS.ProcessEnv;
  query: ExportQuery;
  outFile: string;
  exportId?: string;
  onProgress?: (p: { done: number; total: number }) => void;
}

/**
 * Writes one bundle straight from the database, outside the service (the `export` CLI and
 * the benchmark). Needs the ledger's current signing key (SIGNING_KEY_JWK, SIGNING_KEY_FILE,
 * or the development key in DATA_DIR). Unlike the service it never registers or rotates a
 * key: a key that is not the ledger's current one is refused, since the manifest it signed
 * would not verify. It reads through a pg pool of its own, without Nest and TypeORM (their
 * start-up was ~2 s of CPU, most of a small export), with the service's SQL
 * (PgExportSource) and writer (writeBundle).
 */
export async function exportFromDatabase(opts: StandaloneExportOptions): Promise<WriteBundleResult> {
  const env = opts.env ?? process.env;
  // The database and the ledger's key: no Kafka, no HTTP.
  // The witness policy (WITNESS_POLICY_FILE, optional) picks cosigned anchors as the service does.
  const config = loadConfigSections(['database', 'runtime', 'signing', 'witness'], env);
  const pool = new pg.Pool({
    connectionString: config.database.url,
    max: STANDALONE_POOL_SIZE,
    application_name: 'routing-ledger-export',
    connectionTimeoutMillis: 5000,
  });
  // An idle connection the server ends emits 'error' on the pool: without a listener that ends
  // the process; the next query on it fails the export instead.
  pool.on('error', () => undefined);
  try {
    const query: RowQuery = async (sql, params) =>
      (await pool.query(sql, params)).rows as Array<Record<string, unknown>>;
    const jwks = () => readJwks(query) as Promise<Jwks>;
    const signingKey = await currentLedgerKey(config.signing, config.runtime.dataDir, await jwks());
    const exportId = opts.exportId ?? `cli-${randomUUID()}`;
    return await writeBundle({
      source: new PgExportSource({ query, connect: () => pool.connect() }).source(jwks, config.witness.policy),
      query: opts.query,
      exportId,
      origin: config.signing.ledgerOrigin,
      generator: generatorInfo(),
      signingKey,
      outFile: opts.outFile,
      workDir: join(dirname(opts.outFile), `.${basename(opts.outFile)}.parts`),
      onProgress: opts.onProgress,
    });
  } finally {
    await pool.end();
  }
}

/** The configured signing key, provided it is the ledger's current key (open validity window). */
export async function currentLedgerKey(signing: SigningConfig, dataDir: string, jwks: Jwks): Promise<Signer> {
  let key: Signer;
  if (signing.external) key = await connectExternalSigner(signing.external);
  else if (signing.jwk) key = await importSigningKey(JSON.parse(signing.jwk) as JWK);
  else if (signing.file) key = await importSigningKey(JSON.parse(await readFile(signing.file, 'utf8')) as JWK);
  else {
    const path = join(dataDir, DEV_KEY_FILE);
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        throw new ExportSetupError(
          `no signing key: set SIGNING_KEY_FILE or SIGNING_KEY_JWK to the ledger's key (no development key at ${path})`,
        );
      throw e;
    });
    key = await importSigningKey(JSON.parse(text) as JWK);
  }
  const listed = jwks.keys.find((k) => k.kid === key.kid);
  if (!listed)
    throw new ExportSetupError(
      `signing key ${key.kid} is not one of the ledger's keys (${jwks.keys.map((k) => k.kid).join(', ') || 'none registered yet'})`,
    );
  if (listed.valid_until !== undefined)
    throw new ExportSetupError(
      `signing key ${key.kid} was retired at ${listed.valid_until}: use the ledger's current key`,
    );
  return key;
}
