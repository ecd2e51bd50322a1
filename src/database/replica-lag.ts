/**
 * How far a streaming replica is behind its primary, from two cheap probes: the primary's
 * current WAL position (`pg_current_wal_lsn()`), read first, then the replica's replay
 * position and the commit time of the last transaction it replayed
 * (`pg_last_wal_replay_lsn()`, `pg_last_xact_replay_timestamp()`; PostgreSQL manual,
 * "System Administration Functions", recovery information functions).
 */
export interface ReplicaLag {
  /** WAL bytes the primary had written when probed that the replica had not yet replayed. */
  bytes: number;
  /**
   * 0 once the replica has replayed everything the primary had written; otherwise the time since
   * the commit of the last transaction the replica replayed (an upper bound while the primary is
   * busy; on an idle primary the gap closes as soon as the WAL is replayed). Clocks of the two
   * hosts are compared, so keep them synchronised. Null when the replica is behind but has not
   * replayed a single commit since it started (nothing to measure from).
   */
  ms: number | null;
}

export interface LagProbe {
  /** The primary's `pg_current_wal_lsn()` as text (`16/B374D848`). */
  primaryLsn: string;
  /** The replica's `pg_last_wal_replay_lsn()`; null before it replayed anything. */
  replayLsn: string | null;
  /** The replica's `pg_last_xact_replay_timestamp()`; null before it replayed a commit. */
  replayedCommitAt: Date | null;
  /** The replica's `now()`. */
  now: Date;
}

/** A PostgreSQL `pg_lsn` text (two hex halves of a 64-bit WAL position) as a number of bytes. */
export function lsnToBigInt(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!m) throw new Error(`not a pg_lsn: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export function replicaLag(p: LagProbe): ReplicaLag {
  const behind =
    p.replayLsn === null ? lsnToBigInt(p.primaryLsn) : lsnToBigInt(p.primaryLsn) - lsnToBigInt(p.replayLsn);
  if (behind <= 0n) return { bytes: 0, ms: 0 };
  const bytes = behind > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(behind);
  const ms = p.replayedCommitAt === null ? null : Math.max(0, p.now.getTime() - p.replayedCommitAt.getTime());
  return { bytes, ms };
}
