import type { SourceFormat } from '../../domain/record/canonical-record.js';
import { redactText } from '../../domain/privacy/redact.js';
import { isObject, str, type JsonObject } from '../../domain/normalize/json-value.js';
import { DecodeError, ROUTING_HEADERS, type AdaptedRecord, type Adapter, type RawEvent } from './adapter.js';
import { header } from './headers.js';
import { litellmAdapter } from './litellm.adapter.js';
import { nativeAdapter } from './native.adapter.js';
import { isOpenRouterGeneration, openrouterAdapter } from './openrouter.adapter.js';
import { otelAdapter } from './otel.adapter.js';
import { portkeyAdapter, portkeyShape } from './portkey.adapter.js';

/**
 * Which adapter reads a payload. An explicit name wins: the `x-routing-format`
 * header (Kafka or HTTP) or a `application/vnd.routing-ledger.<format>+json` content type; both
 * present and different is a conflict. Without one, the payload is sniffed conservatively: each
 * format has markers no other format's payload carries, and exactly one format must match —
 * none or several is DecodeError('UNKNOWN_FORMAT') with the reason, so the event goes to the DLQ
 * rather than through a guessed adapter. OTLP `application/json` on /v1/traces is the caller's
 * to name (it sets the header); bare `application/json` says nothing here.
 */

export const ADAPTERS: Readonly<Record<SourceFormat, Adapter>> = {
  native: nativeAdapter,
  litellm: litellmAdapter,
  portkey: portkeyAdapter,
  openrouter: openrouterAdapter,
  otel: otelAdapter,
};

const FORMATS = Object.keys(ADAPTERS) as SourceFormat[];
const VENDOR_TYPE = /^application\/vnd\.routing-ledger\.([a-z0-9-]+)\+(?:json|x-ndjson|ndjson)\s*(?:;.*)?$/i;

function isFormat(v: string): v is SourceFormat {
  return (FORMATS as string[]).includes(v);
}

export function adapterFor(format: SourceFormat): Adapter {
  const a = ADAPTERS[format];
  if (!a) throw new DecodeError('UNKNOWN_FORMAT', `no adapter for format "${redactText(String(format)).slice(0, 64)}"`);
  return a;
}

/** The format a header or content type names, or undefined when neither names one. */
function declaredFormat(raw: RawEvent): SourceFormat | undefined {
  const fromHeader = header(raw, ROUTING_HEADERS.format)?.toLowerCase();
  if (fromHeader !== undefined && !isFormat(fromHeader)) {
    throw new DecodeError(
      'UNKNOWN_FORMAT',
      `${ROUTING_HEADERS.format} names an unknown format "${redactText(fromHeader).slice(0, 64)}" (known: ${FORMATS.join(', ')})`,
    );
  }
  const contentType = str(raw.contentType) ?? header(raw, 'content-type');
  const vendor = contentType ? VENDOR_TYPE.exec(contentType) : null;
  let fromType: SourceFormat | undefined;
  if (vendor) {
    const name = vendor[1].toLowerCase();
    if (!isFormat(name))
      throw new DecodeError(
        'UNKNOWN_FORMAT',
        `content type names an unknown format "${name.slice(0, 64)}" (known: ${FORMATS.join(', ')})`,
      );
    fromType = name;
  }
  if (fromHeader && fromType && fromHeader !== fromType) {
    throw new DecodeError(
      'FORMAT_CONFLICT',
      `${ROUTING_HEADERS.format} says "${fromHeader}" but the content type says "${fromType}"`,
    );
  }
  return fromHeader ?? fromType;
}

/** Markers per format, tested on the first JSON document of the payload. */
const SNIFFERS: Array<[SourceFormat, string, (d: JsonObject) => boolean]> = [
  [
    'native',
    'schema_version "1" with event_id and source',
    (d) => d.schema_version === '1' && typeof d.event_id === 'string' && isObject(d.source),
  ],
  ['otel', 'resourceSpans', (d) => Array.isArray(d.resourceSpans)],
  [
    'litellm',
    'StandardLoggingPayload markers (hidden_params, model_group, standard_logging_object) or a spend-log row',
    (d) =>
      isObject(d.standard_logging_object) ||
      (isObject(d.hidden_params) && ('model_group' in d || 'response_cost' in d)) ||
      ('model_group' in d && 'startTime' in d && 'call_type' in d) ||
      ('spend' in d && 'request_id' in d && 'startTime' in d && 'api_key' in d),
  ],
  ['openrouter', 'a gen- generation id or provider_responses', (d) => isOpenRouterGeneration(d)],
  [
    'portkey',
    'x-portkey-* response headers, logs-export columns or log-stream requestOptions',
    (d) => portkeyShape(d) !== undefined,
  ],
];

function firstDocument(raw: RawEvent): JsonObject | undefined {
  const text = raw.payload
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim();
  if (text === '') return undefined;
  const candidates = [text, text.split(/\r?\n/).find((l) => l.trim() !== '') ?? ''];
  for (const c of candidates) {
    try {
      const v = JSON.parse(c) as unknown;
      const d = Array.isArray(v) ? v[0] : v;
      return isObject(d) ? d : undefined;
    } catch {
      /* next candidate */
    }
  }
  return undefined;
}

export function detectFormat(raw: RawEvent): SourceFormat {
  const declared = declaredFormat(raw);
  if (declared) return declared;
  const doc = firstDocument(raw);
  if (!doc) {
    throw new DecodeError(
      'UNKNOWN_FORMAT',
      `no ${ROUTING_HEADERS.format} header or routing-ledger content type, and the payload is not a JSON object to sniff`,
    );
  }
  const matches = SNIFFERS.filter(([, , test]) => test(doc));
  if (matches.length === 1) return matches[0][0];
  if (matches.length === 0) {
    throw new DecodeError(
      'UNKNOWN_FORMAT',
      `no ${ROUTING_HEADERS.format} header and the payload matches no known format (looked for: ${SNIFFERS.map(([f, m]) => `${f}: ${m}`).join('; ')})`,
    );
  }
  throw new DecodeError(
    'UNKNOWN_FORMAT',
    `no ${ROUTING_HEADERS.format} header and the payload is ambiguous: it looks like ${matches.map(([f]) => f).join(' and ')}; send the header`,
  );
}

/** Detect, then adapt. The single entry point the Kafka consumer and the HTTP bridges call. */
export function decodeEvent(raw: RawEvent): AdaptedRecord[] {
  return adapterFor(detectFormat(raw)).adapt(raw);
}
