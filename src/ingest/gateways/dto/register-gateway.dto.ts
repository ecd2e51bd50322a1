import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';
import { publicKeyProblems } from '../gateway-policy.js';

/** public_keys must be a JWKS of public Ed25519/P-256 keys; a gateway that must sign needs at least one. */
function IsGatewayKeySet(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isGatewayKeySet',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          problemsOf(value, args.object as RegisterGatewayDto).length === 0,
        defaultMessage: (args: ValidationArguments) =>
          problemsOf(args.value, args.object as RegisterGatewayDto).join('; '),
      },
    });
}

function problemsOf(value: unknown, dto: RegisterGatewayDto): string[] {
  const problems = value === undefined ? [] : publicKeyProblems(value);
  const count = (value as { keys?: unknown[] } | undefined)?.keys?.length ?? 0;
  if (problems.length === 0 && dto.attestation_required === true && count === 0) {
    problems.push(
      'public_keys must hold at least one key when attestation_required is true (else every event of the gateway is quarantined)',
    );
  }
  return problems;
}

/** POST /v1/gateways: register a gateway, or re-register it (rotate keys, change its policy). */
export class RegisterGatewayDto {
  @ApiProperty({
    description: 'The gateway.id its events carry (x-routing-gateway-id, or the id the adapter reads from the payload)',
    example: 'litellm-prod-eu',
  })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'id must be 1 to 256 printable ASCII characters without spaces' })
  id: string;

  @ApiProperty({ description: 'Gateway kind: litellm, portkey, openrouter, otel, native, ...', example: 'litellm' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'kind must be a lower-case name such as litellm or portkey' })
  kind: string;

  @ApiPropertyOptional({ example: 'LiteLLM proxy, EU production' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  display_name?: string;

  @ApiPropertyOptional({
    description:
      "The tenant of this gateway's events that name none (a single-tenant LiteLLM proxy, an OTel SDK): tried after the event, x-routing-tenant and the ingest token, before DEFAULT_TENANT. Omitted: none.",
    example: 'acme',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[^\s@]{1,200}$/, { message: 'default_tenant must be a tenant id (1 to 200 characters, no spaces, no @)' })
  default_tenant?: string;

  @ApiPropertyOptional({
    description: 'Quarantine unsigned events of this gateway (ATTESTATION_REQUIRED). Default false.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  attestation_required?: boolean;

  @ApiPropertyOptional({
    description:
      'JWKS of the public keys the gateway signs events with (x-routing-signature: compact JWS, EdDSA or ES256, detached or over the raw event bytes)',
    example: {
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'gw-eu-1#2025-11' }],
    },
  })
  // Not @IsOptional: the check must also run when the keys are missing but attestation_required is true.
  @IsGatewayKeySet()
  public_keys?: { keys: object[] };
}
