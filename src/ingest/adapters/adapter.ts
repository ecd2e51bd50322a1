import { v5 as uuidv5 } from 'uuid';
import type { CanonicalRecord, SourceFormat } from '../../domain/record/canonical-record.js';
import { AppError } from '../../common/app-error.js';

/**
 * The contract every gateway adapter implements: raw bytes from Kafka or HTTP in,
 * canonical v1 records plus the adapter's normalization notes out. Adapters are pure
 * functions of their input: no clock, no randomness, no I/O, no Nest/kafkajs imports, so the
 * same bytes always give the same records (and the same event ids) on every replay.
 */

export interface RawEvent {
  payload: Buffer;
  /** Kafka or HTTP headers; names are matched case-insensitively. */
  headers: Record<string, string | undefined>;
  /** Arrival at the ledger. Adapters do not copy it into the record: the caller stamps received_at. */
  receivedAt: Date;
  contentType?: string;
  /** The registered default tenant of a gateway (GatewayRegistry), for events that name no tenant. */
  gatewayDefaultTenant?: (gatewayId: string) => string | undefined;
}

export interface AdaptedRecord {
  record: CanonicalRecord;
  /** Same list as record.normalization_notes (absent there when empty). */
  notes: string[];
}

export interface Adapter {
  readonly format: SourceFormat;
  /** `<format>/<n>`, bumped whenever the mapping of the same bytes changes. */
  readonly version: string;
  /** One payload may hold many events (LiteLLM arrays/NDJSON, OTLP with many spans). Throws DecodeError. */
  adapt(raw: RawEvent): AdaptedRecord[];
}

/**
 * Undecodable input. `code` is stable (it becomes the quarantine reason code); `message` is for a
 * person reading the dead-letter queue and never quotes payload values that could be secrets.
 */
export class DecodeError extends AppError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/**
 * Namespace of derived event ids: uuidv5('https://routing-ledger.dev/ns/event-id/v1', URL).
 * Fixed forever: changing it would give every re-delivered event a new identity.
 */
export const EVENT_ID_NAMESPACE = '2360f5b7-d980-57aa-9317-c6d5ae469761';

/**
 * requested_model when the gateway's format does not carry what the client asked for (an
 * OpenRouter generation object, an older LiteLLM payload without `original_model_group`, an OTel
 * span without `gen_ai.request.model`). The record requires the field, and principle 1 forbids
 * filling it from the resolved or served model, so "unknown" is written and a note says why.
 */
export const UNKNOWN_REQUESTED_MODEL = 'unknown';

/** Headers a sender (or our bridges) may set on any event, whatever its format. */
export const ROUTING_HEADERS = {
  format: 'x-routing-format',
  tenant: 'x-routing-tenant',
  gatewayId: 'x-routing-gateway-id',
  requestedModel: 'x-routing-requested-model',
  requestId: 'x-routing-request-id',
  /**
   * The tenant of the ingest token that sent the event over HTTP, when the token names exactly
   * one. Set by the ledger's HTTP routes only (a value the client sent is dropped there).
   */
  tokenTenant: 'x-routing-token-tenant',
} as const;

/**
 * The ledger's DEFAULT_TENANT, handed to the adapters by the decoder (GatewayRegistry), never
 * forwarded or taken from a sender: the last place a tenant is taken from.
 */
export const DEFAULT_TENANT_HEADER = 'x-routing-default-tenant';

/**
 * Deterministic event id for gateways without a stable one (principle 5): UUIDv5 over
 * (gateway instance, native id, attempt/status), joined with U+001F so no part can run into
 * the next. The same event delivered twice gets the same id; a failure event and the success
 * event of the same gateway call (LiteLLM logs both under one call id) get different ones.
 */
export function deriveEventId(gatewayId: string, nativeId: string, attemptOrStatus: string): string {
  return uuidv5([gatewayId, nativeId, attemptOrStatus].join('\u001f'), EVENT_ID_NAMESPACE);
}
