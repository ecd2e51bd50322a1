import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { EventsController } from './events.controller.js';
import { HttpIngestService } from './http-ingest.service.js';
import { KafkaClientService } from './kafka-client.service.js';
import { LedgerConsumerService } from './ledger-consumer.service.js';

@Module({
  imports: [LedgerModule],
  providers: [KafkaClientService, LedgerConsumerService, HttpIngestService],
  controllers: [EventsController],
  exports: [LedgerConsumerService, KafkaClientService],
})
export class IngestModule {}
