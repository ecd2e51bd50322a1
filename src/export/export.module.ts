import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { ExportController } from './export.controller.js';
import { ExportRepository } from './export.repository.js';
import { ExportSourceRepository } from './export-source.repository.js';
import { ExportService } from './export.service.js';

/** Signed audit bundles: export jobs, the bundle writer's database source, the API. */
@Module({
  imports: [LedgerModule],
  providers: [ExportService, ExportRepository, ExportSourceRepository],
  controllers: [ExportController],
  exports: [ExportService, ExportSourceRepository],
})
export class ExportModule {}
