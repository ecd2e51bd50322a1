import { Controller, Get, Param, Query, UseInterceptors } from '@nestjs/common';
import { ReadAnswerInterceptor } from '../../database/read-database.js';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../../auth/caller.decorator.js';
import { Roles } from '../../auth/roles.decorator.js';
import type { Principal } from '../../auth/principal.js';
import { DecisionsQueryDto } from './decisions.dto.js';
import { DecisionsService } from './decisions.service.js';

@ApiTags('decisions')
@UseInterceptors(ReadAnswerInterceptor)
@Controller('v1')
@Roles('responder', 'auditor', 'admin')
export class DecisionsController {
  constructor(private readonly decisions: DecisionsService) {}

  @Get('decisions')
  @ApiOperation({ summary: 'Routing decisions, newest first, filtered; opaque cursor pagination' })
  @ApiOkResponse({
    description: '{items, next_cursor}: pass next_cursor back as `cursor` for the next page (null on the last)',
  })
  list(@Query() q: DecisionsQueryDto, @Caller() caller: Principal) {
    return this.decisions.list(q, caller);
  }

  @Get('decisions/:eventId')
  @ApiOperation({ summary: 'One decision with its full canonical record and a link to its receipt' })
  @ApiNotFoundResponse({ description: 'No such event in your tenants' })
  get(@Param('eventId') eventId: string, @Caller() caller: Principal) {
    return this.decisions.get(eventId, caller);
  }

  @Get('decisions/:eventId/explain')
  @ApiOperation({
    summary: 'Requested → tried → served, the routing reason and policy checks, in JSON and plain words',
  })
  @ApiNotFoundResponse({ description: 'No such event in your tenants' })
  explain(@Param('eventId') eventId: string, @Caller() caller: Principal) {
    return this.decisions.explain(eventId, caller);
  }

  @Get('requests/:requestId')
  @ApiOperation({ summary: 'Every event of a request in order, with the attempt chain across them' })
  @ApiNotFoundResponse({ description: 'No events for that request in your tenants' })
  request(@Param('requestId') requestId: string, @Caller() caller: Principal) {
    return this.decisions.request(requestId, caller);
  }

  @Get('traces/:traceId')
  @ApiOperation({ summary: 'Every event of a W3C trace in order, with the attempt chain across them' })
  @ApiNotFoundResponse({ description: 'No events for that trace in your tenants' })
  trace(@Param('traceId') traceId: string, @Caller() caller: Principal) {
    return this.decisions.trace(traceId, caller);
  }
}
