/**
 * OTLP/HTTP protobuf (Content-Type application/x-protobuf) for POST /v1/traces, through protobufjs
 * and the OTLP trace messages below. A protobuf export is turned into the OTLP/JSON object the JSON
 * path parses (proto3 JSON mapping with OTLP's exceptions: trace and span ids as lower-case hex,
 * enums as integers), so both encodings reach the same split, the same adapter and the same records.
 */

import protobuf from 'protobufjs';
import { OtlpRequestError } from './otlp-split.js';

/**
 * The messages of opentelemetry-proto v1 that a traces receiver reads and answers with:
 * collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto,
 * resource/v1/resource.proto, and google.rpc.Status (the body of an OTLP/HTTP error response).
 * Field names and numbers are those of the published definitions; fields added later (e.g.
 * Resource.entity_refs) are skipped as unknown fields, which protobuf decoding allows.
 */
const OTLP_TRACES_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
}
message Status {
  string message = 2;
  int32 code = 3;
}
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}
message RpcStatus {
  int32 code = 1;
  string message = 2;
}
`;

const root = protobuf.parse(OTLP_TRACES_PROTO).root;
const ExportRequest = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');
const ExportResponse = root.lookupType('opentelemetry.proto.ExportTraceServiceResponse');
const RpcStatus = root.lookupType('opentelemetry.proto.RpcStatus');

/** Fields holding W3C ids, which OTLP/JSON writes as hex rather than proto3's base64. */
const HEX_ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * The OTLP/JSON form of a protobuf ExportTraceServiceRequest. Throws OtlpRequestError when the
 * bytes are not one.
 */
export function otlpProtobufToJson(body: Buffer): Record<string, unknown> {
  let message: protobuf.Message;
  try {
    message = ExportRequest.decode(body);
  } catch (e) {
    throw new OtlpRequestError(
      `the body is not an OTLP/protobuf ExportTraceServiceRequest (${(e as Error).message.slice(0, 120)})`,
    );
  }
  // int64/fixed64 as decimal strings (nanosecond times exceed 2^53); bytes as base64 strings.
  const obj = ExportRequest.toObject(message, { longs: String, bytes: String, defaults: false });
  return hexIds(obj) as Record<string, unknown>;
}

function hexIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIds);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = HEX_ID_FIELDS.has(k) && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : hexIds(v);
  }
  return out;
}

/** ExportTraceServiceResponse, protobuf-encoded; an empty partial_success when nothing was rejected. */
export function encodeExportResponse(partial: { rejectedSpans?: number; errorMessage?: string }): Buffer {
  const rejected = partial.rejectedSpans ?? 0;
  const body =
    rejected > 0 || partial.errorMessage
      ? { partialSuccess: { rejectedSpans: rejected, errorMessage: partial.errorMessage ?? '' } }
      : {};
  return Buffer.from(ExportResponse.encode(ExportResponse.fromObject(body)).finish());
}

/** google.rpc.Status, protobuf-encoded: the body of a 4xx/5xx answer to a protobuf export. */
export function encodeRpcStatus(status: { code: number; message: string }): Buffer {
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject(status)).finish());
}

/** Decoders for tests and clients that read our answers. */
export function decodeExportResponse(body: Uint8Array): { rejectedSpans?: string; errorMessage?: string } {
  const obj = ExportResponse.toObject(ExportResponse.decode(body), { longs: String, defaults: false });
  return (obj.partialSuccess ?? {}) as { rejectedSpans?: string; errorMessage?: string };
}

export function decodeRpcStatus(body: Uint8Array): { code?: number; message?: string } {
  return RpcStatus.toObject(RpcStatus.decode(body), { defaults: false }) as { code?: number; message?: string };
}
