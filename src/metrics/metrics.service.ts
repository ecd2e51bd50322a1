import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, one registry per service instance (tests start several). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: 'routing_ledger_ingest_events_total',
    help: 'Events seen by the consumer, by result (appended, duplicate, conflict, quarantined, already_consumed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'routing_ledger_ingest_batch_size',
    help: 'Messages per Kafka batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'routing_ledger_ingest_batch_seconds',
    help: 'Time to decode and append one batch, transaction included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'routing_ledger_consumer_lag',
    help: 'High watermark minus the next offset to consume, per partition',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly offsetGaps = new Counter({
    name: 'routing_ledger_offset_gaps_total',
    help: 'Batches that started after the stored offset (messages trimmed by the broker before being consumed)',
    registers: [this.registry],
  });
  readonly consumerRestarts = new Counter({
    name: 'routing_ledger_consumer_restarts_total',
    help: 'Restarts of the Kafka consumer by the service after a crash kafkajs does not restart itself',
    registers: [this.registry],
  });
  readonly groupJoins = new Counter({
    name: 'routing_ledger_consumer_group_joins_total',
    help: 'Times the consumer joined its group: once at start, then once per rebalance',
    registers: [this.registry],
  });
  readonly batchesRefused = new Counter({
    name: 'routing_ledger_batches_refused_total',
    help: 'Batches not appended because this instance may no longer own the partition, by reason (lost_membership, lease_expired)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly checkpoints = new Counter({
    name: 'routing_ledger_checkpoints_signed_total',
    help: 'Signed checkpoints',
    registers: [this.registry],
  });

  readonly readFallbacks = new Counter({
    name: 'routing_ledger_read_fallbacks_total',
    help: 'Read requests meant for the read replica that the primary answered, by reason (replica-unavailable)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly replicaAvailable = new Gauge({
    name: 'routing_ledger_read_replica_available',
    help: 'Whether reads go to the read replica (1), or to the primary because the replica could not be reached (0); 1 without a replica',
    registers: [this.registry],
  });

  /** Set by ReadDatabase when DATABASE_READ_URL names a replica: asked at each scrape. */
  private replicaLagProbe?: () => Promise<{ bytes: number; ms: number | null }>;
  private readonly replicaLagNow = async (): Promise<{ bytes: number; ms: number | null }> => {
    if (!this.replicaLagProbe) return { bytes: 0, ms: 0 };
    return this.replicaLagProbe().catch(() => ({ bytes: NaN, ms: null }));
  };
  readonly replicaLagBytes: Gauge = new Gauge({
    name: 'routing_ledger_replica_lag_bytes',
    help: 'WAL bytes the read replica (DATABASE_READ_URL) had not replayed when probed; 0 without a replica, NaN if the probe failed',
    registers: [this.registry],
    collect: async (): Promise<void> => {
      this.replicaLagBytes.set((await this.replicaLagNow()).bytes);
    },
  });
  readonly replicaLagSeconds: Gauge = new Gauge({
    name: 'routing_ledger_replica_lag_seconds',
    help: "Upper bound of the read replica's delay: 0 when caught up, else the age of the last commit it replayed (NaN: unknown)",
    registers: [this.registry],
    collect: async (): Promise<void> => {
      const { ms } = await this.replicaLagNow();
      this.replicaLagSeconds.set(ms === null ? NaN : ms / 1000);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.replicaAvailable.set(1);
  }

  watchReplicaLag(probe: () => Promise<{ bytes: number; ms: number | null }>): void {
    this.replicaLagProbe = probe;
  }
}
