import {
  Injectable,
  Logger,
  Module,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { dataSourceOptions } from './data-source-options.js';
import { replicaLag, type ReplicaLag } from './replica-lag.js';

/** Where a read was answered from. */
export type ReadSource = 'replica' | 'primary';

/** A lag probe is two tiny queries; one per second at most, shared by concurrent requests. */
export const REPLICA_LAG_CACHE_MS = 1000;

const NO_LAG: ReplicaLag = { bytes: 0, ms: 0 };

/** Response headers of every read answer (docs/operations.md, "Read replicas"). */
export const READ_HEADERS = {
  source: 'x-read-source',
  lagMs: 'x-replica-lag-ms',
  lagBytes: 'x-replica-lag-bytes',
} as const;

/**
 * The database reads go to: the streaming replica at DATABASE_READ_URL, or the primary (the
 * same DataSource the append writes with) when it is unset. Reads that must see what was just
 * written (the append, export jobs, keys, policies) keep using the primary DataSource.
 */
export class ReadDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('ReadDatabase');
  private cached?: { at: number; lag: Promise<ReplicaLag> };

  constructor(
    readonly primary: DataSource,
    /** The replica's DataSource, or `primary` itself. */
    readonly db: DataSource,
  ) {}

  get isReplica(): boolean {
    return this.db !== this.primary;
  }

  get source(): ReadSource {
    return this.isReplica ? 'replica' : 'primary';
  }

  /** How far the replica is behind the primary, at most REPLICA_LAG_CACHE_MS old; zero without a replica. */
  lag(): Promise<ReplicaLag> {
    if (!this.isReplica) return Promise.resolve(NO_LAG);
    const now = Date.now();
    if (this.cached && now - this.cached.at < REPLICA_LAG_CACHE_MS) return this.cached.lag;
    const lag = this.probe();
    const entry = { at: now, lag };
    this.cached = entry;
    // A failed probe is not remembered: the next request asks again.
    lag.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return lag;
  }

  /** Sets the read headers: where the answer comes from, and the replica's lag ("unknown" if it cannot be probed). */
  async describe(res: Response, source: ReadSource = this.source): Promise<void> {
    res.setHeader(READ_HEADERS.source, source);
    const lag = await this.lag().catch((e: Error) => {
      this.logger.warn(`replica lag probe failed: ${e.message}`);
      return undefined;
    });
    res.setHeader(READ_HEADERS.lagBytes, lag ? String(lag.bytes) : 'unknown');
    res.setHeader(READ_HEADERS.lagMs, lag && lag.ms !== null ? String(lag.ms) : 'unknown');
  }

  /**
   * The primary's WAL position first, then the replica's replay position: a replica at or past it
   * holds every transaction committed before the probe. A server that is not in recovery (a
   * replica promoted after a failover, or DATABASE_READ_URL naming the primary) is not behind.
   */
  private async probe(): Promise<ReplicaLag> {
    const [{ lsn }] = (await this.primary.query('SELECT pg_current_wal_lsn()::text AS lsn')) as Array<{
      lsn: string;
    }>;
    const [r] = (await this.db.query(
      `SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS replay,
              pg_last_xact_replay_timestamp() AS replayed_at, now() AS now`,
    )) as Array<{ recovering: boolean; replay: string | null; replayed_at: Date | null; now: Date }>;
    if (!r.recovering) return NO_LAG;
    return replicaLag({ primaryLsn: lsn, replayLsn: r.replay, replayedCommitAt: r.replayed_at, now: r.now });
  }

  async onApplicationShutdown(): Promise<void> {
    // After the HTTP server closed (Nest's shutdown order), like the primary's pool.
    if (this.isReplica && this.db.isInitialized) await this.db.destroy();
  }
}

/** Puts the read headers on every answer of a controller whose reads go to ReadDatabase. */
@Injectable()
export class ReadAnswerInterceptor implements NestInterceptor {
  constructor(private readonly read: ReadDatabase) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    // Set before the handler runs: streamed answers (bundles) send their headers early.
    await this.read.describe(ctx.switchToHttp().getResponse<Response>());
    return next.handle();
  }
}

/** A repository whose only dependency is a DataSource, built on the read database. */
export function onReadDatabase<T>(repository: new (db: DataSource) => T): Provider {
  return { provide: repository, inject: [ReadDatabase], useFactory: (read: ReadDatabase) => new repository(read.db) };
}

const readDatabaseProvider: Provider = {
  provide: ReadDatabase,
  // The CLIs that read the ledger run without metrics.
  inject: [DataSource, CONFIG.database, { token: MetricsService, optional: true }],
  useFactory: async (primary: DataSource, config: DatabaseConfig, metrics?: MetricsService) => {
    if (!config.readUrl) return new ReadDatabase(primary, primary);
    const replica = new DataSource(
      dataSourceOptions({
        url: config.readUrl,
        poolSize: config.poolSize,
        appRole: config.appRole,
        applicationName: 'routing-ledger-read',
      }),
    );
    const read = new ReadDatabase(primary, await replica.initialize());
    metrics?.watchReplicaLag(() => read.lag());
    return read;
  },
};

/** One ReadDatabase per application, whichever feature modules import it. */
@Module({ providers: [readDatabaseProvider, ReadAnswerInterceptor], exports: [ReadDatabase, ReadAnswerInterceptor] })
export class ReadDatabaseModule {}
