import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsISO8601, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';

export class ExportFiltersDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) provider?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) requested_model?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) gateway_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(50) outcome_status?: string;
}

export class CreateExportDto {
  @ApiProperty({ description: 'Tenant whose records are exported' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  tenant: string;

  @ApiProperty({
    description: 'Start of the range on record.occurred_at, inclusive (RFC 3339)',
    example: '2026-11-01T00:00:00.000Z',
  })
  @IsISO8601({ strict: true })
  from: string;

  @ApiProperty({
    description: 'End of the range on record.occurred_at, exclusive (RFC 3339)',
    example: '2026-12-01T00:00:00.000Z',
  })
  @IsISO8601({ strict: true })
  to: string;

  @ApiPropertyOptional({
    type: ExportFiltersDto,
    description:
      'Marks matching records; never removes records from the bundle (completeness is proven over all of them)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExportFiltersDto)
  filters?: ExportFiltersDto;
}
