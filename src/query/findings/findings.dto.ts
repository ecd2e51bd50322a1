import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { FINDING_TYPES } from './finding.js';

class WindowQueryDto {
  @ApiPropertyOptional({ description: 'Window start (inclusive), RFC 3339; default: `to` minus the endpoint default' })
  @IsOptional() @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Window end (exclusive), RFC 3339; default: now' })
  @IsOptional() @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'Only this tenant (must be in your token scope)' })
  @IsOptional() @IsString() @Length(1, 200)
  tenant?: string;
}

export class FindingsQueryDto extends WindowQueryDto {
  @ApiPropertyOptional({ enum: FINDING_TYPES, description: 'Only this finding type (default 24 h window, at most 31 days)' })
  @IsOptional() @IsIn(FINDING_TYPES)
  type?: (typeof FINDING_TYPES)[number];

  @ApiPropertyOptional({ description: 'Only this requested alias' })
  @IsOptional() @IsString() @Length(1, 200)
  alias?: string;

  @ApiPropertyOptional({ enum: ['high', 'medium', 'low'], description: 'Only findings at least this severe' })
  @IsOptional() @IsIn(['high', 'medium', 'low'])
  min_severity?: 'high' | 'medium' | 'low';
}

/** Default window 30 days, at most 90. */
export class AliasHistoryQueryDto extends WindowQueryDto {}

/** Default window 24 h, at most 31 days. */
export class CoverageQueryDto extends WindowQueryDto {
  @ApiPropertyOptional()
  @IsOptional() @IsString() @Length(1, 200)
  gateway?: string;
}
