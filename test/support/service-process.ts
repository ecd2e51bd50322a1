import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pollUntil } from './poll-until.js';

/** The service as a real child process (`node dist/main.js`), for crash and restart tests. */
export interface ServiceProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Children still running; killed if the test process exits first (a timed-out test, say). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startServiceProcess(env: Record<string, string>, opts: { waitReady?: boolean } = {}): Promise<ServiceProcess> {
  const port = Number(env.PORT);
  const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'main.js')], {
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  live.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    live.delete(child);
    resolve(code);
  }));
  const svc: ServiceProcess = {
    port,
    child,
    output: () => out,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (opts.waitReady !== false) {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${out}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return res?.ok === true;
      },
      { timeoutMs: 60_000, what: () => `service on :${port} to become ready\n${out.slice(-3000)}` },
    );
  }
  return svc;
}
