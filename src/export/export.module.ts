import { Module } from '@nestjs/common';
import { ReadDatabase, ReadDatabaseModule } from '../database/read-database.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { ExportController } from './export.controller.js';
import { ExportRepository } from './export.repository.js';
import { ExportSourceRepository } from './export-source.repository.js';
import { ExportService } from './export.service.js';

/**
 * Signed audit bundles: export jobs, the bundle writer's database source, the API. A bundle is
 * read from the read database (anchored on the checkpoints it holds, so it is one consistent
 * snapshot); export jobs, written and polled, live on the primary.
 */
@Module({
  imports: [LedgerModule, ReadDatabaseModule],
  providers: [
    ExportService,
    ExportRepository,
    {
      provide: ExportSourceRepository,
      inject: [ReadDatabase],
      useFactory: (read: ReadDatabase) => new ExportSourceRepository(read.db),
    },
  ],
  controllers: [ExportController],
  exports: [ExportService, ExportSourceRepository],
})
export class ExportModule {}
