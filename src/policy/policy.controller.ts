import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller.decorator.js';
import { Roles } from '../auth/roles.decorator.js';
import { READ_ROLES, type Principal } from '../auth/principal.js';
import { ListPoliciesQueryDto, PolicyDiffQueryDto, PublishPolicyDto } from './policy.dto.js';
import { PolicyService } from './policy.service.js';

@ApiTags('policies')
@Controller('v1/policies')
export class PolicyController {
  constructor(private readonly policies: PolicyService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: "Append a new version of a tenant's routing policy to the policy log (admin of that tenant)",
  })
  @ApiCreatedResponse({ description: 'The version as a receipt: entry, inclusion proof, signed policy checkpoint' })
  publish(@Body() body: PublishPolicyDto, @Caller() caller: Principal) {
    return this.policies.publish(body, caller);
  }

  @Get()
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'Every policy version of your tenants, oldest first' })
  list(@Query() q: ListPoliciesQueryDto, @Caller() caller: Principal) {
    return this.policies.list(q.tenant, caller);
  }

  @Post('verify')
  @HttpCode(200)
  @Roles('auditor', 'admin')
  @ApiOperation({
    summary: 'Full verification of the policy log: every version, tenant chain, root and signed checkpoint',
  })
  verify() {
    return this.policies.verify();
  }

  @Get(':tenant/diff')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'What changed between two versions of a tenant policy, rule by rule' })
  diff(@Param('tenant') tenant: string, @Query() q: PolicyDiffQueryDto, @Caller() caller: Principal) {
    return this.policies.diff(tenant, q, caller);
  }

  @Get(':tenant/versions/:version/receipt')
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'A policy version with its inclusion proof and the signed policy checkpoint' })
  receipt(
    @Param('tenant') tenant: string,
    @Param('version', ParseIntPipe) version: number,
    @Caller() caller: Principal,
  ) {
    return this.policies.receipt(tenant, version, caller);
  }
}
