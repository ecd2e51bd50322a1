import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import type { JWK } from 'jose';
import { loadConfigSections, type SigningConfig } from '../config/app-config.js';
import { ConfigModule } from '../config/config.module.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import type { ExportQuery } from '../domain/bundle/bundle-format.js';
import { importSigningKey, type Jwks, type Signer } from '../domain/checkpoint/signing-key.js';
import { connectExternalSigner } from '../ledger/external-signer.js';
import { LedgerCoreModule } from '../ledger/ledger.module.js';
import { DEV_KEY_FILE, SigningKeyService } from '../ledger/signing-key.service.js';
import { writeBundle, type WriteBundleResult } from './bundle-writer.js';
import { ExportSourceRepository } from './export-source.repository.js';
import { generatorInfo } from './generator.js';
import { AppError } from '../common/app-error.js';

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
 * would not verify.
 */
export async function exportFromDatabase(opts: StandaloneExportOptions): Promise<WriteBundleResult> {
  const env = opts.env ?? process.env;
  // The database and the ledger's key: no Kafka, no HTTP.
  // The witness policy (WITNESS_POLICY_FILE, optional) picks cosigned anchors as the service does.
  const config = loadConfigSections(['database', 'runtime', 'signing', 'witness'], env);
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TypeOrmModule.forRoot(
        dataSourceOptions({ url: config.database.url, poolSize: 3, applicationName: 'routing-ledger-export' }),
      ),
      LedgerCoreModule,
    ],
    providers: [ExportSourceRepository],
  })
  class StandaloneExportModule {}
  const app = await NestFactory.createApplicationContext(StandaloneExportModule, { logger: ['error'] });
  try {
    const keys = app.get(SigningKeyService);
    const jwks = () => keys.jwks() as Promise<Jwks>;
    const signingKey = await currentLedgerKey(config.signing, config.runtime.dataDir, await jwks());
    const exportId = opts.exportId ?? `cli-${randomUUID()}`;
    return await writeBundle({
      source: app.get(ExportSourceRepository).source(jwks, config.witness.policy),
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
    await app.close();
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
