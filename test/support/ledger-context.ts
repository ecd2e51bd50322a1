import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { loadConfigSections, type AppConfig } from '../../src/config/app-config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { LedgerModule } from '../../src/ledger/ledger.module.js';
import { MetricsModule } from '../../src/metrics/metrics.module.js';

type LedgerContextConfig = Pick<AppConfig, 'runtime' | 'database' | 'signing' | 'auth'>;

/**
 * The ledger without Kafka: the real append transaction, repositories and services on a real
 * database, for tests that seed records directly through LedgerAppendService.appendBatch.
 */
export async function startLedgerContext(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<{ app: INestApplicationContext; config: LedgerContextConfig }> {
  const config = loadConfigSections(['runtime', 'database', 'signing', 'auth'], {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    ...env,
  });
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TypeOrmModule.forRoot(dataSourceOptions({ url: databaseUrl, poolSize: 4, appRole: config.database.appRole })),
      MetricsModule,
      LedgerModule,
    ],
  })
  class LedgerTestModule {}
  const app = await NestFactory.createApplicationContext(LedgerTestModule, { logger: ['error'] });
  return { app, config };
}
