import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { CONFIG } from '../config/config.module.js';
import type { KafkaConfig } from '../config/app-config.js';

/**
 * The one kafkajs client of the process and its producer (HTTP ingest, dead letters,
 * checkpoints), acks from all in-sync replicas. Not idempotent: a retried send may duplicate a
 * message, which the ledger absorbs (event ids deduplicate; dead letters and checkpoints are
 * at-least-once by design). kafkajs stays inside src/ingest.
 */
@Injectable()
export class KafkaClientService implements OnModuleDestroy {
  private readonly log = new Logger('kafkajs');
  readonly kafka: Kafka;
  private producer?: Promise<Producer>;

  constructor(@Inject(CONFIG.kafka) readonly config: KafkaConfig) {
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      logLevel: logLevel.WARN,
      retry: { initialRetryTime: 200, retries: 8 },
      logCreator:
        () =>
        ({ namespace, level, log }) => {
          const { message, ...extra } = log;
          const line = `${namespace}: ${message} ${Object.keys(extra).length ? JSON.stringify(extra) : ''}`;
          if (level <= logLevel.ERROR) this.log.error(line);
          else this.log.warn(line);
        },
    });
  }

  /** Sends with acks from all in-sync replicas; resolves once the broker has them. */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const p = await this.connectedProducer();
    await p.send({ topic, messages, acks: -1 });
  }

  private connectedProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      // The partitioner is named (kafkajs's default, Java-compatible murmur2) so that kafkajs does
      // not print its partitioner-migration warning at every start.
      const p = this.kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: false,
        maxInFlightRequests: 5,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await p.connect();
      return p;
    })().catch((e) => {
      this.producer = undefined;
      throw e;
    });
    return this.producer;
  }

  async onModuleDestroy(): Promise<void> {
    const p = await this.producer?.catch(() => undefined);
    await p?.disconnect();
  }
}
