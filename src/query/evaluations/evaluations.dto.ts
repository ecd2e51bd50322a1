import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsISO8601,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** POST /v1/evaluations: one evaluation of an alias on one task category. */
export class RegisterEvaluationDto {
  @ApiPropertyOptional({
    description: 'Tenant the evaluation applies to; omit for every tenant (admin spanning all tenants only)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant_id?: string;

  @ApiProperty({ example: 'fast-chat' })
  @IsString()
  @Length(1, 200)
  alias: string;

  @ApiProperty({ example: 'chat' })
  @IsString()
  @Length(1, 200)
  task_category: string;

  @ApiProperty({
    description:
      'Versions evaluated (dated snapshots); a bare model name covers whatever version it had when evaluated',
    example: ['gpt-4o-mini-2024-07-18'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  model_versions: string[];

  @ApiProperty({ description: 'Test set name or URI', example: 'support-chat-v3' })
  @IsString()
  @Length(1, 500)
  test_set: string;

  @ApiPropertyOptional({ description: 'SHA-256 of the test set, hex' })
  @IsOptional()
  @Matches(/^[0-9a-f]{64}$/, { message: 'test_set_sha256 must be 64 lowercase hex digits' })
  test_set_sha256?: string;

  @ApiProperty({ minimum: 0, maximum: 1, example: 0.9 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  accuracy_target: number;

  @ApiProperty({ minimum: 0, maximum: 1, example: 0.93 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  accuracy_result: number;

  @ApiPropertyOptional({ description: 'Router score above which requests escalate to the stronger model' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  escalation_threshold?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: 'Share of the alias traffic this category had in the evaluated mix',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  traffic_share?: number;

  @ApiProperty({ example: '2026-11-19T00:00:00Z' })
  @IsISO8601({ strict: true })
  evaluated_at: string;
}

export class EvaluationsQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  alias?: string;

  @ApiPropertyOptional({ description: 'Only evaluations of this tenant (and those for every tenant)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  tenant?: string;
}
