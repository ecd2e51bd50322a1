import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import { ReadAnswerInterceptor } from '../database/read-database.js';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Caller } from '../auth/caller.decorator.js';
import type { Principal } from '../auth/principal.js';
import { Roles } from '../auth/roles.decorator.js';
import { CreateExportDto } from './dto/create-export.dto.js';
import { ExportService } from './export.service.js';

@ApiTags('exports')
@UseInterceptors(ReadAnswerInterceptor)
@Controller('v1/exports')
@Roles('auditor', 'admin')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a signed audit bundle of one tenant and time range (docs/bundle-format.md)' })
  @ApiAcceptedResponse({ description: 'The job, queued; poll GET /v1/exports/{id}' })
  create(@Body() body: CreateExportDto, @Caller() caller: Principal) {
    return this.exports.create(body, caller);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Status and progress of an export; the bundle link once done' })
  @ApiOkResponse({ description: 'The job' })
  @ApiNotFoundResponse({ description: 'No such export in your tenants' })
  get(@Param('id', new ParseUUIDPipe()) id: string, @Caller() caller: Principal) {
    return this.exports.get(id, caller);
  }

  @Get(':id/bundle')
  @ApiProduces('application/gzip')
  @ApiOperation({ summary: 'The bundle (tar.gz), streamed; verify it offline with `routing-ledger verify-bundle`' })
  @ApiConflictResponse({ description: 'The export is not done (queued, running or failed)' })
  async bundle(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Caller() caller: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { stream, size, fileName } = await this.exports.bundle(id, caller);
    res.setHeader('Cache-Control', 'no-store');
    return new StreamableFile(stream, {
      type: 'application/gzip',
      disposition: `attachment; filename="${fileName}"`,
      length: size,
    });
  }
}
