import { Controller, Get, Header, Param, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { READ_ROLES } from '../auth/principal.js';
import { AnonymousOutsideProduction, Roles } from '../auth/roles.decorator.js';
import type { AuthenticatedRequest } from '../auth/jwt-auth.guard.js';
import { TlogService } from './tlog.service.js';
import { WitnessSubmitterService, type WitnessStatus } from './witness-submitter.service.js';

/** Witnessing status, and records' proofs as c2sp.org/tlog-proof@v1 text. */
@ApiTags('tlog')
@Controller()
export class WitnessController {
  constructor(
    private readonly tlog: TlogService,
    private readonly submitter: WitnessSubmitterService,
  ) {}

  /** Public like the checkpoints: witness names, URLs and sizes only. */
  @Get('tlog/witnesses')
  @ApiOperation({ summary: 'Per witness and shard: latest size, cosigned size, lag, failures, next attempt' })
  witnesses(): Promise<WitnessStatus> {
    return this.submitter.status();
  }

  /** The proof holds the whole record (its leaf input), so it is tenant-scoped like the receipt. */
  @Get('v1/records/:eventId/tlog-proof')
  @Roles(...READ_ROLES)
  @AnonymousOutsideProduction()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOperation({ summary: 'The record as a c2sp.org/tlog-proof@v1: leaf input, inclusion proof, cosigned checkpoint' })
  tlogProof(@Param('eventId') eventId: string, @Req() req: AuthenticatedRequest): Promise<string> {
    return this.tlog.tlogProof(eventId, req.principal?.scope);
  }
}
