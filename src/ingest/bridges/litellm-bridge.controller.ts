import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from '../../auth/jwt-auth.guard.js';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AnonymousOutsideProduction, Roles } from '../../auth/roles.decorator.js';
import { HttpIngestService, withTokenTenant, type IngestAccepted } from '../http-ingest.service.js';

/**
 * Target of LiteLLM's `generic_api` logger (callbacks: ["generic_api"], GENERIC_LOGGER_ENDPOINT
 * = https://<ledger>/v1/ingest/litellm): StandardLoggingPayload as a JSON array (log_format
 * json_array, the default), NDJSON (ndjson) or one object per request (single); spend-log rows
 * too. A payload without a team takes x-routing-tenant from the logger's headers, else the ingest
 * token's tenant when it names exactly one, else the ledger's DEFAULT_TENANT. Each event becomes one message on the decisions topic (its exact bytes,
 * x-routing-format: litellm).
 *
 * Not all-or-nothing: LiteLLM clears its queue whatever the answer and never retries, so an event
 * that does not decode is produced all the same and quarantined by the consumer with its reason
 * (listed in the 202's `quarantined`), rather than losing the whole batch to a 400. Every event is
 * produced with its keys and message text masked; a signed one that holds them cannot be masked
 * without breaking its signature and is not produced (listed under `refused`).
 */
@ApiTags('ingest')
@Controller('v1/ingest/litellm')
@Roles('ingest', 'admin')
@AnonymousOutsideProduction()
export class LitellmBridgeController {
  constructor(private readonly ingest: HttpIngestService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'LiteLLM generic_api logger target: JSON array, NDJSON or a single StandardLoggingPayload' })
  @ApiBody({ schema: { oneOf: [{ type: 'array', items: { type: 'object' } }, { type: 'object' }] } })
  @ApiAcceptedResponse({
    description:
      'Produced to the decisions topic (keys and message text masked); event ids returned, undecodable events listed under `quarantined`, signed events that cannot be masked under `refused`',
  })
  @ApiBadRequestResponse({ description: 'The body is empty, not JSON, or names another format' })
  submit(
    @Body() body: Buffer,
    @Headers() headers: Record<string, string | undefined>,
    @Req() req: AuthenticatedRequest,
  ): Promise<IngestAccepted> {
    return this.ingest.ingest(Buffer.isBuffer(body) ? body : Buffer.alloc(0), withTokenTenant(headers, req.principal), {
      format: 'litellm',
      invalid: 'quarantine',
      exactSplit: true,
    });
  }
}
