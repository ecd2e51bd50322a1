/**
 * The service as a child process (test/support/service-process.ts running
 * bench/service-child.ts → createApp of the real AppModule) and its IPC requests, and waiting for
 * it to consume a topic up to its high watermarks (consumed_offsets in PostgreSQL is the
 * service's own record of what it has durably appended).
 */
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { startServiceProcess, type ServiceProcess } from '../../test/support/service-process.js';
import { sleep } from './env.js';
import { topicOffsets } from './kafka.js';

const CHILD_ENTRY = fileURLToPath(new URL('../service-child.js', import.meta.url));

interface ChildMessage {
  type: string;
  [k: string]: unknown;
}

/** A consumer GROUP_JOIN of the child: when, its pid, and the partitions it was assigned by topic. */
export type OnJoined = (at: number, pid: number, assignment?: Record<string, number[]>) => void;

export class ServiceChild {
  private errors = '';
  private waiters: Array<{ type: string; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }> = [];

  private constructor(
    private readonly proc: ServiceProcess,
    private readonly onJoined?: OnJoined,
  ) {
    proc.child.on('message', (m: ChildMessage) => {
      if (m.type === 'joined') this.onJoined?.(m.at as number, proc.pid, m.assignment as Record<string, number[]>);
      if (m.type === 'error') {
        this.errors += `\n[bench] child error: ${String(m.message)}\n`;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`service child: ${String(m.message)}`));
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
  }

  /**
   * `onJoined` runs as the consumer's GROUP_JOIN message arrives (before start() resolves: the join
   * happens inside listen()), with the partitions it was assigned by topic; `onSpawn` as soon as the
   * child has a pid.
   */
  static async start(
    env: Record<string, string>,
    onJoined?: OnJoined,
    onSpawn?: (pid: number) => void,
  ): Promise<ServiceChild> {
    const proc = await startServiceProcess(env, { entry: CHILD_ENTRY, ipc: true, waitReady: false });
    onSpawn?.(proc.pid);
    const svc = new ServiceChild(proc, onJoined);
    await proc.waitReady();
    return svc;
  }

  get pid(): number {
    return this.proc.pid;
  }

  output(): string {
    return this.proc.output() + this.errors;
  }

  waitFor(type: string, timeoutMs = 30_000): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(e);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.reject(new Error(`service child: no '${type}' within ${timeoutMs} ms\n${this.output().slice(-3000)}`)),
        timeoutMs,
      );
      this.waiters.push(waiter);
      void this.proc.exited.then(({ code, signal }) =>
        waiter.reject(
          new Error(
            `service child exited (${code ?? signal}) while waiting for '${type}'\n${this.output().slice(-3000)}`,
          ),
        ),
      );
    });
  }

  async request(cmd: object, reply: string, timeoutMs = 60_000): Promise<ChildMessage> {
    const p = this.waitFor(reply, timeoutMs);
    this.proc.child.send(cmd);
    return p;
  }

  async stats(): Promise<{ cpuS: number; maxRssMiB: number; rssMiB: number }> {
    return (await this.request({ cmd: 'stats' }, 'stats')) as never;
  }

  /** SIGTERM (the service closes as `node dist/main.js` does), SIGKILL after 20 s. */
  stop(): Promise<void> {
    return this.proc.stop(20_000);
  }
}

/**
 * Polls consumed_offsets until every partition of `topic` reached its high watermark (read
 * once, at call time). Returns Date.now() of the poll that saw it.
 */
export async function waitConsumed(
  pool: pg.Pool,
  kafka: Kafka,
  groupId: string,
  topic: string,
  opts: { timeoutMs: number; intervalMs?: number; describe?: () => string },
): Promise<number> {
  const highs = await topicOffsets(kafka, topic);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ partition: number; next_offset: string }>(
      'SELECT partition, next_offset FROM consumed_offsets WHERE group_id = $1 AND topic = $2',
      [groupId, topic],
    );
    const at = Date.now();
    const by = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
    if (highs.every((h) => h.high === 0 || (by.get(h.partition) ?? 0) >= h.high)) return at;
    if (at > deadline) {
      throw new Error(
        `not consumed within ${opts.timeoutMs} ms: highs ${JSON.stringify(highs)}, stored ${JSON.stringify([...by])}\n${opts.describe?.() ?? ''}`,
      );
    }
    await sleep(opts.intervalMs ?? 20);
  }
}

/** A few figures of the service's /metrics (batch sizes and times as the consumer saw them). */
export async function scrapeMetrics(port: number): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
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
