import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { decodeMessage, type DecodedItem } from './decode-batch.js';
import { decodeEvent } from './adapters/format-detection.js';
import { KafkaClientService } from './kafka-client.service.js';

export interface IngestAccepted {
  accepted: number;
  event_ids: string[];
}

export class IngestRejected extends Error {
  readonly code = 'INGEST_REJECTED';
  constructor(readonly errors: Array<{ index: number; errors: string[] }>) {
    super(`${errors.length} of the submitted events are invalid; none was accepted`);
  }
}

/**
 * Webhook ingest for gateways that cannot produce to Kafka: validates with the same decode
 * step as the consumer and produces to the decisions topic, so every event still takes the
 * one ledger path (and its exactly-once guarantees). All or nothing per request.
 */
@Injectable()
export class HttpIngestService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly kafka: KafkaClientService,
  ) {}

  async ingest(body: Buffer, headers: Record<string, string | undefined>): Promise<IngestAccepted> {
    const payloads = splitPayloads(body);
    const decoded: DecodedItem[][] = payloads.map((p, i) =>
      decodeMessage({ offset: String(i), value: p, headers }, {
        topic: this.config.kafka.topics.decisions, partition: 0, maxMessageBytes: this.config.maxMessageBytes, receivedAt: new Date(), decode: decodeEvent,
      }),
    );
    const errors = decoded.flatMap((items, index) => {
      const reasons = items.flatMap((it) => (it.kind === 'poison' ? [it.reason] : []));
      return reasons.length ? [{ index, errors: reasons }] : [];
    });
    if (payloads.length === 0) throw new IngestRejected([{ index: 0, errors: ['body holds no events'] }]);
    if (errors.length > 0) throw new IngestRejected(errors);
    const records = decoded.flatMap((items) => items.flatMap((it) => (it.kind === 'record' ? [it.record] : [])));
    await this.kafka.send(
      this.config.kafka.topics.decisions,
      payloads.map((value, i) => {
        const first = decoded[i].find((it) => it.kind === 'record');
        return { key: first?.kind === 'record' ? first.record.request_id : null, value, headers: pickForwardedHeaders(headers) };
      }),
    );
    return { accepted: records.length, event_ids: records.map((r) => r.event_id) };
  }
}

/** One JSON value, a JSON array of events, or NDJSON: returns one buffer per event. */
export function splitPayloads(body: Buffer): Buffer[] {
  const text = body.toString('utf8').trim();
  if (text.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      throw new IngestRejected([{ index: 0, errors: [`body is not valid JSON: ${(e as Error).message}`] }]);
    }
    return (arr as unknown[]).map((v) => Buffer.from(JSON.stringify(v)));
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > 1 && lines.every((l) => l.trimStart().startsWith('{'))) {
    try {
      lines.forEach((l) => JSON.parse(l));
      return lines.map((l) => Buffer.from(l));
    } catch {
      // Not NDJSON after all: a pretty-printed single object. Fall through.
    }
  }
  return text ? [Buffer.from(text)] : [];
}

function pickForwardedHeaders(h: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['x-routing-format', 'x-routing-tenant', 'x-gateway-id', 'x-gateway-signature']) if (h[k]) out[k] = h[k]!;
  return out;
}
