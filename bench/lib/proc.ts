/**
 * CPU accounting from /proc (Linux): who burns the machine's cores during a phase.
 * Node (the bench or the service child), PostgreSQL (the backends of the bench database), the
 * dev broker, and the machine as a whole (other people's work included: see loadavg in the
 * report). Returns undefined fields elsewhere than Linux.
 */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

export interface CpuSnapshot {
  /** performance.now() of the snapshot. */
  at: number;
  /** CPU seconds of this process (all threads: the libuv pool's gunzip/gzip too). */
  self: number;
  /** CPU seconds of each watched pid, by label. */
  watched: Record<string, number | undefined>;
  /** CPU seconds of each backend of the bench database, by pid. */
  postgres?: Record<number, number>;
  /** Machine-wide busy and total jiffies (/proc/stat). */
  machine?: { busy: number; total: number };
}

export interface CpuDelta {
  wallS: number;
  selfS: number;
  watchedS: Record<string, number | undefined>;
  postgresS?: number;
  /** Share of all cores that was busy, 0..1. */
  machineBusy?: number;
}

function statFields(pid: number | string): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, so index i here is field i + 3.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** This process's own CPU time (all its threads, user + system), in microseconds. */
export function ownCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * utime + stime of a live process, in seconds (children excluded); of one of its threads for
 * `${pid}/task/${tid}` (the main thread's tid is the pid).
 */
export function processCpuSeconds(pid: number | string): number | undefined {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : undefined;
}

/**
 * Backends of one database (pg_stat_activity), refreshed in the background so that snapshots
 * stay synchronous. Only these are counted: the machine's PostgreSQL also serves other
 * databases, and its WAL writer and checkpointer are shared by all of them.
 */
export class PostgresBackends {
  pids: number[] = [];
  private timer?: NodeJS.Timeout;
  constructor(private readonly list: () => Promise<number[]>) {}
  async start(intervalMs = 200): Promise<void> {
    this.pids = await this.list();
    this.timer = setInterval(() => {
      this.list().then(
        (p) => (this.pids = p),
        () => undefined,
      );
    }, intervalMs);
    this.timer.unref();
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

let backends: PostgresBackends | undefined;
export function watchPostgresBackends(b: PostgresBackends | undefined): void {
  backends = b;
}

function postgresCpu(): Record<number, number> | undefined {
  if (!backends) return undefined;
  const out: Record<number, number> = {};
  for (const pid of backends.pids) {
    const s = processCpuSeconds(pid);
    if (s !== undefined) out[pid] = s;
  }
  return out;
}

function machineJiffies(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(watch: Record<string, number | string | undefined> = {}): CpuSnapshot {
  const u = process.cpuUsage();
  const watched: Record<string, number | undefined> = {};
  for (const [k, pid] of Object.entries(watch)) watched[k] = pid === undefined ? undefined : processCpuSeconds(pid);
  return {
    at: performance.now(),
    self: (u.user + u.system) / 1e6,
    watched,
    postgres: postgresCpu(),
    machine: machineJiffies(),
  };
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  const watchedS: Record<string, number | undefined> = {};
  for (const k of Object.keys(b.watched)) {
    const x = a.watched[k];
    const y = b.watched[k];
    watchedS[k] = x === undefined || y === undefined ? undefined : y - x;
  }
  return {
    wallS: (b.at - a.at) / 1000,
    selfS: b.self - a.self,
    watchedS,
    // A backend that started after `a` counts from zero; one that ended before `b` is lost.
    postgresS:
      a.postgres !== undefined && b.postgres !== undefined
        ? Object.entries(b.postgres).reduce((t, [pid, s]) => t + s - (a.postgres![Number(pid)] ?? 0), 0)
        : undefined,
    machineBusy:
      a.machine && b.machine && b.machine.total > a.machine.total
        ? (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)
        : undefined,
  };
}

/** Peak resident set of a live process (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
