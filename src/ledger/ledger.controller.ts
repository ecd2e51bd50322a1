import { Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Response } from 'express';
import { READ_HEADERS, ReadAnswerInterceptor } from '../database/read-database.js';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AnonymousOutsideProduction, Roles } from '../auth/roles.decorator.js';
import type { AuthenticatedRequest } from '../auth/jwt-auth.guard.js';
import { READ_ROLES } from '../auth/principal.js';
import { CheckpointsQueryDto, ConsistencyQueryDto } from './dto/ledger-query.dto.js';
import { LedgerService } from './ledger.service.js';
import { TlogService } from '../tlog/tlog.service.js';

@ApiTags('ledger')
@UseInterceptors(ReadAnswerInterceptor)
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
  async receipt(
    @Param('eventId') eventId: string,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    const tlog = this.tlogService();
    const { value, source } = tlog
      ? await tlog.sourcedReceipt(eventId, req.principal?.scope)
      : await this.ledger.sourcedReceipt(eventId, req.principal?.scope);
    res.setHeader(READ_HEADERS.source, source);
    return value;
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
  async consistency(@Query() q: ConsistencyQueryDto, @Res({ passthrough: true }) res: Response) {
    const { value, source } = await this.ledger.sourcedConsistency(q.shard, q.from, q.to);
    res.setHeader(READ_HEADERS.source, source);
    return value;
  }

  @Post('v1/ledger/verify')
  @Roles('auditor', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Full verification: every leaf, root, chain link, node and checkpoint signature' })
  verify() {
    return this.ledger.verify();
  }
}
