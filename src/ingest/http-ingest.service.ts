import { Inject, Injectable } from '@nestjs/common';
import type { Message } from 'kafkajs';
import { CONFIG } from '../config/config.module.js';
import type { IngestConfig, KafkaConfig } from '../config/app-config.js';
import type { SourceFormat } from '../domain/record/canonical-record.js';
import { ALL_TENANTS, type Principal } from '../auth/principal.js';
import { ROUTING_HEADERS } from './adapters/adapter.js';
import { SIGNATURE_HEADER } from './adapters/attestation.js';
import { splitPayloadsExact } from './bridges/json-split.js';
import { decodeMessage, type DecodedItem } from './decode-batch.js';
import { GatewayRegistry } from './gateways/gateway-registry.service.js';
import { KafkaClientService } from './kafka-client.service.js';
import { AppError } from '../common/app-error.js';
import { redactForProduce } from '../domain/privacy/redact.js';

export interface IngestAccepted {
  accepted: number;
  event_ids: string[];
  /** 'quarantine' mode only: events produced although they do not decode; the consumer quarantines them with these reasons. */
  quarantined?: Array<{ index: number; errors: string[] }>;
  /** 'quarantine' mode only: signed events that carry secrets or content, which cannot be masked: not produced at all. */
  refused?: Array<{ index: number; errors: string[] }>;
}

export class IngestRejected extends AppError {
  readonly code = 'INGEST_REJECTED';
  override readonly status = 400;
  constructor(readonly errors: Array<{ index: number; errors: string[] }>) {
    super(`${errors.length} of the submitted events are invalid; none was accepted`);
  }
}

export interface IngestOptions {
  /**
   * The format the route implies (a bridge): sent as x-routing-format on every message. A request
   * whose own x-routing-format names another format is rejected whole.
   */
  format?: SourceFormat;
  /**
   * Events that do not decode. 'reject' (the default, /v1/events): the request is refused whole
   * (400) and nothing is produced. 'quarantine': they are produced all the same, so the consumer
   * quarantines and dead-letters them (secrets masked) with their reason — for senders that drop
   * a refused batch and never retry, as LiteLLM's generic_api logger does (it clears its queue
   * whatever the response), where a 400 would lose the valid events and the invalid ones alike.
   */
  invalid?: 'reject' | 'quarantine';
  /**
   * Split a JSON array into its elements' original bytes (bridges) rather than re-serialized
   * values (/v1/events, unchanged so that records it produced keep their raw_sha256).
   */
  exactSplit?: boolean;
}

/** One payload (future Kafka message) as the consumer will decode it. */
export interface PayloadCheck {
  index: number;
  /**
   * The bytes to produce: the payload after redactForProduce (the exact bytes when nothing needed
   * masking). Undefined when it must not be produced: a signed payload carrying secrets or content,
   * which cannot be masked without breaking its signature.
   */
  payload: Buffer | undefined;
  /** Records it decodes to (none for, e.g., an OTLP export without GenAI spans). */
  records: Array<{ event_id: string; request_id: string; format: SourceFormat }>;
  /** Why it would be quarantined; empty when it decodes. */
  errors: string[];
}

/** Why a signed payload is refused rather than produced. */
const SIGNED_UNMASKED =
  'signed payload carries credentials or prompt/response text: the ledger cannot mask them without breaking the signature; redact before signing';

/** Headers copied from the HTTP request onto each Kafka message (the adapters and attestation read them). */
const FORWARDED_HEADERS = [
  ...Object.values(ROUTING_HEADERS),
  SIGNATURE_HEADER,
  // Forwarded before the routing-ledger names existed; nothing reads them, kept for compatibility.
  'x-gateway-id',
  'x-gateway-signature',
];

/**
 * Webhook ingest for gateways that cannot produce to Kafka (/v1/events and the bridges): masks
 * credentials and prompt/response text before anything reaches the topic (redactForProduce), validates
 * with the same decode step as the consumer — adapters and gateway attestation — and produces to
 * the decisions topic, so every event still takes the one ledger path (and its exactly-once
 * guarantees). The consumer decodes again and is the authority: this check only answers the
 * sender early.
 *
 * A signed request (x-routing-signature) is produced as ONE message holding the body as received,
 * since the signature covers those bytes; the adapters read arrays and NDJSON themselves.
 */
@Injectable()
export class HttpIngestService {
  constructor(
    @Inject(CONFIG.kafka) private readonly kafkaConfig: KafkaConfig,
    @Inject(CONFIG.ingest) private readonly ingestConfig: IngestConfig,
    private readonly kafka: KafkaClientService,
    private readonly gateways: GatewayRegistry,
  ) {}

  async ingest(
    body: Buffer,
    headers: Record<string, string | undefined>,
    opts: IngestOptions = {},
  ): Promise<IngestAccepted> {
    const effective = routeHeaders(headers, opts.format);
    const payloads = effective[SIGNATURE_HEADER]
      ? body.toString('utf8').trim()
        ? [body]
        : []
      : opts.exactSplit
        ? splitPayloadsExact(body)
        : splitPayloads(body);
    if (payloads.length === 0) throw new IngestRejected([{ index: 0, errors: ['body holds no events'] }]);
    const checks = this.check(payloads, effective);
    const errors = checks.filter((c) => c.errors.length > 0).map((c) => ({ index: c.index, errors: c.errors }));
    if (errors.length > 0 && opts.invalid !== 'quarantine') throw new IngestRejected(errors);
    await this.send(checks, effective);
    const records = checks.flatMap((c) => c.records);
    const notProduced = new Set(checks.filter((c) => c.payload === undefined).map((c) => c.index));
    const quarantined = errors.filter((e) => !notProduced.has(e.index));
    const refused = errors.filter((e) => notProduced.has(e.index));
    return {
      accepted: records.length,
      event_ids: records.map((r) => r.event_id),
      ...(quarantined.length ? { quarantined } : {}),
      ...(refused.length ? { refused } : {}),
    };
  }

  /**
   * Masks each payload for the topic (redactForProduce) and decodes what will be produced as the
   * consumer will (same decoder, same registry snapshot). No I/O.
   */
  check(payloads: Buffer[], headers: Record<string, string | undefined>): PayloadCheck[] {
    const signed = headers[SIGNATURE_HEADER] !== undefined;
    const ctx = {
      topic: this.kafkaConfig.topics.decisions,
      partition: 0,
      maxMessageBytes: this.ingestConfig.maxMessageBytes,
      receivedAt: new Date(),
      decode: this.gateways.decoder(),
    };
    return payloads.map((original, index) => {
      const masked = redactForProduce(original);
      if (signed && masked !== original) return { index, payload: undefined, records: [], errors: [SIGNED_UNMASKED] };
      const items: DecodedItem[] = decodeMessage({ offset: String(index), value: masked, headers }, ctx);
      return {
        index,
        payload: masked,
        records: items.flatMap((it) =>
          it.kind === 'record'
            ? [{ event_id: it.record.event_id, request_id: it.record.request_id, format: it.record.source.format }]
            : [],
        ),
        errors: items.flatMap((it) => (it.kind === 'poison' ? [it.reason] : [])),
      };
    });
  }

  /**
   * Produces the payloads to the decisions topic in one send, with the forwarded headers. The
   * format each decoded to is pinned in x-routing-format, so the consumer takes the same adapter
   * even where the request named it only by content type. Resolves once the broker has them all.
   */
  async send(checks: PayloadCheck[], headers: Record<string, string | undefined>): Promise<void> {
    const forwarded = pickForwardedHeaders(headers);
    const messages: Message[] = checks.flatMap((c) => {
      if (c.payload === undefined) return [];
      const first = c.records[0];
      const format = forwarded[ROUTING_HEADERS.format] ?? first?.format;
      return [
        {
          key: first?.request_id ?? null,
          value: c.payload,
          headers: { ...forwarded, ...(format ? { [ROUTING_HEADERS.format]: format } : {}) },
        },
      ];
    });
    if (messages.length === 0) return;
    await this.kafka.send(this.kafkaConfig.topics.decisions, messages);
  }
}

/**
 * Lower-cased request headers with the route's format applied. A sender that names another
 * format (header) is refused: the route decides the adapter.
 */
export function routeHeaders(
  headers: Record<string, string | undefined>,
  format: SourceFormat | undefined,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
  if (format === undefined) return out;
  const named = out[ROUTING_HEADERS.format]?.trim().toLowerCase();
  if (named && named !== format) {
    throw new IngestRejected([
      {
        index: 0,
        errors: [`this route takes ${format} events; ${ROUTING_HEADERS.format} says "${named.slice(0, 32)}"`],
      },
    ]);
  }
  out[ROUTING_HEADERS.format] = format;
  return out;
}

/**
 * The request's headers with x-routing-token-tenant set from the caller's token when it names
 * exactly one tenant, and removed otherwise: a sender cannot claim a token tenant it was not
 * given. Adapters use it only when the event and x-routing-tenant name no tenant.
 */
export function withTokenTenant(
  headers: Record<string, string | undefined>,
  caller: Principal | undefined,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== ROUTING_HEADERS.tokenTenant) out[k] = v;
  const scope = caller?.scope;
  if (scope?.kind === 'tenants' && scope.tenants.length === 1 && scope.tenants[0] !== ALL_TENANTS)
    out[ROUTING_HEADERS.tokenTenant] = scope.tenants[0];
  return out;
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
  for (const k of FORWARDED_HEADERS) if (h[k]) out[k] = h[k]!;
  return out;
}
