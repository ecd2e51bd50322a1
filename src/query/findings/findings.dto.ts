import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { FINDING_TYPES } from './finding.js';

export const MAX_FINDINGS_PAGE = 1000;

class WindowQueryDto {
  @ApiPropertyOptional({ description: 'Window start (inclusive), RFC 3339; default: `to` minus the endpoint default' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Window end (exclusive), RFC 3339; default: now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'Only this tenant (must be in your token scope)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant?: string;
}

export class FindingsQueryDto extends WindowQueryDto {
  @ApiPropertyOptional({
    enum: FINDING_TYPES,
    description: 'Only this finding type (default 24 h window, at most 31 days)',
  })
  @IsOptional()
  @IsIn(FINDING_TYPES)
  type?: (typeof FINDING_TYPES)[number];

  @ApiPropertyOptional({ description: 'Only this requested alias' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  alias?: string;

  @ApiPropertyOptional({ enum: ['high', 'medium', 'low'], description: 'Only findings at least this severe' })
  @IsOptional()
  @IsIn(['high', 'medium', 'low'])
  min_severity?: 'high' | 'medium' | 'low';

  @ApiPropertyOptional({
    maximum: MAX_FINDINGS_PAGE,
    description: 'At most this many findings per page (default: all); `next_cursor` continues',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_FINDINGS_PAGE)
  limit?: number;

  @ApiPropertyOptional({
    description: 'Opaque: the next_cursor of the previous page (it carries the window; send the same filters)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  cursor?: string;
}

/** Default window 30 days, at most 90. */
export class AliasHistoryQueryDto extends WindowQueryDto {}

/** Default window 24 h, at most 31 days. */
export class CoverageQueryDto extends WindowQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  gateway?: string;
}
