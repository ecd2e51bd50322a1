import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsObject, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class PublishPolicyDto {
  @ApiProperty({ description: 'The tenant the policy governs (you must be admin of it)' })
  @IsString()
  @Length(1, 200)
  tenant_id!: string;

  @ApiProperty({
    description:
      'RFC 3339: decisions at or after it are judged by this version; not before the latest version of the tenant',
  })
  @IsISO8601({ strict: true })
  effective_from!: string;

  @ApiProperty({ description: 'The policy document (docs/policy.schema.json)' })
  @IsObject()
  document!: Record<string, unknown>;
}

export class ListPoliciesQueryDto {
  @ApiPropertyOptional({ description: 'Only this tenant (must be in your token scope)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant?: string;
}

export class PolicyDiffQueryDto {
  @ApiProperty({ description: 'Version number to compare from' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  from!: number;

  @ApiProperty({ description: 'Version number to compare to' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  to!: number;
}
