import { Module } from '@nestjs/common';
import { onReadDatabase, ReadDatabaseModule } from '../database/read-database.js';
import { LedgerCoreModule } from '../ledger/ledger.module.js';
import { QUERY_CLOCK, systemClock } from '../query/common/clock.js';
import { ConformanceRepository } from './conformance.repository.js';
import { ConformanceService } from './conformance.service.js';
import { DisclosureController } from './disclosure.controller.js';
import { DisclosureService } from './disclosure.service.js';
import { PolicyController } from './policy.controller.js';
import { PolicyRepository } from './policy.repository.js';
import { PolicyService } from './policy.service.js';

/**
 * Declared routing policies (versions in the policy log), conformance of decisions to them (the
 * findings module asks ConformanceService), and signed disclosures.
 */
@Module({
  imports: [LedgerCoreModule, ReadDatabaseModule],
  controllers: [PolicyController, DisclosureController],
  providers: [
    { provide: QUERY_CLOCK, useValue: systemClock },
    PolicyRepository,
    PolicyService,
    // Conformance reads decisions (the read database); policy versions stay on the primary.
    onReadDatabase(ConformanceRepository),
    ConformanceService,
    DisclosureService,
  ],
  exports: [ConformanceService],
})
export class PolicyModule {}
