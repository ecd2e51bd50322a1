import { Module } from '@nestjs/common';
import { LedgerAppendService } from './ledger-append.service.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerReadRepository } from './ledger-read.repository.js';
import { LedgerService } from './ledger.service.js';
import { SigningKeyService } from './signing-key.service.js';

@Module({
  providers: [SigningKeyService, LedgerAppendService, LedgerReadRepository, LedgerService],
  controllers: [LedgerController],
  exports: [SigningKeyService, LedgerAppendService, LedgerService, LedgerReadRepository],
})
export class LedgerModule {}
