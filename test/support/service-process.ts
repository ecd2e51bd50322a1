import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pollUntil } from './poll-until.js';

/**
 * The built service as a real child process, for the integration tests, the chaos suite (kill,
 * stop and restart it at will) and the bench (which runs it through bench/service-child.ts to
 * talk to it over IPC). The bench compiles this file too (tsconfig.build.json).
 */
export interface ServiceProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** true while the process runs. */
  alive(): boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM by default) unless it has exited; resolves with the exit code (null when killed by a signal). */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Sends `signal` without waiting for an exit (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Polls GET /readyz until it answers 200; throws when the process exits first. */
  waitReady(timeoutMs?: number): Promise<void>;
}

export interface StartServiceOptions {
  /** Wait for /readyz before resolving (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** The script node runs (default `dist/main.js` of the working directory). */
  entry?: string;
  /** Open an IPC channel (`child.send`, the child's `process.send`). */
  ipc?: boolean;
}

/** Children still running; killed if this process exits first (a timed-out test, say). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** `node <entry>` with `env` over this process's (NODE_ENV=test unless `env` sets it); PORT must be set. */
export async function startServiceProcess(
  env: Record<string, string>,
  opts: StartServiceOptions = {},
): Promise<ServiceProcess> {
  const port = Number(env.PORT);
  const entry = opts.entry ?? join(process.cwd(), 'dist', 'main.js');
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? ['ipc' as const] : [])],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-400_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  const svc: ServiceProcess = {
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    pid: child.pid!,
    exited,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: async (signal = 'SIGTERM') => {
      if (svc.alive()) child.kill(signal);
      return (await exited).code;
    },
    signal: (signal) => {
      if (svc.alive()) child.kill(signal);
    },
    stop: async (graceMs = 20_000) => {
      const timer = setTimeout(() => svc.signal('SIGKILL'), graceMs);
      await svc.kill('SIGTERM');
      clearTimeout(timer);
    },
    waitReady: (timeoutMs = 60_000) =>
      pollUntil(
        async () => {
          if (!svc.alive())
            throw new Error(`service exited (${child.exitCode ?? child.signalCode}):\n${out.slice(-4000)}`);
          return (await readyStatus(svc)) === 200;
        },
        { timeoutMs, intervalMs: 100, what: () => `service on :${port} to become ready\n${out.slice(-3000)}` },
      ),
  };
  if (opts.waitReady !== false) await svc.waitReady(opts.readyTimeoutMs);
  return svc;
}

/** GET /readyz status, or 0 when the request itself fails or takes over 8 s. */
export async function readyStatus(svc: { base: string }): Promise<number> {
  const res = await fetch(`${svc.base}/readyz`, { signal: AbortSignal.timeout(8000) }).catch(() => undefined);
  await res?.arrayBuffer().catch(() => undefined);
  return res?.status ?? 0;
}
