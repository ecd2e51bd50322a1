import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';

export const SIGNALS = [
  'fallback',
  'silent_substitution',
  'residency_violation',
  'policy_bypass',
  'cache_hit',
  'error',
  'unknown_attempts',
  'missing_version',
  'missing_region',
] as const;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Filters of GET /v1/decisions; every filter is an equality except the half-open time range. */
export class DecisionsQueryDto {
  @ApiPropertyOptional({ description: 'Only this tenant (must be in your token scope)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant?: string;

  @ApiPropertyOptional({ description: 'Inclusive start, RFC 3339' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Exclusive end, RFC 3339' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  gateway?: string;

  @ApiPropertyOptional({ description: 'Alias or model the client asked for' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requested_model?: string;

  @ApiPropertyOptional({ description: 'Model the gateway chose' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  resolved_model?: string;

  @ApiPropertyOptional({ description: 'Provider that served' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  provider?: string;

  @ApiPropertyOptional({ description: 'Region that served' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  region?: string;

  @ApiPropertyOptional({ enum: ['true', 'false', 'unknown'] })
  @IsOptional()
  @IsIn(['true', 'false', 'unknown'])
  fallback_used?: 'true' | 'false' | 'unknown';

  @ApiPropertyOptional({ enum: ['hit', 'semantic_hit', 'miss', 'bypass', 'refresh', 'unknown'] })
  @IsOptional()
  @IsIn(['hit', 'semantic_hit', 'miss', 'bypass', 'refresh', 'unknown'])
  cache_status?: string;

  @ApiPropertyOptional({ enum: ['success', 'error', 'blocked', 'cancelled'] })
  @IsOptional()
  @IsIn(['success', 'error', 'blocked', 'cancelled'])
  outcome?: string;

  @ApiPropertyOptional({ enum: SIGNALS, description: 'A finding derived at ingest (records.signals)' })
  @IsOptional()
  @IsIn(SIGNALS)
  signal?: string;

  @ApiPropertyOptional({ default: DEFAULT_PAGE_SIZE, maximum: MAX_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque: the next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;
}
