import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export const DEFAULT_AFFECTED_LIMIT = 100;
export const MAX_AFFECTED_LIMIT = 1000;

/** POST /v1/incidents/reconstruct: an incident window and what narrows it. */
export class ReconstructIncidentDto {
  @ApiProperty({ description: 'Window start (inclusive), RFC 3339', example: '2026-11-20T10:00:00Z' })
  @IsISO8601({ strict: true })
  from: string;

  @ApiProperty({
    description: 'Window end (exclusive), RFC 3339; at most 24 hours after `from`',
    example: '2026-11-20T10:30:00Z',
  })
  @IsISO8601({ strict: true })
  to: string;

  @ApiPropertyOptional({ description: 'Provider involved: served it or was tried (attempt chain)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  provider?: string;

  @ApiPropertyOptional({ description: 'Model involved: requested alias, chosen model or tried model' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  model?: string;

  @ApiPropertyOptional({ description: 'Region involved: served there or was tried there' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  region?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  gateway?: string;

  @ApiPropertyOptional({ description: 'Only this tenant (must be in your token scope)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant?: string;

  @ApiPropertyOptional({ description: 'How many affected requests to list', default: DEFAULT_AFFECTED_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_AFFECTED_LIMIT)
  affected_limit?: number;
}
