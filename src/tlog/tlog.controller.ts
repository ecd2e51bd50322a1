import { Controller, Get, Header, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AnonymousOutsideProduction, Roles } from '../auth/roles.decorator.js';
import { ForbiddenError } from '../auth/auth.errors.js';
import type { AuthenticatedRequest } from '../auth/jwt-auth.guard.js';
import { TILE_WIDTH, TilePathError, parseTilePath } from '../domain/merkle/tiles.js';
import { TlogService } from './tlog.service.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** A partial tile's bytes never change either, but it is the moving edge: keep it briefly. */
const SHORT = 'public, max-age=60';
/** The spec: the checkpoint is mutable and should not be cached beyond a few seconds. */
const CHECKPOINT_CACHE = 'no-cache';

/**
 * Each shard as a C2SP tiled log (https://c2sp.org/tlog-tiles) under /tlog/<shard>/.
 *
 * Keys, checkpoints and tiles are public, like the JWKS and the JSON checkpoints: they hold
 * hashes and signatures only. Entry bundles hold whole records of every tenant of the shard,
 * so they need a token that may read every tenant (admin with tenants ["*"]); outside
 * production a request without a token passes, as for receipts.
 */
@ApiTags('tlog')
@Controller('tlog')
export class TlogController {
  constructor(private readonly tlog: TlogService) {}

  @Get('keys')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOperation({ summary: 'Signed-note verifier keys, one per shard and line' })
  keys(): Promise<string> {
    return this.tlog.verifierKeys();
  }

  @Get(':shard/checkpoint')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', CHECKPOINT_CACHE)
  @ApiOperation({ summary: "The shard's latest checkpoint as a C2SP signed note (tlog-checkpoint)" })
  checkpoint(@Param('shard') shard: string): Promise<string> {
    return this.tlog.checkpointNote(shardNumber(shard));
  }

  // Registered before the hash tiles so that `tile/entries/...` is never read as a level.
  @Get(':shard/tile/entries/*path')
  @Roles('admin')
  @AnonymousOutsideProduction()
  @ApiOperation({ summary: 'Entry bundle: the leaf inputs of up to 256 entries, uint16-length-prefixed' })
  async entries(@Param('shard') shard: string, @Req() req: AuthenticatedRequest, @Res() res: Response): Promise<void> {
    const n = shardNumber(shard);
    const request = parseTilePath(tileSubpath(req));
    if (request.kind !== 'entries') throw new TilePathError('not an entry bundle path');
    if (req.principal && req.principal.scope.kind !== 'all')
      throw new ForbiddenError('an entry bundle holds records of every tenant: it needs a token for all tenants');
    send(res, await this.tlog.entryBundle(n, request.index, request.width), request.width === TILE_WIDTH);
  }

  @Get(':shard/tile/*path')
  @ApiOperation({ summary: 'Merkle tile tile/<L>/<N>[.p/<W>]: W concatenated 32-byte hashes' })
  async tile(@Param('shard') shard: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const n = shardNumber(shard);
    const request = parseTilePath(tileSubpath(req));
    if (request.kind !== 'hashes') throw new TilePathError('not a tile path');
    send(res, await this.tlog.tile(n, request.level, request.index, request.width), request.width === TILE_WIDTH);
  }
}

function send(res: Response, body: Buffer, full: boolean): void {
  res
    .status(200)
    .set({ 'Content-Type': 'application/octet-stream', 'Cache-Control': full ? IMMUTABLE : SHORT })
    .send(body);
}

/** `tile/...` of the request path, undecoded: the path is the tile's name, byte for byte. */
function tileSubpath(req: Request): string {
  return req.path.slice(req.path.indexOf('/tile/') + 1);
}

function shardNumber(text: string): number {
  if (!/^(0|[1-9][0-9]{0,8})$/.test(text))
    throw new TilePathError(`shard ${JSON.stringify(text)} is not a non-negative integer`);
  return Number(text);
}
