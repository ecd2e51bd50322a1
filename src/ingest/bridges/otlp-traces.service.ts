import { Injectable, Logger } from '@nestjs/common';
import { SIGNATURE_HEADER } from '../adapters/attestation.js';
import { HttpIngestService, routeHeaders, type PayloadCheck } from '../http-ingest.service.js';
import { otlpProtobufToJson } from './otlp-protobuf.js';
import { countSpans, OtlpRequestError, parseOtlpTraces, splitOtlpTraces } from './otlp-split.js';

/** The two OTLP/HTTP encodings. */
export type OtlpEncoding = 'json' | 'protobuf';

/** ExportTraceServiceResponse in the OTLP/JSON encoding. */
export interface OtlpExportResponse {
  partialSuccess: { rejectedSpans?: number; errorMessage?: string };
}

/** How many distinct reasons an errorMessage lists before summarising the rest. */
const MAX_REASONS = 5;

/**
 * POST /v1/traces: an OTel SDK or collector exports OTLP/HTTP (JSON, or protobuf turned into the
 * same OTLP/JSON document) straight to the ledger. Each GenAI inference span becomes one message on
 * the decisions topic (x-routing-format: otel), its credentials and prompt/response text masked
 * first, and is recorded by the consumer like any other event; spans that are not inference calls
 * (HTTP, tool, agent spans) are dropped here and are not "rejected". A span that does not decode
 * (no tenant when DEFAULT_TENANT is empty, bad ids, a gateway that must sign) is produced all the
 * same, so the consumer quarantines it with its reason, and it is counted in rejectedSpans with the
 * reasons in errorMessage (OTLP partial success): the exporter sees it, nothing vanishes.
 *
 * A signed export (x-routing-signature) is kept whole, as one message, since the signature covers
 * the body as sent: accepted or rejected as a unit; one that holds secrets or content cannot be
 * masked and is refused without being produced (rejectedSpans, with the reason).
 */
@Injectable()
export class OtlpTracesService {
  private readonly log = new Logger(OtlpTracesService.name);

  constructor(private readonly ingest: HttpIngestService) {}

  /** Throws OtlpRequestError (the export is unreadable) or IngestRejected (wrong format header); Kafka errors propagate. */
  async export(
    body: Buffer,
    headers: Record<string, string | undefined>,
    encoding: OtlpEncoding = 'json',
  ): Promise<OtlpExportResponse> {
    const effective = routeHeaders(headers, 'otel');
    const doc = encoding === 'protobuf' ? otlpProtobufToJson(body) : parseOtlpTraces(body);
    const total = countSpans(doc);
    const signed = effective[SIGNATURE_HEADER] !== undefined;
    // The signature covers the bytes sent, and the adapters read OTLP/JSON only.
    if (signed && encoding === 'protobuf')
      throw new OtlpRequestError('a signed export (x-routing-signature) must use the JSON encoding');
    const parts = signed ? [{ payload: body }] : splitOtlpTraces(doc);
    const checks = this.ingest.check(
      parts.map((p) => p.payload),
      effective,
    );
    const rejected = checks.filter((c) => c.errors.length > 0);
    // Undecodable spans go to the topic too, to be quarantined with their reason.
    const keep = checks.filter((c) => c.errors.length > 0 || c.records.length > 0);
    await this.ingest.send(keep, effective);
    const rejectedSpans = signed ? (rejected.length ? total : 0) : rejected.length;
    if (rejectedSpans === 0) return { partialSuccess: {} };
    const produced = rejected.filter((c) => c.payload !== undefined).length;
    const message = `${produced ? `quarantined by the ledger with their reason: ` : ''}${errorMessage(rejected)}`;
    this.log.warn(`OTLP export: ${rejectedSpans} of ${total} spans rejected: ${message}`);
    return { partialSuccess: { rejectedSpans, errorMessage: message } };
  }
}

/** Distinct reasons with their counts ("3 × otel: span ...: no tenant ..."): decode errors never quote payload values. */
function errorMessage(rejected: PayloadCheck[]): string {
  const counts = new Map<string, number>();
  for (const c of rejected) for (const e of c.errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  const listed = [...counts].slice(0, MAX_REASONS).map(([e, n]) => (n > 1 ? `${n} × ${e}` : e));
  const more = counts.size > MAX_REASONS ? `; and ${counts.size - MAX_REASONS} other reasons` : '';
  return `${listed.join('; ')}${more}`.slice(0, 4000);
}
