/**
 * The service as a child process (bench/service-child.ts → createApp of the real AppModule),
 * and waiting for it to consume a topic up to its high watermarks (consumed_offsets in
 * PostgreSQL is the service's own record of what it has durably appended).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { sleep } from './env.js';
import { topicOffsets } from './kafka.js';

const CHILD_ENTRY = fileURLToPath(new URL('../service-child.js', import.meta.url));

interface ChildMessage {
  type: string;
  [k: string]: unknown;
}

export class ServiceChild {
  private out = '';
  private waiters: Array<{ type: string; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }> = [];
  private exitCode: number | null | undefined;

  private constructor(readonly child: ChildProcess, private readonly onJoined?: (at: number, pid: number) => void) {
    const keep = (b: Buffer) => {
      this.out = (this.out + b.toString()).slice(-100_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'joined') this.onJoined?.(m.at as number, child.pid!);
      if (m.type === 'error') {
        this.out += `\n[bench] child error: ${String(m.message)}\n`;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`service child: ${String(m.message)}`));
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    child.once('exit', (code) => {
      this.exitCode = code;
    });
  }

  /** `onJoined` runs as the consumer's GROUP_JOIN message arrives (before start() resolves: the join happens inside listen()). */
  static async start(env: Record<string, string>, onJoined?: (at: number, pid: number) => void): Promise<ServiceChild> {
    const child = fork(CHILD_ENTRY, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const svc = new ServiceChild(child, onJoined);
    await svc.waitFor('listening', 60_000);
    return svc;
  }

  get pid(): number {
    return this.child.pid!;
  }

  output(): string {
    return this.out;
  }

  waitFor(type: string, timeoutMs = 30_000): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`service child: no '${type}' within ${timeoutMs} ms (exit ${this.exitCode})\n${this.out.slice(-3000)}`)), timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`service child exited (${code}) while waiting for '${type}'\n${this.out.slice(-3000)}`));
      };
      this.child.once('exit', onExit);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          reject(e);
        },
      });
    });
  }

  async request(cmd: object, reply: string, timeoutMs = 60_000): Promise<ChildMessage> {
    const p = this.waitFor(reply, timeoutMs);
    this.child.send(cmd);
    return p;
  }

  async stats(): Promise<{ cpuS: number; maxRssMiB: number; rssMiB: number }> {
    return (await this.request({ cmd: 'stats' }, 'stats')) as never;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ cmd: 'stop' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * Polls consumed_offsets until every partition of `topic` reached its high watermark (read
 * once, at call time). Returns Date.now() of the poll that saw it.
 */
export async function waitConsumed(pool: pg.Pool, kafka: Kafka, groupId: string, topic: string, opts: { timeoutMs: number; intervalMs?: number; describe?: () => string }): Promise<number> {
  const highs = await topicOffsets(kafka, topic);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM consumed_offsets WHERE group_id = $1 AND topic = $2', [groupId, topic]);
    const at = Date.now();
    const by = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
    if (highs.every((h) => h.high === 0 || (by.get(h.partition) ?? 0) >= h.high)) return at;
    if (at > deadline) {
      throw new Error(`not consumed within ${opts.timeoutMs} ms: highs ${JSON.stringify(highs)}, stored ${JSON.stringify([...by])}\n${opts.describe?.() ?? ''}`);
    }
    await sleep(opts.intervalMs ?? 20);
  }
}

/** A few figures of the service's /metrics (batch sizes and times as the consumer saw them). */
export async function scrapeMetrics(port: number): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(routing_ledger_[a-z_]+(?:_sum|_count|_total)?)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    const key = m[1] + (m[2] && !m[2].includes('le=') ? m[2] : m[2] ? '' : '');
    if (m[2]?.includes('le=')) continue;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}
