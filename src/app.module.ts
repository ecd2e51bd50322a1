import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { ExportModule } from './export/export.module.js';
import { HealthController } from './health/health.controller.js';
import { IngestModule } from './ingest/ingest.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { QueryModule } from './query/query.module.js';
import { TlogModule } from './tlog/tlog.module.js';
import { ConsoleModule } from './console/console.module.js';

@Module({})
export class AppModule {
  /** `logFile`: where the JSON logs go instead of stdout. */
  static forRoot(config: AppConfig, opts: { logFile?: string } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config.logging, { file: opts.logFile }),
        TypeOrmModule.forRoot(
          dataSourceOptions({
            url: config.database.url,
            poolSize: config.database.poolSize,
            appRole: config.database.appRole,
          }),
        ),
        MetricsModule,
        LedgerModule,
        IngestModule,
        QueryModule,
        ExportModule,
        TlogModule,
        ConsoleModule,
      ],
      controllers: [HealthController],
    };
  }
}
