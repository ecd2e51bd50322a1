/**
 * When reads meant for the read replica go to the primary instead: the replica failed at the
 * connection level (unreachable, shutting down, refusing connections), not on a query the
 * primary would refuse as well. A short circuit breaker then keeps the following reads off the
 * replica, so that they do not each wait for a connection attempt, and lets one read at a time
 * try it again once `retryMs` has passed.
 */

/** Why a read meant for the replica was answered by the primary (the `x-read-fallback` header). */
export type ReadFallback = 'replica-unavailable';

/** Socket-level failures of a connection attempt or of an open connection (Node's error codes). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs that say the server cannot serve this session at all (PostgreSQL manual, appendix A):
 * class 08 (connection exception), 53300 too_many_connections, 57P01 admin_shutdown,
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, or shutting down).
 */
const SERVER_UNAVAILABLE = /^(08...|53300|57P0[123])$/;

/** What node-postgres says when a connection dies or cannot be made in time. */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /^connect E[A-Z]+/,
];

/**
 * Whether `e` (as thrown by pg or TypeORM, which keeps pg's error as `driverError`) means the
 * database could not be reached or dropped the connection, rather than refusing a query.
 */
export function isConnectionLevelError(e: unknown): boolean {
  for (let err = e, depth = 0; err && typeof err === 'object' && depth < 4; depth++) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_UNAVAILABLE.test(code))) return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => m.test(message))) return true;
    err = (err as { driverError?: unknown; cause?: unknown }).driverError ?? (err as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Closed: reads try the replica. Open (after a connection-level failure): reads go to the
 * primary until `retryMs` has passed; then one read tries the replica (the others still go to
 * the primary until it answers): success closes the breaker, failure opens it for `retryMs` more.
 */
export class ReplicaBreaker {
  private openUntil = 0;
  private trying = false;
  /** The failure that opened the breaker. */
  lastError?: string;

  constructor(
    readonly retryMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while reads skip the replica. */
  get isOpen(): boolean {
    return this.openUntil !== 0;
  }

  /** Open, and the retry time has passed with no read trying the replica yet. */
  get retryDue(): boolean {
    return this.openUntil !== 0 && !this.trying && this.now() >= this.openUntil;
  }

  /**
   * Whether this read should use the replica. While open, answers true once the retry time has
   * passed, to the first caller only, until it reports back through succeeded() or failed().
   */
  tryReplica(): boolean {
    if (this.openUntil === 0) return true;
    if (this.trying || this.now() < this.openUntil) return false;
    this.trying = true;
    return true;
  }

  /** The replica answered (or gave a connection): reads use it again. Returns whether it was open. */
  succeeded(): boolean {
    const was = this.isOpen;
    this.openUntil = 0;
    this.trying = false;
    this.lastError = undefined;
    return was;
  }

  /** The replica failed at the connection level: reads skip it for `retryMs`. Returns whether it was closed. */
  failed(e: unknown): boolean {
    const was = !this.isOpen;
    this.openUntil = this.now() + this.retryMs;
    this.trying = false;
    this.lastError = e instanceof Error ? e.message : String(e);
    return was;
  }

  /** A trial read ended neither way (a query error): the next read may try again. */
  release(): void {
    this.trying = false;
  }
}
