import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { TlogController } from './tlog.controller.js';
import { TlogRepository } from './tlog.repository.js';
import { TlogService } from './tlog.service.js';
import { WitnessController } from './witness.controller.js';
import { WitnessRepository } from './witness.repository.js';
import { WitnessSubmitterService } from './witness-submitter.service.js';

/**
 * The ledger's shards as C2SP tiled logs: signed-note checkpoints with their witnesses'
 * cosignatures, tiles, entry bundles, tlog-proofs; and the background witness submitter.
 */
@Module({
  imports: [LedgerModule],
  providers: [TlogRepository, TlogService, WitnessRepository, WitnessSubmitterService],
  controllers: [TlogController, WitnessController],
})
export class TlogModule {}
