/**
 * CPU accounting from /proc (Linux): who burns the machine's two cores during a phase.
 * Node (the bench or the service child), PostgreSQL (every postgres process plus the
 * children the postmaster has reaped, so short-lived backends are not lost), the dev broker,
 * and the machine as a whole. Returns undefined fields elsewhere than Linux.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100;

export interface CpuSnapshot {
  /** performance.now() of the snapshot. */
  at: number;
  /** CPU seconds of this process (all threads: the libuv pool's gunzip/gzip too). */
  self: number;
  /** CPU seconds of each watched pid, by label. */
  watched: Record<string, number | undefined>;
  /** CPU seconds of all postgres processes, reaped children included. */
  postgres?: number;
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

/** utime + stime of a live process, in seconds (children excluded). */
export function processCpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : undefined;
}

function postgresCpuSeconds(): number | undefined {
  let total = 0;
  let seen = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm !== 'postgres') continue;
    const f = statFields(pid);
    if (!f) continue;
    // utime, stime, cutime, cstime (fields 14-17): the postmaster's cutime holds exited backends.
    total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
    seen++;
  }
  return seen ? total : undefined;
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

export function cpuSnapshot(watch: Record<string, number | undefined> = {}): CpuSnapshot {
  const u = process.cpuUsage();
  const watched: Record<string, number | undefined> = {};
  for (const [k, pid] of Object.entries(watch)) watched[k] = pid === undefined ? undefined : processCpuSeconds(pid);
  return { at: performance.now(), self: (u.user + u.system) / 1e6, watched, postgres: postgresCpuSeconds(), machine: machineJiffies() };
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
    postgresS: a.postgres !== undefined && b.postgres !== undefined ? b.postgres - a.postgres : undefined,
    machineBusy: a.machine && b.machine && b.machine.total > a.machine.total ? (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total) : undefined,
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
