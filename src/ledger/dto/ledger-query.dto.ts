import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CheckpointsQueryDto {
  @ApiPropertyOptional({ description: 'Only this shard; its history from `from` on' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  shard?: number;

  @ApiPropertyOptional({ description: 'Smallest tree size to list (history)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class ConsistencyQueryDto {
  @ApiProperty()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  shard: number;

  @ApiProperty({ description: 'Earlier tree size (> 0)' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  from: number;

  @ApiProperty({ description: 'Later tree size' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  to: number;
}
