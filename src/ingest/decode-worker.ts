/**
 * A decode worker thread (DecodePool): turns one Kafka batch into prepared records and poison,
 * exactly as the consumer's thread would (decodeBatch, then prepareRecord), and hands them back
 * as plain data. Runs the CPU-heavy part of ingest — JSON parse, adapter, validation,
 * canonicalization, hashing — off the thread that fetches batches and writes them.
 */
import { decodeBatch, type RawMessage } from './decode-batch.js';
import { gatewaySnapshot, ledgerDecoder, type DecoderSource } from './gateways/gateway-policy.js';
import type { EventDecoder } from './decode-batch.js';
import { prepareItems } from '../ledger/prepare-record.js';
import type { Poison, PreparedRecord } from '../ledger/ledger-input.js';
import { HASH_SIZE } from '../domain/merkle/hasher.js';
import type { CopyValue } from '../database/copy-text.js';

/** One batch, packed so that its bytes move to the worker instead of being copied. */
export interface DecodeTask {
  topic: string;
  partition: number;
  maxMessageBytes: number;
  receivedAtMs: number;
  offsets: string[];
  /** Byte length of each message's value in `values`, -1 for a null value. */
  lengths: number[];
  values: Uint8Array;
  headers: Array<Record<string, string | undefined>>;
  source: DecoderSource;
}

/**
 * The prepared records of a batch by column, and its poison whole. Columns because the copy
 * between threads pays for every object and every member name it carries: a thousand records
 * as objects cost the receiving thread about twice what the same values cost as a few arrays.
 */
export interface DecodeResult {
  /** Per item in offset order: the index into `poison`, or -1 for the next prepared record. */
  order: Int32Array;
  poison: Array<Omit<Poison, 'payload'> & { payload: Uint8Array }>;
  offsets: string[];
  eventIds: string[];
  tenantIds: string[];
  jsons: string[];
  /** HASH_SIZE bytes per prepared record. */
  contentHashes: Uint8Array;
  /** QUERY_COLUMN_NAMES.length values per prepared record (record-columns.ts). */
  queryValues: CopyValue[];
  keyTexts: string[];
  /** The finding summary key text of each record. */
  findingKeys: string[];
  /** The cost summary key text of each record. */
  costKeys: string[];
  /** The tokens a record's cost row sums; NaN where it sums no amount (its amount is then `costs`'). */
  costTokens: Float64Array;
  /** Bits per record: 1 affected, 2 fallback, 4 error, 8 cache hit. */
  flags: Uint8Array;
  /** NaN where the record has no latency. */
  latencies: Float64Array;
  costs: Array<string | null>;
  occurredAts: string[];
}

let cached: { generation: number; decode: EventDecoder } | undefined;

function decoderFor(source: DecoderSource): EventDecoder {
  if (cached?.generation !== source.generation) {
    cached = {
      generation: source.generation,
      decode: ledgerDecoder(gatewaySnapshot(source.rows), source.defaultTenant),
    };
  }
  return cached.decode;
}

export function unpackMessages(task: DecodeTask): RawMessage[] {
  const bytes = Buffer.from(task.values.buffer, task.values.byteOffset, task.values.byteLength);
  const messages: RawMessage[] = [];
  let at = 0;
  for (let i = 0; i < task.offsets.length; i++) {
    const n = task.lengths[i];
    messages.push({
      offset: task.offsets[i],
      value: n < 0 ? null : bytes.subarray(at, at + n),
      headers: task.headers[i],
    });
    if (n > 0) at += n;
  }
  return messages;
}

export default function decodeTask(task: DecodeTask): DecodeResult {
  const decoded = decodeBatch(unpackMessages(task), {
    topic: task.topic,
    partition: task.partition,
    maxMessageBytes: task.maxMessageBytes,
    receivedAt: new Date(task.receivedAtMs),
    decode: decoderFor(task.source),
  });
  const records: PreparedRecord[] = [];
  const out: DecodeResult = {
    order: new Int32Array(decoded.length),
    poison: [],
    offsets: [],
    eventIds: [],
    tenantIds: [],
    jsons: [],
    contentHashes: new Uint8Array(0),
    queryValues: [],
    keyTexts: [],
    findingKeys: [],
    costKeys: [],
    costTokens: new Float64Array(0),
    flags: new Uint8Array(0),
    latencies: new Float64Array(0),
    costs: [],
    occurredAts: [],
  };
  prepareItems(decoded).forEach((item, i) => {
    if (item.kind === 'poison') {
      out.order[i] = out.poison.length;
      // Its own copy: a view into a larger (pooled) buffer would drag that whole buffer across.
      out.poison.push({ ...item, payload: new Uint8Array(item.payload) });
      return;
    }
    out.order[i] = -1;
    records.push(item);
  });
  out.contentHashes = new Uint8Array(HASH_SIZE * records.length);
  out.flags = new Uint8Array(records.length);
  out.latencies = new Float64Array(records.length);
  out.costTokens = new Float64Array(records.length);
  records.forEach((r, k) => {
    out.offsets.push(r.offset);
    out.eventIds.push(r.eventId);
    out.tenantIds.push(r.tenantId);
    out.jsons.push(r.json);
    out.contentHashes.set(r.contentSha256, HASH_SIZE * k);
    for (const v of r.queryValues) out.queryValues.push(v);
    const f = r.summary;
    out.keyTexts.push(f.keyText);
    out.findingKeys.push(r.findings.keyText);
    out.costKeys.push(r.costs.keyText);
    out.costTokens[k] = r.costs.amount === null ? NaN : r.costs.tokens;
    out.flags[k] = (f.affected ? 1 : 0) | (f.fallback ? 2 : 0) | (f.error ? 4 : 0) | (f.cacheHit ? 8 : 0);
    out.latencies[k] = f.latencyMs ?? NaN;
    out.costs.push(f.cost ?? null);
    out.occurredAts.push(f.occurredAt);
  });
  return out;
}
