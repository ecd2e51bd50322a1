import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { BridgeMessage, BridgeSink } from './portkey-bridge.js';

/** A producer for the bridge commands (kafkajs stays in src/ingest): acks from all in-sync replicas. */
export class KafkaEventSink implements BridgeSink {
  private readonly producer: Producer;
  private readonly topic: string;

  constructor(opts: { brokers: string[]; clientId: string; topic: string; log: (line: string) => void }) {
    this.topic = opts.topic;
    const kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: logLevel.WARN,
      retry: { initialRetryTime: 200, retries: 8 },
      logCreator:
        () =>
        ({ namespace, log }) =>
          opts.log(`kafkajs ${namespace}: ${log.message}`),
    });
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(messages: BridgeMessage[]): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: messages.map((m) => ({ key: null, value: m.value, headers: m.headers })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
