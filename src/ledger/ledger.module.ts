import { Module } from '@nestjs/common';
import { LedgerAppendRepository } from './ledger-append.repository.js';
import { LedgerAppendService } from './ledger-append.service.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerReadRepository } from './ledger-read.repository.js';
import { LedgerService } from './ledger.service.js';
import { SigningKeyService } from './signing-key.service.js';

@Module({
  providers: [SigningKeyService, LedgerAppendRepository, LedgerAppendService, LedgerReadRepository, LedgerService],
  controllers: [LedgerController],
  exports: [SigningKeyService, LedgerAppendRepository, LedgerAppendService, LedgerService, LedgerReadRepository],
})
export class LedgerModule {}
