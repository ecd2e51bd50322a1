import { Body, Controller, Headers, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
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
import { OtlpTracesService, type OtlpExportResponse } from './otlp-traces.service.js';

/** google.rpc.Status, the body of an OTLP/HTTP error response. */
interface OtlpStatus {
  code: number;
  message: string;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNAVAILABLE = 14;

/**
 * OTLP/HTTP traces receiver (JSON encoding). Answers as OTLP exporters expect rather than with
 * problem details: 200 + ExportTraceServiceResponse, 400 + Status for an unreadable export (not
 * retried), 415 for protobuf, 503 + Status when the decisions topic cannot take the spans (the
 * exporter retries with backoff).
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
    summary: 'OTLP/HTTP JSON trace export: GenAI inference spans become ledger records; other spans are ignored',
  })
  @ApiBody({ schema: { type: 'object', description: 'ExportTraceServiceRequest (OTLP/JSON)' } })
  @ApiOkResponse({
    description: '{"partialSuccess":{}}, or {"partialSuccess":{"rejectedSpans":n,"errorMessage":"..."}}',
  })
  @ApiBadRequestResponse({ description: 'google.rpc.Status: the body is not an OTLP/JSON traces export' })
  @ApiServiceUnavailableResponse({ description: 'google.rpc.Status: Kafka unavailable; retry' })
  async export(
    @Body() body: Buffer,
    @Headers() headers: Record<string, string | undefined>,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OtlpExportResponse | OtlpStatus> {
    const type = (headers['content-type'] ?? '').toLowerCase();
    if (type.includes('protobuf')) {
      res.status(415);
      return {
        code: GRPC_INVALID_ARGUMENT,
        message: 'OTLP/HTTP protobuf is not supported here; export with the JSON encoding (http/json)',
      };
    }
    try {
      return await this.otlp.export(
        Buffer.isBuffer(body) ? body : Buffer.alloc(0),
        withTokenTenant(headers, req.principal),
      );
    } catch (e) {
      // A client error (an unreadable export, a wrong format header) is not worth retrying.
      if (e instanceof AppError && e.status < INTERNAL_ERROR_STATUS) {
        const { errors } = e as { errors?: Array<{ errors: string[] }> };
        res.status(400);
        return { code: GRPC_INVALID_ARGUMENT, message: errors?.flatMap((x) => x.errors).join('; ') || e.message };
      }
      this.log.error(`OTLP export not taken (503): ${(e as Error).message}`);
      res.status(503);
      return { code: GRPC_UNAVAILABLE, message: 'the ledger could not take the spans now; retry' };
    }
  }
}
