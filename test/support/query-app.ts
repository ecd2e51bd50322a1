import 'reflect-metadata';
import { Module, ValidationPipe, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import express from 'express';
import { loadConfigSections, type AppConfig } from '../../src/config/app-config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { ProblemDetailsFilter } from '../../src/common/problem-details.filter.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { validateRecord } from '../../src/domain/record/validate-record.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import { LedgerModule } from '../../src/ledger/ledger.module.js';
import { MetricsModule } from '../../src/metrics/metrics.module.js';
import { QueryModule } from '../../src/query/query.module.js';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import type { Role } from '../../src/auth/principal.js';
import { mintToken } from '../../src/auth/token-mint.js';

/**
 * The HTTP app the query tests talk to: the real ledger and query modules on a real
 * database, WITHOUT the Kafka ingest module; same pipes and error filter as createApp.
 */
export interface QueryApp {
  app: NestExpressApplication;
  base: string;
  config: Pick<AppConfig, 'runtime' | 'database' | 'signing' | 'auth'>;
  append: LedgerAppendService;
  token(roles: Role[] | Role, tenants: string[], ttlSeconds?: number): Promise<string>;
  get(path: string, token?: string): Promise<Response>;
  post(path: string, body: unknown, token?: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startQueryApp(opts: {
  databaseUrl: string;
  dataDir: string;
  env?: Record<string, string>;
  controllers?: Type[];
  providers?: Provider[];
  /** More feature modules (e.g. ExportModule). */
  imports?: Array<Type | DynamicModule>;
}): Promise<QueryApp> {
  const config = loadConfigSections(['runtime', 'database', 'signing', 'auth'], {
    DATABASE_URL: opts.databaseUrl,
    DATA_DIR: opts.dataDir,
    NODE_ENV: 'test',
    ...opts.env,
  });
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TypeOrmModule.forRoot(
        dataSourceOptions({ url: config.database.url, poolSize: 8, appRole: config.database.appRole }),
      ),
      MetricsModule,
      LedgerModule,
      QueryModule,
      ...(opts.imports ?? []),
    ],
    controllers: opts.controllers ?? [],
    providers: opts.providers ?? [],
  })
  class QueryTestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [QueryTestModule] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: ['error'] });
  app.use('/v1/events', express.raw({ type: () => true }));
  app.use(express.json({ limit: '1mb' }));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const key = await loadOrCreateDevAuthKey(config.runtime.dataDir);
  const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  return {
    app,
    base,
    config,
    append: app.get(LedgerAppendService),
    token: (roles, tenants, ttlSeconds = 600) =>
      mintToken(
        key,
        { subject: 'test', roles: Array.isArray(roles) ? roles : [roles], tenants },
        { issuer: config.auth.issuer, audience: config.auth.audience, ttlSeconds },
      ),
    get: (path, token) => fetch(`${base}${path}`, { headers: auth(token) }),
    post: (path, body, token) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(token) },
        body: JSON.stringify(body),
      }),
    close: () => app.close(),
  };
}

/**
 * Appends records through the real ledger append path (what the Kafka consumer calls), in
 * batches per partition with contiguous offsets, as if consumed from `partitions` partitions.
 */
export async function appendRecords(
  append: LedgerAppendService,
  records: CanonicalRecord[],
  opts: { partitions?: number; batch?: number } = {},
): Promise<void> {
  const partitions = opts.partitions ?? 3;
  const batch = opts.batch ?? 250;
  const byPartition = new Map<number, CanonicalRecord[]>();
  for (const r of records) {
    const v = validateRecord(JSON.parse(JSON.stringify(r)));
    if (!v.ok) throw new Error(`seed record ${r.event_id} is invalid: ${v.errors.join('; ')}`);
    const p = [...r.request_id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % partitions;
    byPartition.set(p, [...(byPartition.get(p) ?? []), v.record]);
  }
  for (const [partition, list] of byPartition) {
    for (let i = 0; i < list.length; i += batch) {
      const items = list
        .slice(i, i + batch)
        .map((record, k) => ({ kind: 'record' as const, offset: String(i + k), record }));
      const res = await append.appendBatch({
        topic: 'routing.decisions',
        partition,
        groupId: 'query-seed',
        items,
        nextOffset: String(i + items.length),
      });
      if (res.appended !== items.length)
        throw new Error(`seed batch appended ${res.appended} of ${items.length}: ${JSON.stringify(res)}`);
    }
  }
}
