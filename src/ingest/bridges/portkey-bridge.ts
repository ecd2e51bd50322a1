import { setTimeout as sleep } from 'node:timers/promises';
import { redactForProduce, redactText, stripUrl } from '../../domain/privacy/redact.js';
import { DecodeError, ROUTING_HEADERS } from '../adapters/adapter.js';
import { decodeEvent } from '../adapters/format-detection.js';
import { SseParser } from './sse-parser.js';

/**
 * The `bridge portkey` command's engine: follows a Portkey gateway's log output and hands each
 * entry, with its credentials and prompt/response text masked (redactForProduce), to a sink that produces it to the decisions topic with
 * `x-routing-format: portkey` (plus the tenant and gateway id the entries lack), so Portkey
 * events take the one ledger path like every other.
 *
 * Two sources, from Portkey's public formats:
 *  - the open-source gateway's log stream, `GET /log/stream` (src/index.ts, src/middlewares/log):
 *    server-sent events `connected`, `heartbeat` and `log`, whose data is one JSON entry with
 *    `requestOptions[]` (one per target tried). The stream has no replay: ids restart at 0 with
 *    the gateway and entries logged while the bridge is disconnected are not sent again, so the
 *    bridge reconnects at once (then with backoff) and says when it was away;
 *  - NDJSON from a URL or stdin: a Logs Export file (JSONL rows, cost in cents) fetched from the
 *    export's signed_url, or entries saved from the stream.
 * Delivery from here on is at least once (Kafka acks from all replicas, retried until stopped);
 * the adapter derives the same event id for the same entry bytes, so a resend is a duplicate.
 */

export interface BridgeMessage {
  value: Buffer;
  headers: Record<string, string>;
}

export interface BridgeSink {
  send(messages: BridgeMessage[]): Promise<void>;
}

export interface BridgeOptions {
  /** x-routing-tenant for the entries: the log stream carries no tenant. */
  tenant?: string;
  /** x-routing-gateway-id: the registered gateway these entries come from. */
  gatewayId?: string;
  /** Headers for the requests to Portkey (x-portkey-api-key); never logged. */
  requestHeaders?: Record<string, string>;
  log: (line: string) => void;
}

export interface BridgeStats {
  received: number;
  produced: number;
  /** Entries produced that the consumer will quarantine (the reason is logged here first). */
  undecodable: number;
  /** Lines or SSE data that are not JSON: not Portkey entries, not produced. */
  skipped: number;
  /** Entries lost because Kafka stayed unavailable and the buffer was full, or at shutdown. */
  dropped: number;
}

export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 30_000;
/** Entries held while Kafka is unavailable before the oldest are dropped (and counted). */
export const MAX_PENDING = 10_000;
const SEND_BATCH = 500;
/** NDJSON reading pauses while this many entries wait (a file can be read faster than produced). */
const HIGH_WATER = 4 * SEND_BATCH;
const SEND_RETRY_MAX_MS = 10_000;

export function newStats(): BridgeStats {
  return { received: 0, produced: 0, undecodable: 0, skipped: 0, dropped: 0 };
}

/** A URL as it may be logged: host and path only (signed export URLs carry credentials in the query). */
export function loggableUrl(url: string): string {
  const u = stripUrl(url);
  return u?.host ? `${u.host}${u.path ?? '/'}` : '(not a URL)';
}

/**
 * Buffers entries and sends them in order, in batches, retrying with backoff while Kafka is
 * unavailable. `drain()` resolves once everything added so far was sent, or at its deadline
 * (what is left is counted as dropped).
 */
export class BatchingSender {
  private pending: BridgeMessage[] = [];
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly sink: BridgeSink,
    private readonly stats: BridgeStats,
    private readonly log: (line: string) => void,
  ) {}

  add(message: BridgeMessage): void {
    this.pending.push(message);
    if (this.pending.length > MAX_PENDING) {
      const lost = this.pending.length - MAX_PENDING;
      this.pending.splice(0, lost);
      this.stats.dropped += lost;
      this.log(
        `Kafka is not taking entries and ${MAX_PENDING} are waiting: dropped the ${lost} oldest (${this.stats.dropped} so far)`,
      );
    }
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (this.pending.length > 0 && !this.stopping) {
      const batch = this.pending.slice(0, SEND_BATCH);
      try {
        await this.sink.send(batch);
        this.pending.splice(0, batch.length);
        this.stats.produced += batch.length;
        delay = RECONNECT_MIN_MS;
      } catch (e) {
        this.log(`producing ${batch.length} entries failed (${(e as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
        delay = Math.min(delay * 2, SEND_RETRY_MAX_MS);
      }
    }
  }

  /** Resolves once fewer than HIGH_WATER entries wait (backpressure for sources that can wait). */
  async room(): Promise<void> {
    while (this.pending.length >= HIGH_WATER && !this.stopping) await sleep(20);
  }

  async drain(deadlineMs: number): Promise<void> {
    const done = this.running ?? Promise.resolve();
    const timedOut = await Promise.race([done.then(() => false), sleep(deadlineMs).then(() => true)]);
    if (timedOut) {
      this.stopping = true;
      this.stats.dropped += this.pending.length;
      if (this.pending.length) this.log(`shutting down with ${this.pending.length} entries not produced`);
      this.pending = [];
    }
  }
}

export function entryHeaders(opts: BridgeOptions): Record<string, string> {
  return {
    [ROUTING_HEADERS.format]: 'portkey',
    ...(opts.tenant ? { [ROUTING_HEADERS.tenant]: opts.tenant } : {}),
    ...(opts.gatewayId ? { [ROUTING_HEADERS.gatewayId]: opts.gatewayId } : {}),
  };
}

/**
 * One entry from either source: counted, checked with the ledger's own decoder (so an operator
 * sees "NO_TENANT: pass --tenant" here rather than only in the quarantine), and queued. Text that
 * is not JSON at all is not an entry: logged and skipped.
 */
function accept(text: string, where: string, opts: BridgeOptions, sender: BatchingSender, stats: BridgeStats): void {
  stats.received++;
  try {
    JSON.parse(text);
  } catch {
    stats.skipped++;
    opts.log(`${where}: not JSON, not a Portkey entry; skipped`);
    return;
  }
  // The gateway's entries carry its upstream API keys and the prompts and answers: masked before
  // they reach the topic, which keeps what it is given for its retention.
  const payload = redactForProduce(Buffer.from(text, 'utf8'));
  const headers = entryHeaders(opts);
  try {
    decodeEvent({ payload, headers, receivedAt: new Date() });
  } catch (e) {
    stats.undecodable++;
    const code = e instanceof DecodeError ? e.code : 'DECODE_FAILED';
    if (code === 'NO_TENANT') {
      opts.log(
        `${where}: no tenant in this entry; pass --tenant (the ledger files it under its DEFAULT_TENANT, or quarantines it as NO_TENANT when DEFAULT_TENANT is empty)`,
      );
    } else {
      opts.log(`${where}: the ledger will quarantine this entry: ${code}: ${redactText((e as Error).message)}`);
    }
  }
  sender.add({ value: payload, headers });
}

/**
 * Follows `GET <url>` (the gateway's /log/stream) until `signal` aborts, reconnecting after any
 * end or error. Returns when stopped; the caller drains the sender.
 */
export async function followLogStream(
  url: string,
  opts: BridgeOptions,
  sender: BatchingSender,
  stats: BridgeStats,
  signal: AbortSignal,
): Promise<void> {
  let delay = RECONNECT_MIN_MS;
  let connections = 0;
  while (!signal.aborted) {
    const parser = new SseParser();
    let gotData = false;
    try {
      const res = await fetch(url, {
        headers: { accept: 'text/event-stream', ...(opts.requestHeaders ?? {}) },
        signal,
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream'))
        throw new Error(
          `content type "${type.slice(0, 64)}", not text/event-stream: is this a Portkey gateway's /log/stream?`,
        );
      connections++;
      opts.log(
        connections === 1
          ? `following ${loggableUrl(url)}`
          : `reconnected to ${loggableUrl(url)}; entries the gateway logged while the bridge was away are not replayed by Portkey`,
      );
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
          gotData = true;
          if (ev.event === 'log') accept(ev.data, `log event ${ev.id ?? '?'}`, opts, sender, stats);
        }
      }
      if (!signal.aborted) opts.log('the log stream ended');
    } catch (e) {
      if (signal.aborted) break;
      opts.log(`log stream ${loggableUrl(url)}: ${redactText((e as Error).message)}`);
    }
    if (signal.aborted) break;
    if (gotData) delay = parser.retryMs ?? RECONNECT_MIN_MS;
    await sleep(delay, undefined, { signal }).catch(() => undefined);
    delay = Math.min(Math.max(delay * 2, parser.retryMs ?? 0), RECONNECT_MAX_MS);
  }
}

/** Reads NDJSON (one entry a line) to its end and queues every entry. */
export async function readNdjson(
  source: AsyncIterable<Uint8Array | string>,
  opts: BridgeOptions,
  sender: BatchingSender,
  stats: BridgeStats,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = '';
  let lineNo = 0;
  const take = (line: string) => {
    lineNo++;
    if (line.trim() !== '') accept(line.trim(), `line ${lineNo}`, opts, sender, stats);
  };
  for await (const chunk of source) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const lines = rest.split(/\r?\n/);
    rest = lines.pop() ?? '';
    lines.forEach(take);
    await sender.room();
  }
  rest += decoder.decode();
  if (rest !== '') take(rest);
}

/** The body of `GET <url>` as a byte stream (NDJSON source). Throws on a non-2xx answer. */
export async function fetchBody(
  url: string,
  requestHeaders: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<AsyncIterable<Uint8Array>> {
  const res = await fetch(url, {
    headers: { accept: 'application/x-ndjson, application/jsonl, */*', ...requestHeaders },
    signal,
  });
  if (!res.ok || !res.body) throw new Error(`GET ${loggableUrl(url)}: HTTP ${res.status}`);
  return res.body as unknown as AsyncIterable<Uint8Array>;
}
