import { Piscina } from 'piscina';
import type { RawMessage } from './decode-batch.js';
import type { DecoderSource } from './gateways/gateway-policy.js';
import type { DecodedItem, PreparedRecord } from '../ledger/ledger-input.js';
import { HASH_SIZE } from '../domain/merkle/hasher.js';
import type { DecodeResult, DecodeTask } from './decode-worker.js';
import { QUERY_COLUMN_NAMES } from '../ledger/record-columns.js';

const QUERY_VALUES_PER_RECORD = QUERY_COLUMN_NAMES.length;

export interface PoolBatch {
  topic: string;
  partition: number;
  maxMessageBytes: number;
  receivedAt: Date;
  messages: RawMessage[];
}

/**
 * Worker threads that decode and prepare Kafka batches (decode-worker.ts): the consumer's thread
 * only fetches, plans the append and writes, so two batches' CPU work runs beside it. The result
 * equals decodeBatch followed by prepareRecord on the caller's thread (a spec holds them equal).
 * A worker that dies fails only the batch it held (its promise rejects, the consumer retries) and
 * is replaced.
 */
export class DecodePool {
  private readonly pool: Piscina<DecodeTask, DecodeResult>;

  /** `filename`: the compiled worker module; by default the decode-worker.js beside this file. */
  constructor(threads: number, filename: string = new URL('./decode-worker.js', import.meta.url).href) {
    this.pool = new Piscina({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
    });
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  async decode(batch: PoolBatch, source: DecoderSource): Promise<DecodedItem[]> {
    const task = packBatch(batch, source);
    const result = await this.pool.run(task, { transferList: [task.values.buffer as ArrayBuffer] });
    return unpackResult(result);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/**
 * The batch as one task: every value copied once into a buffer of its own, which is then moved
 * (not copied) to the worker. allocUnsafeSlow, never the shared pool Buffer.alloc* may hand out:
 * moving a pooled buffer would take every other Buffer on it along.
 */
export function packBatch(batch: PoolBatch, source: DecoderSource): DecodeTask {
  let total = 0;
  for (const m of batch.messages) total += m.value?.length ?? 0;
  const values = Buffer.allocUnsafeSlow(total);
  const lengths: number[] = [];
  let at = 0;
  for (const m of batch.messages) {
    if (m.value === null) {
      lengths.push(-1);
      continue;
    }
    m.value.copy(values, at);
    at += m.value.length;
    lengths.push(m.value.length);
  }
  return {
    topic: batch.topic,
    partition: batch.partition,
    maxMessageBytes: batch.maxMessageBytes,
    receivedAtMs: batch.receivedAt.getTime(),
    offsets: batch.messages.map((m) => m.offset),
    lengths,
    values: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    headers: batch.messages.map((m) => m.headers),
    source,
  };
}

/** The items a DecodeResult holds, in offset order; content hashes as views into the one array they crossed in. */
export function unpackResult(r: DecodeResult): DecodedItem[] {
  const hashes = Buffer.from(r.contentHashes.buffer, r.contentHashes.byteOffset, r.contentHashes.byteLength);
  const items: DecodedItem[] = new Array<DecodedItem>(r.order.length);
  let k = 0;
  for (let i = 0; i < r.order.length; i++) {
    const p = r.order[i];
    if (p >= 0) {
      const poison = r.poison[p];
      items[i] = {
        ...poison,
        payload: Buffer.from(poison.payload.buffer, poison.payload.byteOffset, poison.payload.byteLength),
      };
      continue;
    }
    const latency = r.latencies[k];
    const flags = r.flags[k];
    const prepared: PreparedRecord = {
      kind: 'prepared',
      offset: r.offsets[k],
      eventId: r.eventIds[k],
      tenantId: r.tenantIds[k],
      json: r.jsons[k],
      contentSha256: hashes.subarray(HASH_SIZE * k, HASH_SIZE * (k + 1)),
      queryValues: r.queryValues.slice(QUERY_VALUES_PER_RECORD * k, QUERY_VALUES_PER_RECORD * (k + 1)),
      summary: {
        keyText: r.keyTexts[k],
        affected: (flags & 1) !== 0,
        fallback: (flags & 2) !== 0,
        error: (flags & 4) !== 0,
        cacheHit: (flags & 8) !== 0,
        latencyMs: Number.isNaN(latency) ? undefined : latency,
        cost: r.costs[k] ?? undefined,
        occurredAt: r.occurredAts[k],
        eventId: r.eventIds[k],
      },
      findings: { keyText: r.findingKeys[k] },
      costs: Number.isNaN(r.costTokens[k])
        ? { keyText: r.costKeys[k], amount: null, tokens: 0 }
        : { keyText: r.costKeys[k], amount: r.costs[k], tokens: r.costTokens[k] },
    };
    items[i] = prepared;
    k++;
  }
  return items;
}
