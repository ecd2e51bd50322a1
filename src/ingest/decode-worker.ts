/**
 * A decode worker thread (DecodePool): turns one Kafka batch into prepared records and poison,
 * exactly as the consumer's thread would (decodeBatch, then prepareRecord), and hands them back
 * as plain data. Runs the CPU-heavy part of ingest — JSON parse, adapter, validation,
 * canonicalization, hashing — off the thread that fetches batches and writes them.
 */
import { decodeBatch, type RawMessage } from './decode-batch.js';
import { decodeEvent } from './adapters/format-detection.js';
import { attestingDecoder, gatewaySnapshot, withDefaultTenant, type DecoderSource } from './gateways/gateway-policy.js';
import type { EventDecoder } from './decode-batch.js';
import { prepareRecord } from '../ledger/prepare-record.js';
import type { Poison, PreparedRecord } from '../ledger/ledger-input.js';
import { HASH_SIZE } from '../domain/merkle/hasher.js';

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

/** Items as they cross back: buffers as Uint8Array; content hashes in one array, HASH_SIZE bytes each in item order. */
export type WireItem = Omit<Poison, 'payload'> | Omit<PreparedRecord, 'contentSha256'>;
export interface DecodeResult {
  items: Array<WireItem & { payload?: Uint8Array }>;
  contentHashes: Uint8Array;
}

let cached: { generation: number; decode: EventDecoder } | undefined;

function decoderFor(source: DecoderSource): EventDecoder {
  if (cached?.generation !== source.generation) {
    const snapshot = gatewaySnapshot(source.rows);
    cached = {
      generation: source.generation,
      decode: attestingDecoder(withDefaultTenant(decodeEvent, source.defaultTenant), snapshot),
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
  const prepared = decoded.map((item) => (item.kind === 'record' ? prepareRecord(item.offset, item.record) : item));
  const hashes = new Uint8Array(HASH_SIZE * prepared.filter((p) => p.kind === 'prepared').length);
  let h = 0;
  const items = prepared.map((item): DecodeResult['items'][number] => {
    if (item.kind === 'poison') {
      // Its own copy: a view into a larger (pooled) buffer would drag that whole buffer across.
      return { ...item, payload: new Uint8Array(item.payload) };
    }
    const { contentSha256, ...rest } = item as PreparedRecord;
    hashes.set(contentSha256, HASH_SIZE * h++);
    return rest;
  });
  return { items, contentHashes: hashes };
}
