import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { otelAdapter } from '../adapters/otel.adapter.js';
import {
  decodeExportResponse,
  decodeRpcStatus,
  encodeExportResponse,
  encodeRpcStatus,
  otlpProtobufToJson,
} from './otlp-protobuf.js';
import { OtlpRequestError, parseOtlpTraces, splitOtlpTraces } from './otlp-split.js';

/** Spans made by the OpenTelemetry SDK, serialized by OpenTelemetry's own JSON and protobuf serializers. */
function sdkSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('genai-test', '1.2.3');
  const chat = tracer.startSpan('chat gpt-4o', {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.response.id': 'chatcmpl-abc',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.request.temperature': 0.25,
      'gen_ai.response.finish_reasons': ['stop'],
      'routing.tenant_id': 'acme',
    },
  });
  chat.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 429' });
  chat.end();
  tracer.startSpan('GET /health').end();
  return exporter.getFinishedSpans();
}

describe('otlpProtobufToJson', () => {
  it("gives the OTLP/JSON document of OpenTelemetry's own JSON serializer for the same spans", () => {
    const spans = sdkSpans();
    const fromProto = otlpProtobufToJson(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
    const fromJson = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8'));
    // Both sides as the adapter reads them: the JSON serializer writes zero counts and empty lists
    // that protobuf does not carry, and integers as numbers where protobuf decoding gives strings.
    const norm = (v: unknown): unknown =>
      JSON.parse(JSON.stringify(v), (_k, x) =>
        x === 0 || (Array.isArray(x) && x.length === 0) ? undefined : typeof x === 'number' ? String(x) : x,
      );
    expect(norm(fromProto)).toEqual(norm(fromJson));
  });

  it('protobuf and JSON exports of the same spans adapt to the same records, but for raw_sha256', () => {
    const spans = sdkSpans();
    const recordsOf = (doc: Record<string, unknown>) =>
      splitOtlpTraces(doc).flatMap((p) =>
        otelAdapter
          .adapt({ payload: p.payload, headers: {}, receivedAt: new Date(0) })
          .map((a) => ({ ...a.record, source: { ...a.record.source, raw_sha256: '' } })),
      );
    const proto = recordsOf(otlpProtobufToJson(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)));
    const json = recordsOf(parseOtlpTraces(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!)));
    expect(proto).toHaveLength(1);
    expect(proto).toEqual(json);
    expect(proto[0].trace_id).toBe(spans[0].spanContext().traceId);
  });

  it('refuses bytes that are not an ExportTraceServiceRequest', () => {
    expect(() => otlpProtobufToJson(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow(OtlpRequestError);
  });
});

describe('OTLP protobuf answers', () => {
  it('an ExportTraceServiceResponse with partial_success round-trips', () => {
    expect(decodeExportResponse(encodeExportResponse({ rejectedSpans: 2, errorMessage: 'no tenant' }))).toEqual({
      rejectedSpans: '2',
      errorMessage: 'no tenant',
    });
    expect(decodeExportResponse(encodeExportResponse({}))).toEqual({});
  });

  it('a google.rpc.Status round-trips', () => {
    expect(decodeRpcStatus(encodeRpcStatus({ code: 3, message: 'bad' }))).toEqual({ code: 3, message: 'bad' });
  });
});
