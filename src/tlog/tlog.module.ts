import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { TlogController } from './tlog.controller.js';
import { TlogRepository } from './tlog.repository.js';
import { TlogService } from './tlog.service.js';

/** The ledger's shards as C2SP tiled logs: signed-note checkpoints, tiles, entry bundles. */
@Module({
  imports: [LedgerModule],
  providers: [TlogRepository, TlogService],
  controllers: [TlogController],
})
export class TlogModule {}
