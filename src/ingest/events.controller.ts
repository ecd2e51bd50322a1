import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/jwt-auth.guard.js';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AnonymousOutsideProduction, Roles } from '../auth/roles.decorator.js';
import { HttpIngestService, withTokenTenant, type IngestAccepted } from './http-ingest.service.js';

@ApiTags('ingest')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly ingest: HttpIngestService) {}

  @Post()
  @Roles('ingest', 'admin')
  @AnonymousOutsideProduction()
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit routing events: one JSON event, a JSON array, or NDJSON. All or nothing.' })
  @ApiBody({ schema: { type: 'object' } })
  @ApiAcceptedResponse({ description: 'Produced to the decisions topic; event ids returned' })
  @ApiBadRequestResponse({ description: 'Problem details listing each invalid item and why' })
  submit(
    @Body() body: Buffer,
    @Headers() headers: Record<string, string | undefined>,
    @Req() req: AuthenticatedRequest,
  ): Promise<IngestAccepted> {
    return this.ingest.ingest(Buffer.isBuffer(body) ? body : Buffer.alloc(0), withTokenTenant(headers, req.principal));
  }
}
