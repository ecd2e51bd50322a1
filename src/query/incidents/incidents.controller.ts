import { Body, Controller, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import { ReadAnswerInterceptor } from '../../database/read-database.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../../auth/caller.decorator.js';
import { Roles } from '../../auth/roles.decorator.js';
import type { Principal } from '../../auth/principal.js';
import { ReconstructIncidentDto } from './incidents.dto.js';
import { IncidentsService } from './incidents.service.js';

@ApiTags('incidents')
@UseInterceptors(ReadAnswerInterceptor)
@Controller('v1/incidents')
@Roles('responder', 'auditor', 'admin')
export class IncidentsController {
  constructor(private readonly incidents: IncidentsService) {}

  @Post('reconstruct')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Affected requests by tenant, alias and served target; fallback chains; error classes; cost and latency against the hour before; per-minute timeline',
  })
  @ApiOkResponse({ description: 'Each affected request links to /v1/decisions/{id}/explain' })
  reconstruct(@Body() body: ReconstructIncidentDto, @Caller() caller: Principal) {
    return this.incidents.reconstruct(body, caller);
  }
}
