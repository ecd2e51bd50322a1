import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';

/**
 * class-validator schema of the canonical record v1 (canonical-record.ts is the type).
 * It is the single gate every record passes, whatever adapter produced it; the messages
 * are written for a person reading the quarantine table.
 */

const MAX_ID = 256;
const MAX_TEXT = 2048;
const MAX_LIST = 256;
export const RFC3339_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const DECIMAL = /^-?\d{1,18}(\.\d{1,18})?$/;
const CURRENCY = /^[A-Z]{3}$/;

/** True when `v` names a real instant: JavaScript rolls 2026-02-30 over to March 2, PostgreSQL refuses it. */
export function roundTrips(v: string): boolean {
  const t = Date.parse(v);
  return !Number.isNaN(t) && new Date(t).toISOString() === v;
}

function IsTimestamp(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        // Must round-trip: JavaScript rolls 2026-02-30 over to March 2, PostgreSQL refuses it.
        validate: (v: unknown) =>
          typeof v === 'string' && RFC3339_UTC_MS.test(v) && !v.startsWith('0000') && roundTrips(v),
        defaultMessage: () => 'must be an RFC 3339 UTC timestamp with milliseconds (2026-01-31T12:00:00.000Z)',
      },
    },
    options,
  );
}

function IsTriState(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isTriState',
      validator: {
        validate: (v: unknown) => v === true || v === false || v === 'unknown',
        defaultMessage: () => 'must be true, false or "unknown"',
      },
    },
    options,
  );
}

const Id = () => [IsString(), IsNotEmpty(), MaxLength(MAX_ID)];
function apply(target: object, key: string, decorators: PropertyDecorator[]) {
  for (const d of decorators) d(target, key);
}
/** Shorthand: a required bounded identifier. */
function RequiredId(): PropertyDecorator {
  return (t, k) => apply(t, k as string, Id());
}
/** Shorthand: an optional bounded identifier. */
function OptionalId(): PropertyDecorator {
  return (t, k) => apply(t, k as string, [IsOptional(), ...Id()]);
}
function OptionalCount(): PropertyDecorator {
  return (t, k) => apply(t, k as string, [IsOptional(), IsInt(), Min(0), Max(Number.MAX_SAFE_INTEGER)]);
}
function OptionalNested(cls: () => new () => object): PropertyDecorator {
  return (t, k) => apply(t, k as string, [IsOptional(), IsObject(), ValidateNested(), Type(cls) as PropertyDecorator]);
}

export class GatewaySchema {
  @RequiredId() id: string;
  @OptionalId() kind?: string;
  @OptionalId() version?: string;
}

export class AssertedValueSchema {
  @RequiredId() value: string;
  @IsIn(['client', 'gateway', 'provider', 'ledger']) asserted_by: string;
}

export class ModelVersionSchema {
  @OptionalId() version?: string;
  @OptionalId() deployment_id?: string;
  @OptionalId() system_fingerprint?: string;
}

export class EndpointSchema {
  @OptionalId() host?: string;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) path?: string;
}

export class RegionSchema {
  @OptionalId() served?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @MaxLength(MAX_ID, { each: true })
  required?: string[];
}

export class RoutingSchema {
  @IsOptional() @IsIn(['static', 'conditional', 'fallback', 'loadbalance', 'cascade', 'learned']) strategy?: string;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) reason?: string;
  @OptionalId() rule_id?: string;
  @OptionalId() policy_version?: string;
  @OptionalId() config_hash?: string;
  @OptionalId() router?: string;
  @IsOptional() @Matches(DECIMAL, { message: 'score must be a decimal string' }) score?: string;
  @IsOptional() @Matches(DECIMAL, { message: 'threshold must be a decimal string' }) threshold?: string;
  @OptionalId() objective?: string;
}

export class TaskSchema {
  @OptionalId() category?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(MAX_ID, { each: true })
  tags?: string[];
}

export class AttemptSchema {
  @IsInt() @Min(0) @Max(10_000) index: number;
  @OptionalId() provider?: string;
  @OptionalId() model?: string;
  @OptionalId() region?: string;
  @OptionalId() host?: string;
  @IsOptional() @IsIn(['success', 'error', 'skipped', 'timeout', 'unknown']) status?: string;
  @OptionalId() error_class?: string;
  @IsOptional() @IsInt() @Min(100) @Max(599) http_status?: number;
  @OptionalCount() latency_ms?: number;
  @IsOptional() @IsTimestamp() started_at?: string;
}

export class AttemptsSchema {
  @IsIn(['full', 'targets_only', 'count_only', 'none']) completeness: string;
  @OptionalCount() count?: number;
  // IsObject each: ValidateNested alone lets an array through where an attempt belongs ([[]]).
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AttemptSchema)
  items?: AttemptSchema[];
}

export class CacheSchema {
  @IsIn(['hit', 'semantic_hit', 'miss', 'bypass', 'refresh', 'unknown']) status: string;
  @IsOptional() @Matches(HEX_SHA256, { message: 'key_hash must be a lowercase hex SHA-256' }) key_hash?: string;
}

export class UsageSchema {
  @OptionalCount() input_tokens?: number;
  @OptionalCount() output_tokens?: number;
  @OptionalCount() cached_input_tokens?: number;
  @OptionalCount() reasoning_tokens?: number;
}

export class LatencySchema {
  @OptionalCount() total_ms?: number;
  @OptionalCount() ttft_ms?: number;
  @OptionalCount() gateway_overhead_ms?: number;
}

export class CostSchema {
  @Matches(DECIMAL, { message: 'amount must be a decimal string such as "0.0042", never a float' }) amount: string;
  @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as "USD"' }) currency: string;
  @IsOptional() @IsIn(['gateway', 'computed']) source?: string;
}

export class PolicyCheckSchema {
  @RequiredId() name: string;
  @IsIn(['pass', 'fail', 'skipped', 'error']) result: string;
  @IsOptional() @IsBoolean() required?: boolean;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) detail?: string;
}

export class OutcomeSchema {
  @IsIn(['success', 'error', 'blocked', 'cancelled']) status: string;
  @IsOptional() @IsInt() @Min(100) @Max(599) http_status?: number;
  @OptionalId() error_class?: string;
  @OptionalId() finish_reason?: string;
}

export class DisclosureSchema {
  @IsOptional() @IsTriState() model_substituted_notice?: boolean | 'unknown';
}

export class ContentSchema {
  @IsOptional()
  @Matches(HEX_SHA256, { message: 'prompt_sha256 must be a lowercase hex SHA-256' })
  prompt_sha256?: string;
  @IsOptional()
  @Matches(HEX_SHA256, { message: 'response_sha256 must be a lowercase hex SHA-256' })
  response_sha256?: string;
}

export class SourceSchema {
  @IsIn(['native', 'litellm', 'portkey', 'openrouter', 'otel']) format: string;
  @OptionalId() adapter_version?: string;
  @Matches(HEX_SHA256, { message: 'raw_sha256 must be a lowercase hex SHA-256' }) raw_sha256: string;
  @OptionalId() topic?: string;
  @IsOptional() @IsInt() @Min(0) partition?: number;
  @IsOptional() @Matches(/^\d{1,19}$/, { message: 'offset must be a decimal string' }) offset?: string;
}

export class AttestationSchema {
  @OptionalId() kid?: string;
  @IsBoolean() verified: boolean;
}

export class CanonicalRecordSchema {
  @Equals('1', { message: 'schema_version must be "1"' }) schema_version: string;
  @RequiredId() event_id: string;
  @IsTimestamp() occurred_at: string;
  @IsOptional() @IsTimestamp() received_at?: string;
  @IsObject() @ValidateNested() @Type(() => GatewaySchema) gateway: GatewaySchema;
  @RequiredId() tenant_id: string;
  @RequiredId() request_id: string;
  @OptionalId() trace_id?: string;
  @OptionalId() session_id?: string;
  @OptionalId() end_user_hash?: string;
  @RequiredId() requested_model: string;
  @OptionalNested(() => AssertedValueSchema) resolved_model?: AssertedValueSchema;
  @OptionalNested(() => AssertedValueSchema) reported_model?: AssertedValueSchema;
  @OptionalId() provider?: string;
  @OptionalNested(() => ModelVersionSchema) model_version?: ModelVersionSchema;
  @OptionalNested(() => EndpointSchema) endpoint?: EndpointSchema;
  @OptionalNested(() => RegionSchema) region?: RegionSchema;
  @OptionalNested(() => RoutingSchema) routing?: RoutingSchema;
  @OptionalNested(() => TaskSchema) task?: TaskSchema;
  @OptionalNested(() => AttemptsSchema) attempts?: AttemptsSchema;
  @IsOptional() @IsTriState() fallback_used?: boolean | 'unknown';
  @OptionalCount() retries?: number;
  @OptionalNested(() => CacheSchema) cache?: CacheSchema;
  @OptionalNested(() => UsageSchema) usage?: UsageSchema;
  @OptionalNested(() => LatencySchema) latency?: LatencySchema;
  @OptionalNested(() => CostSchema) cost?: CostSchema;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => PolicyCheckSchema)
  policy_checks?: PolicyCheckSchema[];
  @IsObject() @ValidateNested() @Type(() => OutcomeSchema) outcome: OutcomeSchema;
  @OptionalNested(() => DisclosureSchema) disclosure?: DisclosureSchema;
  @OptionalNested(() => ContentSchema) content?: ContentSchema;
  @IsObject() @ValidateNested() @Type(() => SourceSchema) source: SourceSchema;
  @OptionalNested(() => AttestationSchema) attestation?: AttestationSchema;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(MAX_TEXT, { each: true })
  normalization_notes?: string[];
}
