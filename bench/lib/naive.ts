/**
 * Section 2, the naive baseline: what a first implementation would do. kafkajs eachMessage,
 * JSON.parse, one TypeORM `save()` per event (TypeORM wraps each save in its own transaction:
 * one WAL flush per event), into its own table defined by an EntitySchema here.
 */
import { DataSource, EntitySchema } from 'typeorm';
import type { Kafka } from 'kafkajs';
import { consumeAll, type ConsumeRun } from './consumers.js';

interface NaiveRecord {
  eventId: string;
  tenantId: string;
  occurredAt: Date;
  requestId: string;
  requestedModel: string;
  provider?: string;
  outcomeStatus: string;
  record: object;
}

const NaiveRecordSchema = new EntitySchema<NaiveRecord>({
  name: 'NaiveRecord',
  tableName: 'bench_naive_records',
  columns: {
    eventId: { type: 'text', primary: true, name: 'event_id' },
    tenantId: { type: 'text', name: 'tenant_id' },
    occurredAt: { type: 'timestamptz', name: 'occurred_at' },
    requestId: { type: 'text', name: 'request_id' },
    requestedModel: { type: 'text', name: 'requested_model' },
    provider: { type: 'text', nullable: true },
    outcomeStatus: { type: 'text', name: 'outcome_status' },
    record: { type: 'jsonb' },
  },
  indices: [
    { name: 'bench_naive_tenant_time_idx', columns: ['tenantId', 'occurredAt'] },
    { name: 'bench_naive_request_idx', columns: ['requestId'] },
  ],
});

export async function naiveBaseline(
  kafka: Kafka,
  topic: string,
  expected: number,
  databaseUrl: string,
  watch: Record<string, number | undefined>,
): Promise<ConsumeRun> {
  const ds = new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: [NaiveRecordSchema],
    synchronize: true,
    logging: false,
  });
  await ds.initialize();
  const repo = ds.getRepository(NaiveRecordSchema);
  try {
    return await consumeAll(kafka, topic, expected, {
      groupId: `bench-naive-${Date.now()}`,
      watch,
      eachMessage: async ({ message }) => {
        const e = JSON.parse(message.value!.toString('utf8')) as Record<string, string> & {
          provider?: string;
          outcome: { status: string };
        };
        await repo.save({
          eventId: e.event_id,
          tenantId: e.tenant_id,
          occurredAt: new Date(e.occurred_at),
          requestId: e.request_id,
          requestedModel: e.requested_model,
          provider: e.provider,
          outcomeStatus: e.outcome.status,
          record: e,
        });
      },
    });
  } finally {
    await ds.destroy();
  }
}
