import { Controller, Get, Param, Query, UseInterceptors } from '@nestjs/common';
import { ReadAnswerInterceptor } from '../../database/read-database.js';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../../auth/caller.decorator.js';
import { Roles } from '../../auth/roles.decorator.js';
import type { Principal } from '../../auth/principal.js';
import { AliasHistoryQueryDto, CoverageQueryDto, FindingsQueryDto } from './findings.dto.js';
import { FindingsService } from './findings.service.js';

@ApiTags('findings')
@UseInterceptors(ReadAnswerInterceptor)
@Controller('v1')
@Roles('responder', 'auditor', 'admin')
export class FindingsController {
  constructor(private readonly findings: FindingsService) {}

  @Get('findings')
  @ApiOperation({
    summary:
      'Silent degradation, alias changes, residency violations, policy bypass, cost-biased routing, evaluation drift, declared-policy violations and claim mismatches — recomputed from the ledger',
  })
  list(@Query() q: FindingsQueryDto, @Caller() caller: Principal) {
    return this.findings.findings(q, caller);
  }

  @Get('aliases/:alias/history')
  @ApiOperation({
    summary: 'What an alias resolved to (provider, model, version) per tenant over time, with change points',
  })
  aliasHistory(@Param('alias') alias: string, @Query() q: AliasHistoryQueryDto, @Caller() caller: Principal) {
    return this.findings.aliasHistory(alias, q, caller);
  }

  @Get('coverage')
  @ApiOperation({
    summary:
      'Observability gaps per gateway (unknown attempts, missing version, missing region) and per tenant the traffic no declared policy covers',
  })
  coverage(@Query() q: CoverageQueryDto, @Caller() caller: Principal) {
    return this.findings.coverage(q, caller);
  }
}
