import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../../auth/caller.decorator.js';
import { Roles } from '../../auth/roles.decorator.js';
import type { Principal } from '../../auth/principal.js';
import { EvaluationsQueryDto, RegisterEvaluationDto } from './evaluations.dto.js';
import { EvaluationsService } from './evaluations.service.js';

@ApiTags('evaluations')
@Controller('v1/evaluations')
export class EvaluationsController {
  constructor(private readonly evaluations: EvaluationsService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: 'Register an evaluation: alias, task category, model versions, test set, accuracy target and result',
  })
  @ApiCreatedResponse({ description: 'The stored evaluation with its id' })
  register(@Body() body: RegisterEvaluationDto, @Caller() caller: Principal) {
    return this.evaluations.register(body, caller);
  }

  @Get()
  @Roles('responder', 'auditor', 'admin')
  @ApiOperation({ summary: 'Evaluations that apply to your tenants (theirs and those for every tenant)' })
  list(@Query() q: EvaluationsQueryDto, @Caller() caller: Principal) {
    return this.evaluations.list(q, caller);
  }
}
