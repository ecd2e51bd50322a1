import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { LitellmBridgeController } from './bridges/litellm-bridge.controller.js';
import { OtlpTracesController } from './bridges/otlp-traces.controller.js';
import { OtlpTracesService } from './bridges/otlp-traces.service.js';
import { EventsController } from './events.controller.js';
import { GatewayRepository } from './gateways/gateway.repository.js';
import { GatewayRegistry } from './gateways/gateway-registry.service.js';
import { GatewaysController } from './gateways/gateways.controller.js';
import { HttpIngestService } from './http-ingest.service.js';
import { KafkaClientService } from './kafka-client.service.js';
import { LedgerConsumerService } from './ledger-consumer.service.js';

@Module({
  imports: [LedgerModule],
  providers: [
    KafkaClientService,
    LedgerConsumerService,
    HttpIngestService,
    GatewayRepository,
    GatewayRegistry,
    OtlpTracesService,
  ],
  controllers: [EventsController, LitellmBridgeController, OtlpTracesController, GatewaysController],
  exports: [LedgerConsumerService, KafkaClientService],
})
export class IngestModule {}
