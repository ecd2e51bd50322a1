import { createHash } from 'node:crypto';
import type { DecodedItem, Poison } from '../ledger/ledger-input.js';
import { redactForDeadLetter, redactHeaders } from '../domain/privacy/redact.js';
import type { AdaptedRecord, RawEvent } from './adapters/adapter.js';
import { isUtf8 } from 'node:buffer';
import { firstDuplicateKey, provablyNoDuplicateKeys } from '../domain/json/duplicate-keys.js';
import { parsePayloadAhead } from './adapters/payload.js';

/**
 * Turns the raw messages of one Kafka batch into records to append and poison to
 * quarantine, preserving offset order. Pure: no I/O, so the consumer and the HTTP
 * ingest share it and tests drive it directly.
 */

/** How much of a message over MAX_MESSAGE_BYTES its dead letter keeps (see decodeMessage). */
export const OVERSIZED_DEAD_LETTER_KEEP_BYTES = 64 * 1024;

export interface RawMessage {
  offset: string;
  value: Buffer | null;
  headers: Record<string, string | undefined>;
}

/**
 * Format detection + gateway adapter: one payload may hold several events. Throws DecodeError on
 * undecodable input. The records returned are new objects each call: the caller may change them.
 */
export type EventDecoder = (raw: RawEvent) => AdaptedRecord[];

export type { DecodedItem, DecodedRecord, Poison } from '../ledger/ledger-input.js';

export interface DecodeContext {
  topic: string;
  partition: number;
  maxMessageBytes: number;
  receivedAt: Date;
  decode: EventDecoder;
}

export function decodeBatch(messages: RawMessage[], ctx: DecodeContext): DecodedItem[] {
  const out: DecodedItem[] = [];
  for (const m of messages) out.push(...decodeMessage(m, ctx));
  return out;
}

export function decodeMessage(m: RawMessage, ctx: DecodeContext): DecodedItem[] {
  // Poison is kept for people to read, so secrets are masked before it is stored or dead-lettered.
  const poison = (reasonCode: string, reason: string, eventId?: string, value: Buffer | null = m.value): Poison => ({
    kind: 'poison',
    offset: m.offset,
    reasonCode,
    reason,
    payload: value ? redactForDeadLetter(value) : Buffer.alloc(0),
    headers: redactHeaders(m.headers),
    eventId,
  });
  if (!m.value || m.value.length === 0) return [poison('EMPTY', 'message has no value')];
  if (m.value.length > ctx.maxMessageBytes) {
    // Keep a bounded prefix, not the whole: the DLQ topic has a size limit too (Kafka's default
    // message.max.bytes is ~1 MB), and a dead letter it refuses fails the batch again and again,
    // stalling the partition; the dev broker drops any set over 5 MiB with its older neighbours.
    const sha = createHash('sha256').update(m.value).digest('hex');
    const kept = m.value.subarray(0, OVERSIZED_DEAD_LETTER_KEEP_BYTES);
    return [
      poison(
        'TOO_LARGE',
        `message is ${m.value.length} bytes, over the ${ctx.maxMessageBytes}-byte limit; the dead letter keeps its first ${kept.length} bytes (SHA-256 of the whole message: ${sha})`,
        undefined,
        kept,
      ),
    ];
  }
  // Bytes JSON.parse would silently alter: invalid UTF-8 becomes U+FFFD, and of duplicate
  // member names the last one wins. The ledger refuses both rather than store a guess.
  if (!isUtf8(m.value)) return [poison('INVALID_UTF8', 'payload is not valid UTF-8')];
  const text = m.value.toString('utf8');
  const duplicate = /^\s*(\ufeff)?\s*[[{]/.test(text) ? duplicateKeyOf(m.value, text) : undefined;
  if (duplicate) return [poison('DUPLICATE_KEY', `member "${duplicate}" appears twice in the same JSON object`)];
  let adapted: ReturnType<EventDecoder>;
  try {
    adapted = ctx.decode({ payload: m.value, headers: m.headers, receivedAt: ctx.receivedAt });
  } catch (e) {
    const err = e as Error & { code?: string };
    return [poison(err.code ?? 'DECODE_FAILED', err.message)];
  }
  // e.g. an OTLP export holding only non-GenAI spans: nothing to record, nothing wrong.
  if (adapted.length === 0) return [];
  // Every adapter ends in finalize(), which validates the record: that is the one gate. The
  // members stamped here are the ledger's own and valid by construction (RFC 3339 ms, ints).
  // Stamped in place: a decoder returns objects of its own making for each call (EventDecoder),
  // and a spread copy would cost the record its fast layout for every later reader.
  const receivedAt = ctx.receivedAt.toISOString();
  return adapted.map(({ record }): DecodedItem => {
    record.received_at = receivedAt;
    record.source = { ...record.source, topic: ctx.topic, partition: ctx.partition, offset: m.offset };
    return { kind: 'record', offset: m.offset, record };
  });
}

/**
 * The first repeated member name of a JSON payload, or undefined. The payload is parsed once
 * here and its adapter takes that parse (parsePayloadAhead); counting members against the parse
 * clears almost every payload, and only the rest are scanned name by name.
 */
function duplicateKeyOf(payload: Buffer, text: string): string | undefined {
  const { text: json, whole } = parsePayloadAhead(payload, text);
  if (whole !== undefined && provablyNoDuplicateKeys(json, whole)) return undefined;
  return firstDuplicateKey(text);
}
