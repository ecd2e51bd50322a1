import { Module } from '@nestjs/common';
import { ReadDatabaseModule } from '../database/read-database.js';
import { LedgerAppendRepository } from './ledger-append.repository.js';
import { LedgerAppendService } from './ledger-append.service.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerReadRepository } from './ledger-read.repository.js';
import { LedgerService } from './ledger.service.js';
import { SigningKeyService } from './signing-key.service.js';

/**
 * The ledger's services without its routes, for the CLIs (verify, export): the routes' guard
 * needs the auth configuration, which a command-line tool has no use for.
 */
@Module({
  imports: [ReadDatabaseModule],
  providers: [SigningKeyService, LedgerAppendRepository, LedgerAppendService, LedgerReadRepository, LedgerService],
  exports: [SigningKeyService, LedgerAppendRepository, LedgerAppendService, LedgerService, LedgerReadRepository],
})
export class LedgerCoreModule {}

@Module({
  imports: [LedgerCoreModule, ReadDatabaseModule],
  controllers: [LedgerController],
  exports: [LedgerCoreModule],
})
export class LedgerModule {}
