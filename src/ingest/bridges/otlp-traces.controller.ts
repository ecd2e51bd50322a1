import { Body, Controller, Headers, HttpCode, Logger, Post, Req, Res, StreamableFile } from '@nestjs/common';
import type { AuthenticatedRequest } from '../../auth/jwt-auth.guard.js';
import { AppError, INTERNAL_ERROR_STATUS } from '../../common/app-error.js';
import { withTokenTenant } from '../http-ingest.service.js';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AnonymousOutsideProduction, Roles } from '../../auth/roles.decorator.js';
import { encodeExportResponse, encodeRpcStatus } from './otlp-protobuf.js';
import { OtlpTracesService, type OtlpEncoding, type OtlpExportResponse } from './otlp-traces.service.js';

/** google.rpc.Status, the body of an OTLP/HTTP error response. */
interface OtlpStatus {
  code: number;
  message: string;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNAVAILABLE = 14;

/**
 * OTLP/HTTP traces receiver, both encodings (OTLP specification, "OTLP/HTTP"): `application/json`
 * and `application/x-protobuf` (gzip-compressed bodies are inflated by the raw body parser). Answers
 * as OTLP exporters expect rather than with problem details, in the request's encoding: 200 +
 * ExportTraceServiceResponse (partial_success listing spans the ledger quarantined), 400 + Status
 * for an unreadable export (not retried), 415 + Status for another content type, 503 + Status when
 * the decisions topic cannot take the spans (the exporter retries with backoff).
 */
@ApiTags('ingest')
@Controller('v1/traces')
@Roles('ingest', 'admin')
@AnonymousOutsideProduction()
export class OtlpTracesController {
  private readonly log = new Logger(OtlpTracesController.name);

  constructor(private readonly otlp: OtlpTracesService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'OTLP/HTTP trace export (application/json or application/x-protobuf): GenAI inference spans become ledger records; other spans are ignored',
  })
  @ApiBody({ schema: { type: 'object', description: 'ExportTraceServiceRequest (OTLP/JSON or OTLP/protobuf)' } })
  @ApiOkResponse({
    description:
      'ExportTraceServiceResponse in the request\'s encoding: {"partialSuccess":{}}, or {"partialSuccess":{"rejectedSpans":n,"errorMessage":"..."}}',
  })
  @ApiBadRequestResponse({ description: 'google.rpc.Status: the body is not an OTLP traces export' })
  @ApiServiceUnavailableResponse({ description: 'google.rpc.Status: Kafka unavailable; retry' })
  async export(
    @Body() body: Buffer,
    @Headers() headers: Record<string, string | undefined>,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OtlpExportResponse | OtlpStatus | StreamableFile> {
    const type = (headers['content-type'] ?? '').toLowerCase().split(';')[0].trim();
    const encoding = encodingOf(type);
    const answer = (status: number, json: OtlpExportResponse | OtlpStatus, proto: () => Buffer) => {
      res.status(status);
      return encoding === 'protobuf' ? protobufBody(proto()) : json;
    };
    const failure = (status: number, s: OtlpStatus) => answer(status, s, () => encodeRpcStatus(s));
    if (encoding === undefined) {
      // The OTLP/HTTP answer has the request's encoding; a type that is neither gets JSON, unless it names protobuf.
      const s = {
        code: GRPC_INVALID_ARGUMENT,
        message: `Content-Type "${type.slice(0, 64)}" is not OTLP/HTTP: send application/json or application/x-protobuf`,
      };
      res.status(415);
      return type.includes('protobuf') ? protobufBody(encodeRpcStatus(s)) : s;
    }
    try {
      const out = await this.otlp.export(
        Buffer.isBuffer(body) ? body : Buffer.alloc(0),
        withTokenTenant(headers, req.principal),
        encoding,
      );
      return answer(200, out, () => encodeExportResponse(out.partialSuccess));
    } catch (e) {
      // A client error (an unreadable export, a wrong format header) is not worth retrying.
      if (e instanceof AppError && e.status < INTERNAL_ERROR_STATUS) {
        const { errors } = e as { errors?: Array<{ errors: string[] }> };
        return failure(400, {
          code: GRPC_INVALID_ARGUMENT,
          message: errors?.flatMap((x) => x.errors).join('; ') || e.message,
        });
      }
      this.log.error(`OTLP export not taken (503): ${(e as Error).message}`);
      return failure(503, { code: GRPC_UNAVAILABLE, message: 'the ledger could not take the spans now; retry' });
    }
  }
}

const PROTOBUF_TYPE = 'application/x-protobuf';

/** Bytes sent as they are (a returned Buffer would be serialized as JSON). */
function protobufBody(bytes: Buffer): StreamableFile {
  return new StreamableFile(bytes, { type: PROTOBUF_TYPE, length: bytes.length });
}

/** The OTLP/HTTP encoding a Content-Type names; JSON when none is given (curl without -H). */
function encodingOf(type: string): OtlpEncoding | undefined {
  if (type === '' || type === 'application/json') return 'json';
  if (type === PROTOBUF_TYPE || type === 'application/protobuf') return 'protobuf';
  return undefined;
}
