import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AnonymousOutsideProduction, Roles } from '../auth/roles.decorator.js';
import type { AuthenticatedRequest } from '../auth/jwt-auth.guard.js';
import { READ_ROLES } from '../auth/principal.js';
import { CheckpointsQueryDto, ConsistencyQueryDto } from './dto/ledger-query.dto.js';
import { LedgerService } from './ledger.service.js';
import { TlogService } from '../tlog/tlog.service.js';

@ApiTags('ledger')
@Controller()
export class LedgerController {
  private tlog?: TlogService | null;

  constructor(
    private readonly ledger: LedgerService,
    private readonly moduleRef: ModuleRef,
  ) {}

  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'Every public key that ever signed a checkpoint, with its validity window' })
  jwks() {
    return this.ledger.jwks();
  }

  /** The receipt holds the whole record, so it is tenant-scoped like every other read. */
  @Get('v1/records/:eventId/receipt')
  @Roles(...READ_ROLES)
  @AnonymousOutsideProduction()
  @ApiOperation({ summary: 'Entry, inclusion proof and signed checkpoint: verifiable with the JWKS alone' })
  receipt(@Param('eventId') eventId: string, @Req() req: AuthenticatedRequest) {
    const tlog = this.tlogService();
    return tlog ? tlog.receipt(eventId, req.principal?.scope) : this.ledger.receipt(eventId, req.principal?.scope);
  }

  /**
   * The C2SP side (TlogModule imports this module, so it cannot be injected here): when the app
   * has it, receipts carry cosignatures and use the checkpoint the witnesses' quorum cosigned.
   */
  private tlogService(): TlogService | undefined {
    if (this.tlog === undefined) {
      try {
        this.tlog = this.moduleRef.get(TlogService, { strict: false });
      } catch {
        this.tlog = null;
      }
    }
    return this.tlog ?? undefined;
  }

  @Get('v1/ledger/checkpoints')
  @ApiOperation({ summary: "Latest signed checkpoint per shard, or one shard's history" })
  async checkpoints(@Query() q: CheckpointsQueryDto) {
    if (q.shard === undefined) return { latest: await this.ledger.latestCheckpoints() };
    return { shard: q.shard, history: await this.ledger.checkpointHistory(q.shard, q.from, q.limit) };
  }

  @Get('v1/ledger/proofs/consistency')
  @ApiOperation({ summary: 'RFC 6962 consistency proof between two tree sizes of a shard' })
  consistency(@Query() q: ConsistencyQueryDto) {
    return this.ledger.consistency(q.shard, q.from, q.to);
  }

  @Post('v1/ledger/verify')
  @Roles('auditor', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Full verification: every leaf, root, chain link, node and checkpoint signature' })
  verify() {
    return this.ledger.verify();
  }
}
