import { AsyncLocalStorage } from 'node:async_hooks';
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
import { catchError, finalize, from, mergeMap, tap, throwError, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { dataSourceOptions } from './data-source-options.js';
import { isConnectionLevelError, ReplicaBreaker, type ReadFallback } from './replica-breaker.js';
import { replicaLag, type ReplicaLag } from './replica-lag.js';

/** Where a read was answered from. */
export type ReadSource = 'replica' | 'primary';

/** A lag probe is two tiny queries; one per second at most, shared by concurrent requests. */
export const REPLICA_LAG_CACHE_MS = 1000;

/**
 * After the replica failed at the connection level, reads go to the primary for this long before
 * one of them tries the replica again (src/database/replica-breaker.ts).
 */
export const REPLICA_RETRY_MS = 5000;

const NO_LAG: ReplicaLag = { bytes: 0, ms: 0 };

/** Response headers of every read answer (docs/operations.md, "Read replicas"). */
export const READ_HEADERS = {
  source: 'x-read-source',
  lagMs: 'x-replica-lag-ms',
  lagBytes: 'x-replica-lag-bytes',
  /** Present when a read meant for the replica was answered by the primary: why. */
  fallback: 'x-read-fallback',
} as const;

/** What the reads of one request did (AsyncLocalStorage, set by ReadAnswerInterceptor). */
export interface ReadContext {
  /** Set when a read of this request meant for the replica went to the primary. */
  fallback?: ReadFallback;
  /** A connection to the replica was taken for this request. */
  usedReplica?: boolean;
}

/** The two things of TypeORM's PostgresDriver the fallback uses (its pg pool, and how it takes a connection). */
interface PgDriver {
  master?: {
    query(sql: string): Promise<{ rows: unknown[] }>;
    totalCount: number;
    options: { max?: number };
  };
  obtainMasterConnection(): Promise<[unknown, (err?: unknown) => void]>;
}

/**
 * The database reads go to: the streaming replica at DATABASE_READ_URL, or the primary (the
 * same DataSource the append writes with) when it is unset. Reads that must see what was just
 * written (the append, export jobs, keys, policies) keep using the primary DataSource.
 *
 * When the replica cannot be reached (a connection attempt fails, or it drops connections while
 * shutting down), its reads are answered by the primary: the replica DataSource takes its
 * connections from the primary's pool instead (the same schema, so every repository and query
 * builder works unchanged), and a breaker (REPLICA_RETRY_MS) keeps the following reads off the
 * replica until one of them finds it back. Query errors are not retried: the primary would refuse
 * the query too.
 */
export class ReadDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('ReadDatabase');
  private cached?: { at: number; lag: Promise<ReplicaLag> };
  readonly breaker: ReplicaBreaker;
  /** The reads of the current request (ReadAnswerInterceptor). */
  readonly context = new AsyncLocalStorage<ReadContext>();
  /** Marks TypeORM's own connections while the replica DataSource initializes (they must reach the replica). */
  private readonly initializing = new AsyncLocalStorage<true>();
  private retryTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly primary: DataSource,
    /** The replica's DataSource, or `primary` itself. */
    readonly db: DataSource,
    private readonly metrics?: MetricsService,
    retryMs = REPLICA_RETRY_MS,
  ) {
    this.breaker = new ReplicaBreaker(retryMs);
    if (this.isReplica) this.fallBackToPrimary();
  }

  /**
   * The replica's ReadDatabase, its DataSource initialized. A replica unreachable at start-up does
   * not stop the service: its reads go to the primary while the connection is retried every
   * REPLICA_RETRY_MS.
   */
  static async open(
    primary: DataSource,
    replica: DataSource,
    metrics?: MetricsService,
    retryMs = REPLICA_RETRY_MS,
  ): Promise<ReadDatabase> {
    const read = new ReadDatabase(primary, replica, metrics, retryMs);
    try {
      await read.initializeReplica();
    } catch (e) {
      if (!isConnectionLevelError(e)) throw e;
      read.replicaFailed(e);
      read.retryInitialize();
    }
    return read;
  }

  get isReplica(): boolean {
    return this.db !== this.primary;
  }

  get source(): ReadSource {
    return this.isReplica ? 'replica' : 'primary';
  }

  /** How far the replica is behind the primary, at most REPLICA_LAG_CACHE_MS old; zero without a replica. */
  lag(): Promise<ReplicaLag> {
    if (!this.isReplica) return Promise.resolve(NO_LAG);
    // A replica known to be down has no lag to report, whatever a probe said just before it went.
    if (this.breaker.isOpen && !this.breaker.retryDue)
      return Promise.reject(new Error(`the read replica is unavailable (${this.breaker.lastError})`));
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

  /**
   * Sets the read headers: where the answer comes from, and the replica's lag ("unknown" if it
   * cannot be probed). A replica known to be unreachable, or found so by the probe, makes the
   * answer the primary's (describeFallback).
   */
  async describe(res: Response, source: ReadSource = this.source): Promise<void> {
    const replicaDown = () => this.isReplica && source === 'replica' && this.breaker.isOpen;
    if (replicaDown() && !this.breaker.retryDue) return this.describeFallback(res);
    const lag = await this.lag().catch((e: Error) => {
      this.logger.warn(`replica lag probe failed: ${e.message}`);
      return undefined;
    });
    if (replicaDown()) return this.describeFallback(res);
    res.setHeader(READ_HEADERS.source, source);
    res.setHeader(READ_HEADERS.lagBytes, lag ? String(lag.bytes) : 'unknown');
    res.setHeader(READ_HEADERS.lagMs, lag && lag.ms !== null ? String(lag.ms) : 'unknown');
  }

  /** The headers of an answer the primary gave instead of the replica (behind it by nothing). */
  describeFallback(res: Response, reason: ReadFallback = 'replica-unavailable'): void {
    const reads = this.context.getStore();
    if (reads) reads.fallback = reason;
    res.setHeader(READ_HEADERS.source, 'primary');
    res.setHeader(READ_HEADERS.fallback, reason);
    res.setHeader(READ_HEADERS.lagBytes, '0');
    res.setHeader(READ_HEADERS.lagMs, '0');
  }

  /**
   * Whether a request that failed with `e` after taking a replica connection should run again on
   * the primary: `e` is a connection-level error and the replica, asked again, cannot be reached
   * (a connection that died while the replica went down; the primary failing is not retried).
   */
  async retryOnPrimary(e: unknown, reads: ReadContext): Promise<boolean> {
    if (!this.isReplica || !reads.usedReplica || !isConnectionLevelError(e)) return false;
    const pool = this.replicaPool();
    const down = pool
      ? await pool.query('SELECT 1').then(
          () => false,
          (err: unknown) => this.replicaFailed(err),
        )
      : true;
    if (down) reads.usedReplica = false;
    return down;
  }

  /** Counts an answer given by the primary instead of the replica. */
  answered(reads: ReadContext): void {
    if (reads.fallback) this.metrics?.readFallbacks.inc({ reason: reads.fallback });
  }

  /**
   * Replaces how the replica DataSource takes a connection: from the replica while the breaker
   * lets it, else (or when the attempt fails at the connection level) from the primary's pool.
   */
  private fallBackToPrimary(): void {
    const replica = this.db.driver as unknown as PgDriver;
    const primary = this.primary.driver as unknown as PgDriver;
    const connectReplica = replica.obtainMasterConnection.bind(replica);
    replica.obtainMasterConnection = async () => {
      if (this.initializing.getStore()) return connectReplica();
      if (this.db.isInitialized && this.breaker.tryReplica()) {
        try {
          const connection = await connectReplica();
          this.replicaUp();
          const reads = this.context.getStore();
          if (reads) reads.usedReplica = true;
          return connection;
        } catch (e) {
          if (!this.replicaFailed(e)) {
            this.breaker.release();
            throw e;
          }
        }
      }
      const reads = this.context.getStore();
      if (reads) reads.fallback = 'replica-unavailable';
      return primary.obtainMasterConnection();
    };
  }

  /** The replica's own pg pool (not the fallback), once its DataSource is initialized. */
  private replicaPool(): PgDriver['master'] {
    return this.db.isInitialized ? (this.db.driver as unknown as PgDriver).master : undefined;
  }

  /**
   * Opens the breaker if `e` says the replica cannot be reached. A timeout while its pool has
   * every connection out is a busy replica, not a missing one: not a fallback.
   */
  private replicaFailed(e: unknown): boolean {
    if (!isConnectionLevelError(e)) return false;
    const pool = this.replicaPool();
    const message = e instanceof Error ? e.message : '';
    if (pool && /timeout exceeded/.test(message) && pool.totalCount >= (pool.options.max ?? Infinity)) return false;
    this.cached = undefined;
    if (this.breaker.failed(e)) {
      this.logger.warn(
        `read replica unavailable (${this.breaker.lastError}): reads go to the primary, retrying the replica every ${this.breaker.retryMs} ms`,
      );
      this.metrics?.replicaAvailable.set(0);
    }
    return true;
  }

  private replicaUp(): void {
    if (this.breaker.succeeded()) {
      this.logger.log('read replica reachable again: reads go back to it');
      this.metrics?.replicaAvailable.set(1);
    }
  }

  private initializeReplica(): Promise<DataSource> {
    return this.initializing.run(true, () => this.db.initialize());
  }

  /** Until the replica DataSource initializes: every REPLICA_RETRY_MS, reads on the primary meanwhile. */
  private retryInitialize(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.initializeReplica().then(
        () => this.replicaUp(),
        (e: unknown) => {
          if (!this.replicaFailed(e)) this.logger.error(`read replica: ${e instanceof Error ? e.message : String(e)}`);
          this.retryInitialize();
        },
      );
    }, this.breaker.retryMs);
    this.retryTimer.unref();
  }

  /**
   * The primary's WAL position first, then the replica's replay position: a replica at or past it
   * holds every transaction committed before the probe. A server that is not in recovery (a
   * replica promoted after a failover, or DATABASE_READ_URL naming the primary) is not behind.
   * Asked of the replica's own pool, never of the fallback: a failure opens the breaker, an
   * answer closes it.
   */
  private async probe(): Promise<ReplicaLag> {
    const pool = this.replicaPool();
    if (!pool) throw new Error('the read replica is not connected');
    const [{ lsn }] = (await this.primary.query('SELECT pg_current_wal_lsn()::text AS lsn')) as Array<{
      lsn: string;
    }>;
    const { rows } = await pool
      .query(
        `SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS replay,
                pg_last_xact_replay_timestamp() AS replayed_at, now() AS now`,
      )
      .catch((e: unknown) => {
        this.replicaFailed(e);
        throw e;
      });
    this.replicaUp();
    const [r] = rows as Array<{ recovering: boolean; replay: string | null; replayed_at: Date | null; now: Date }>;
    if (!r.recovering) return NO_LAG;
    return replicaLag({ primaryLsn: lsn, replayLsn: r.replay, replayedCommitAt: r.replayed_at, now: r.now });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    // After the HTTP server closed (Nest's shutdown order), like the primary's pool.
    if (this.isReplica && this.db.isInitialized) await this.db.destroy();
  }
}

/**
 * Puts the read headers on every answer of a controller whose reads go to ReadDatabase, and runs
 * the request's reads in a ReadContext: an answer the primary gave because the replica could not
 * be reached says so, and a request whose replica connection died with the replica runs once more,
 * on the primary, if nothing was sent yet.
 */
@Injectable()
export class ReadAnswerInterceptor implements NestInterceptor {
  constructor(private readonly read: ReadDatabase) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const res = ctx.switchToHttp().getResponse<Response>();
    const reads: ReadContext = {};
    // Set before the handler runs: streamed answers (bundles) send their headers early.
    await this.read.context.run(reads, () => this.read.describe(res));
    // Nest binds the handler to the async context next.handle() is called in.
    const handle = () => this.read.context.run(reads, () => next.handle());
    return handle().pipe(
      catchError((e: unknown) =>
        from(res.headersSent ? Promise.resolve(false) : this.read.retryOnPrimary(e, reads)).pipe(
          mergeMap((retry) => (retry ? handle() : throwError(() => e))),
        ),
      ),
      tap(() => {
        if (reads.fallback && !res.headersSent) this.read.describeFallback(res, reads.fallback);
      }),
      finalize(() => this.read.answered(reads)),
    );
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
    const read = await ReadDatabase.open(primary, replica, metrics);
    metrics?.watchReplicaLag(() => read.lag());
    return read;
  },
};

/** One ReadDatabase per application, whichever feature modules import it. */
@Module({ providers: [readDatabaseProvider, ReadAnswerInterceptor], exports: [ReadDatabase, ReadAnswerInterceptor] })
export class ReadDatabaseModule {}
