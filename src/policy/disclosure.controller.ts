import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller.decorator.js';
import { Roles } from '../auth/roles.decorator.js';
import type { Principal } from '../auth/principal.js';
import { DisclosureService } from './disclosure.service.js';

@ApiTags('disclosures')
@Controller('v1/disclosures')
export class DisclosureController {
  constructor(private readonly disclosures: DisclosureService) {}

  @Get(':requestId')
  @Roles('disclosure', 'admin')
  @ApiOperation({
    summary:
      "A signed, user-safe statement of what answered a request (model, provider, fallback and why, cache, region area), for a product's users",
  })
  get(@Param('requestId') requestId: string, @Caller() caller: Principal) {
    return this.disclosures.disclosure(requestId, caller);
  }
}
