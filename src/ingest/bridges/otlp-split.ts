/**
 * OTLP/HTTP JSON trace exports (ExportTraceServiceRequest) split into one export per span, each
 * keeping its resource and instrumentation scope, so that each span is one Kafka message: one
 * span the ledger cannot read is rejected alone (OTLP partial success) instead of taking the whole
 * export with it, and spans that are not GenAI inference calls never reach the topic. Pure.
 */

import { AppError } from '../../common/app-error.js';

export class OtlpRequestError extends AppError {
  readonly code = 'OTLP_INVALID';
  override readonly status = 400;
}

export interface OtlpSpanPayload {
  /** Lower-case hex trace id when the span has one (the Kafka key: a trace stays on one partition). */
  traceId?: string;
  payload: Buffer;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws OtlpRequestError when the body is not an OTLP/JSON traces export. */
export function parseOtlpTraces(body: Buffer): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    throw new OtlpRequestError(
      'the body is not JSON (this endpoint takes OTLP/HTTP with Content-Type: application/json)',
    );
  }
  if (!isObj(doc)) throw new OtlpRequestError('the body is not an OTLP ExportTraceServiceRequest object');
  if (doc.resourceSpans !== undefined && !Array.isArray(doc.resourceSpans))
    throw new OtlpRequestError('resourceSpans must be an array');
  return doc;
}

/** Number of spans in an export (what rejectedSpans counts against). */
export function countSpans(doc: Obj): number {
  let n = 0;
  for (const { scope } of scopes(doc)) n += Array.isArray(scope.spans) ? scope.spans.length : 0;
  return n;
}

/** One single-span export per span, in the order of the request. */
export function splitOtlpTraces(doc: Obj): OtlpSpanPayload[] {
  const out: OtlpSpanPayload[] = [];
  for (const { rs, key, scope } of scopes(doc)) {
    for (const span of Array.isArray(scope.spans) ? scope.spans : []) {
      const { spans: _all, ...scopeRest } = scope;
      const { [key]: _scopes, ...rsRest } = rs;
      const single = { resourceSpans: [{ ...rsRest, [key]: [{ ...scopeRest, spans: [span] }] }] };
      const traceId =
        isObj(span) && typeof span.traceId === 'string' && /^[0-9a-fA-F]{32}$/.test(span.traceId)
          ? span.traceId.toLowerCase()
          : undefined;
      out.push({ ...(traceId ? { traceId } : {}), payload: Buffer.from(JSON.stringify(single), 'utf8') });
    }
  }
  return out;
}

/** Scope spans of every resource; `instrumentationLibrarySpans` is the pre-1.0 OTLP name, still read. */
function* scopes(doc: Obj): Generator<{ rs: Obj; key: string; scope: Obj }> {
  for (const rs of Array.isArray(doc.resourceSpans) ? doc.resourceSpans : []) {
    if (!isObj(rs)) continue;
    const key = Array.isArray(rs.scopeSpans)
      ? 'scopeSpans'
      : Array.isArray(rs.instrumentationLibrarySpans)
        ? 'instrumentationLibrarySpans'
        : undefined;
    if (!key) continue;
    for (const scope of rs[key] as unknown[]) if (isObj(scope)) yield { rs, key, scope };
  }
}
