import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import kafkajs, { type Consumer, type EachBatchPayload, type Message } from 'kafkajs';
import { AppError } from '../common/app-error.js';
import { CONFIG } from '../config/config.module.js';
import type { IngestConfig, KafkaConfig } from '../config/app-config.js';
import {
  LedgerAppendService,
  OffsetGapError,
  OwnershipLeaseExpiredError,
  type AppendBatchInput,
  type AppendBatchResult,
} from '../ledger/ledger-append.service.js';
import {
  LedgerAppendRepository,
  type QuarantineRow,
  type StoredCheckpointRow,
} from '../ledger/ledger-append.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { decodeBatch, type RawMessage } from './decode-batch.js';
import { DecodePool } from './decode-pool.js';
import type { DecodedItem } from '../ledger/ledger-input.js';
import { headersToStrings } from './kafka-headers.js';
import { KafkaClientService } from './kafka-client.service.js';
import { GatewayRegistry } from './gateways/gateway-registry.service.js';

/** PostgreSQL errors an append may lose to a concurrent writer: unique violation, serialization failure, deadlock. */
const RETRIABLE_PG_CODES = new Set(['23505', '40001', '40P01']);
const APPEND_ATTEMPTS = 3;
/** Heartbeat answers that mean the group has moved on without this member (its partitions may be elsewhere). */
const LOST_MEMBERSHIP = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);
const FETCH_MAX_WAIT_MS = 100;
/**
 * Smaller batches decode on this thread even with decode workers: a live stream's small batches
 * gain nothing from another core, while each hand-over to a worker costs a wake-up that a busy
 * machine can make last milliseconds (measured: ingest → checkpoint latency grew several-fold).
 */
const POOL_MIN_BATCH = 200;
/** Backoff of the consumer's restarts after a crash kafkajs gives up on: doubling, capped. */
const RESTART_FIRST_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 30_000;
/** Checkpoints queued for publishing before a batch waits for the sender; also the most one send carries. */
const CHECKPOINTS_QUEUED_MAX = 256;

/** The log fields that place a batch: its topic, partition (= shard) and first and last offsets. */
interface BatchFields {
  topic: string;
  partition: number;
  shard: number;
  firstOffset: string | null;
  lastOffset: string;
}

/** Whether `e` is kafkajs saying the group has moved on without this member. */
function isLostMembership(e: unknown): boolean {
  const type = (e as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' && LOST_MEMBERSHIP.has(type);
}

/**
 * Whether appending the same batch again may succeed. An AppError and a kafkajs error (from the
 * dead-letter send inside the append) say so themselves; a pg error by its SQLSTATE.
 */
export function isRetriableAppendError(e: unknown): boolean {
  if (e instanceof AppError || e instanceof kafkajs.KafkaJSError) return e.retriable;
  return RETRIABLE_PG_CODES.has((e as { code?: string } | null | undefined)?.code ?? '');
}

/**
 * The ingest consumer: one kafkajs consumer group on the decisions topic, eachBatch, one
 * ledger transaction per batch. PostgreSQL, not Kafka, holds the truth about what was
 * consumed: on every group join it seeks each assigned partition to the stored offset, and
 * Kafka offsets are committed only occasionally, as a hint for tools.
 *
 * kafkajs restarts its consumer after a retriable crash; after a non-retriable one (e.g. an
 * error code it does not retry, from the broker or the group coordinator) it leaves it stopped.
 * The service then starts a new consumer itself, with backoff, so that one bad answer does not
 * end ingestion for good; the ledger's offset checks keep the restart free of duplicates.
 */
@Injectable()
export class LedgerConsumerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(LedgerConsumerService.name);
  private consumer?: Consumer;
  private joined = false;
  private crashed?: Error;
  private restarts = 0;
  private restartTimer?: NodeJS.Timeout;
  private stopping = false;
  /** INGEST_DECODE_THREADS worker threads, or none: decoding then runs on this thread. */
  private decodePool?: DecodePool;
  /** Stored checkpoints not yet sent, oldest first, and the sender working through them (publishCheckpoint). */
  private readonly checkpointQueue: Array<{ message: Message; where: BatchFields & { treeSize: number } }> = [];
  private checkpointSender?: Promise<void>;

  constructor(
    @Inject(CONFIG.kafka) private readonly kafkaConfig: KafkaConfig,
    @Inject(CONFIG.ingest) private readonly ingest: IngestConfig,
    private readonly kafka: KafkaClientService,
    private readonly ledger: LedgerAppendService,
    private readonly metrics: MetricsService,
    private readonly db: DataSource,
    private readonly gateways: GatewayRegistry,
    private readonly appendRepo: LedgerAppendRepository,
  ) {}

  /** Ready once the consumer has joined its group and has not crashed. */
  get ready(): boolean {
    return this.joined && !this.crashed;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.ingest.decodeThreads > 0) this.decodePool = new DecodePool(this.ingest.decodeThreads);
    await this.startConsumer();
  }

  private async startConsumer(): Promise<void> {
    const { groupId, topics } = this.kafkaConfig;
    const consumer = this.kafka.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // A fetch waits this long when the partition is empty; the dev broker holds it for the
      // whole wait even when data arrives meanwhile, so keep it short (tools/dev-kafka/README.md).
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      sessionTimeout: this.kafkaConfig.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(this.kafkaConfig.sessionTimeoutMs / 3)),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.crashed = undefined;
      this.restarts = 0;
      this.metrics.groupJoins.inc();
      void this.seekToStoredOffsets(e.payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      // restart: true means kafkajs restarts this consumer itself.
      if (!e.payload.restart) this.restartAfterCrash(consumer, e.payload.error);
    });
    consumer.on(consumer.events.STOP, () => (this.joined = false));
    await consumer.connect();
    await consumer.subscribe({ topic: topics.decisions, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: this.kafkaConfig.commitIntervalMs,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.kafkaConfig.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /**
   * The graceful handover (SIGTERM): Nest destroys this service before the Kafka producer and
   * before the DataSource closes, so the batch in flight still commits. disconnect() stops
   * fetching, waits for that batch (its transaction commits or rolls back whole) and leaves the
   * group, so the partitions move to another member at once rather than after the session
   * timeout; the next owner seeks to the offsets this instance stored.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    if (consumer) {
      const groupId = this.kafkaConfig.groupId;
      this.log.log({ msg: `leaving group ${groupId}: finishing the batch in flight`, groupId });
      await consumer.disconnect();
      this.log.log({ msg: `left group ${groupId}`, groupId });
    }
    // The producer closes after this service: the last checkpoints go out before it does.
    await this.checkpointSender;
    await this.decodePool?.close();
  }

  /** kafkajs has disconnected `crashed` for good: start a new consumer after a backoff. */
  private restartAfterCrash(crashed: Consumer, error: Error): void {
    // One restart per consumer: a failed start may both reject and emit CRASH.
    if (this.stopping || crashed !== this.consumer || this.restartTimer) return;
    this.crashed = error;
    this.joined = false;
    const delay = Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** this.restarts);
    this.restarts++;
    this.log.error({
      msg: `consumer crashed and kafkajs will not restart it (${error.name}: ${error.message}); starting a new consumer in ${delay} ms`,
      groupId: this.kafkaConfig.groupId,
      restarts: this.restarts,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.metrics.consumerRestarts.inc();
      this.startConsumer().catch((e: Error) => {
        const failed = this.consumer!;
        void failed.disconnect().catch(() => undefined);
        this.restartAfterCrash(failed, e);
      });
    }, delay);
  }

  private async seekToStoredOffsets(assignment: Record<string, number[]>): Promise<void> {
    const topic = this.kafkaConfig.topics.decisions;
    const partitions = assignment[topic] ?? [];
    try {
      const stored = await this.appendRepo.storedOffsets(this.db, this.kafkaConfig.groupId, topic);
      for (const p of partitions) {
        const offset = stored.get(p);
        if (offset !== undefined) this.consumer!.seek({ topic, partition: p, offset });
      }
      this.joined = true;
      this.log.log({
        msg: `joined group ${this.kafkaConfig.groupId}: ${topic} partitions [${partitions.join(', ')}]`,
        groupId: this.kafkaConfig.groupId,
        topic,
        partitions,
      });
    } catch (e) {
      // The in-transaction offset check still prevents duplicates; we only lose the shortcut.
      this.log.error({
        msg: `could not seek to stored offsets: ${(e as Error).message}`,
        groupId: this.kafkaConfig.groupId,
        topic,
        partitions,
      });
      this.joined = true;
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const started = process.hrtime.bigint();
    const items = await this.decode(
      batch.topic,
      batch.partition,
      batch.messages.map((m) => ({ offset: m.offset, value: m.value, headers: headersToStrings(m.headers) })),
    );
    // Every line about this batch carries where it came from, as fields (the partition is the ledger shard).
    const where = {
      topic: batch.topic,
      partition: batch.partition,
      shard: batch.partition,
      firstOffset: batch.firstOffset(),
      lastOffset: batch.lastOffset(),
    };
    await this.confirmMembership(heartbeat, where);
    const input: AppendBatchInput = {
      topic: batch.topic,
      partition: batch.partition,
      groupId: this.kafkaConfig.groupId,
      items,
      nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
      deadLetter: (rows: QuarantineRow[]) => this.deadLetter(rows),
      // Checked again just before COMMIT: a member the group evicted while it was paused after the heartbeat
      // above must not commit. A pause inside the transaction outlasting the session ends it (the lease).
      ownership: {
        confirm: () => this.confirmMembership(heartbeat, where),
        leaseMs: this.kafkaConfig.sessionTimeoutMs,
      },
    };
    let result: AppendBatchResult;
    try {
      result = await this.appendWithRetry(input, where);
    } catch (e) {
      if (e instanceof OwnershipLeaseExpiredError) {
        this.metrics.batchesRefused.inc({ reason: 'lease_expired' });
        // Paused past the session inside the transaction: nothing was stored. Fetch the batch again; the
        // heartbeat of the next try tells whether the partition is still this member's.
        this.log.warn({ msg: `batch not appended: ${e.message}; fetching it again`, ...where });
        this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset()! });
        return;
      }
      if (!(e instanceof OffsetGapError)) throw e;
      // The fetch position ran ahead of what PostgreSQL holds (a retried or restarted batch
      // after a database outage, a seek lost in a rebalance). If the broker still has the
      // messages, go back for them; only a gap the broker trimmed away is accepted, loudly.
      const low = await this.logStartOffset(batch.topic, batch.partition);
      if (BigInt(low) <= BigInt(e.expected)) {
        this.log.warn({ msg: `${e.message}: seeking back to ${e.expected}`, ...where, expectedOffset: e.expected });
        this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: e.expected });
        return;
      }
      result = await this.appendWithRetry({ ...input, acceptGapFrom: low }, where);
    }
    resolveOffset(batch.lastOffset());
    this.observe(batch.messages.length, result, started, batch, where);
    if (result.checkpoint) await this.publishCheckpoint(result.checkpoint, where);
    await heartbeat();
  }

  /**
   * Publishes a stored checkpoint on the checkpoints topic without holding up the shard's next
   * batch. Checkpoints are queued in the order they were stored and sent by one sender, every
   * checkpoint queued while a send was in flight in the next one: a kafkajs send costs the
   * consumer's thread ~0.8 ms of CPU whether it carries one message or eight (measured against
   * the dev broker), and small batches store a checkpoint each. One sender keeps every shard's
   * checkpoints in order. The checkpoint is stored already; a failed send is logged, as before.
   * A batch waits only when CHECKPOINTS_QUEUED_MAX are queued (a broker that stopped answering).
   */
  private async publishCheckpoint(cp: StoredCheckpointRow, where: BatchFields): Promise<void> {
    if (this.checkpointQueue.length >= CHECKPOINTS_QUEUED_MAX) await this.checkpointSender;
    this.checkpointQueue.push({
      where: { ...where, treeSize: cp.treeSize },
      message: {
        key: String(cp.shard),
        value: JSON.stringify({
          jws: cp.jws,
          prev_tree_size: cp.prevTreeSize,
          consistency_proof: cp.consistencyProof.map((h) => h.toString('hex')),
        }),
      },
    });
    this.checkpointSender ??= this.sendQueuedCheckpoints();
  }

  private async sendQueuedCheckpoints(): Promise<void> {
    while (this.checkpointQueue.length > 0) {
      const sending = this.checkpointQueue.splice(0, CHECKPOINTS_QUEUED_MAX);
      await this.kafka
        .send(
          this.kafkaConfig.topics.checkpoints,
          sending.map((c) => c.message),
        )
        .catch((e) => {
          for (const { where } of sending)
            this.log.warn({
              msg: `checkpoint ${where.shard}/${where.treeSize} stored but not published: ${(e as Error).message}`,
              ...where,
            });
        });
    }
    this.checkpointSender = undefined;
  }

  /** The batch decoded (and, on a worker, prepared) for the append, on a decode worker when there are some. */
  private decode(topic: string, partition: number, messages: RawMessage[]): Promise<DecodedItem[]> | DecodedItem[] {
    const batch = { topic, partition, maxMessageBytes: this.ingest.maxMessageBytes, receivedAt: new Date() };
    if (this.decodePool && messages.length >= POOL_MIN_BATCH) {
      return this.decodePool.decode({ ...batch, messages }, this.gateways.decoderSource());
    }
    return decodeBatch(messages, { ...batch, decode: this.gateways.decoder() });
  }

  /**
   * The last heartbeat before the append: a member the group has rebalanced around (paused past
   * its session timeout, say) learns here that it no longer owns the partition, and the batch is
   * not appended. kafkajs then rejoins the group. Should it lose the partition after this point,
   * the append checks again before its COMMIT (AppendBatchInput.ownership).
   */
  private async confirmMembership(heartbeat: () => Promise<void>, where: BatchFields): Promise<void> {
    try {
      await heartbeat();
    } catch (e) {
      if (isLostMembership(e)) {
        const type = (e as { type: string }).type;
        this.metrics.batchesRefused.inc({ reason: 'lost_membership' });
        this.log.warn({
          msg: `batch not appended: the group rebalanced without this member (${type}); ${where.topic}/${where.partition} may have another owner now, rejoining`,
          ...where,
          reason: type,
        });
      }
      throw e;
    }
  }

  /** The partition's log start offset: messages below it are gone from the broker. */
  private async logStartOffset(topic: string, partition: number): Promise<string> {
    const admin = this.kafka.kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.low ?? '0';
    } finally {
      await admin.disconnect();
    }
  }

  private async appendWithRetry(
    input: Parameters<LedgerAppendService['appendBatch']>[0],
    where: BatchFields,
  ): Promise<AppendBatchResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ledger.appendBatch(input);
      } catch (e) {
        // A lost partition is for kafkajs to handle (it rejoins the group), not for another attempt.
        if (!isRetriableAppendError(e) || isLostMembership(e) || attempt >= APPEND_ATTEMPTS) throw e;
        this.log.warn({
          msg: `append of ${input.topic}/${input.partition} failed (${(e as Error).message}); retrying`,
          ...where,
          attempt,
        });
      }
    }
  }

  /** Dead-letters quarantined messages before the transaction that quarantines them commits. */
  private async deadLetter(rows: QuarantineRow[]): Promise<void> {
    const messages: Message[] = rows.map((r) => ({
      key: r.eventId ?? null,
      value: r.payload,
      headers: {
        ...Object.fromEntries(Object.entries(r.headers).filter((e): e is [string, string] => e[1] !== undefined)),
        'x-dlq-reason-code': r.reasonCode,
        'x-dlq-reason': r.reason.slice(0, 4000),
        'x-dlq-source-topic': r.topic ?? '',
        'x-dlq-source-partition': String(r.partition ?? ''),
        'x-dlq-source-offset': r.offset ?? '',
      },
    }));
    await this.kafka.send(this.kafkaConfig.topics.deadLetter, messages);
  }

  private observe(
    count: number,
    r: AppendBatchResult,
    started: bigint,
    batch: EachBatchPayload['batch'],
    where: BatchFields,
  ): void {
    const m = this.metrics;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    m.batchSize.observe(count);
    m.batchSeconds.observe(seconds);
    m.events.inc({ result: 'appended' }, r.appended);
    m.events.inc({ result: 'duplicate' }, r.duplicates);
    m.events.inc({ result: 'conflict' }, r.conflicts);
    m.events.inc({ result: 'quarantined' }, r.quarantined);
    m.events.inc({ result: 'already_consumed' }, r.alreadyConsumed);
    if (r.checkpoint) m.checkpoints.inc();
    m.lag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset()) - 1n)),
    );
    if (r.gap) {
      m.offsetGaps.inc();
      this.log.error({
        msg: `partition ${batch.partition}: expected offset ${r.gap.expected}, got ${r.gap.got}: the broker no longer had the messages in between`,
        ...where,
        expectedOffset: r.gap.expected,
        gotOffset: r.gap.got,
      });
    }
    this.log.debug({
      msg: 'batch appended',
      ...where,
      messages: count,
      appended: r.appended,
      duplicates: r.duplicates,
      conflicts: r.conflicts,
      quarantined: r.quarantined,
      alreadyConsumed: r.alreadyConsumed,
      checkpointTreeSize: r.checkpoint?.treeSize,
      ms: Math.round(seconds * 1000),
    });
  }
}
