import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { AppError } from '../common/app-error.js';

/**
 * Every setting the service reads, validated once at start-up. A wrong or missing value
 * stops the service with one line naming the variable (see ConfigError), never a stack trace.
 */
export const DEFAULTS = {
  KAFKA_CLIENT_ID: 'routing-ledger',
  KAFKA_GROUP_ID: 'routing-ledger',
  TOPIC_DECISIONS: 'routing.decisions',
  TOPIC_DLQ: 'routing.decisions.dlq',
  TOPIC_CHECKPOINTS: 'routing.checkpoints',
  PORT: 8080,
  DATA_DIR: '.data',
  MAX_MESSAGE_BYTES: 1024 * 1024,
  LEDGER_ORIGIN: 'routing-ledger.local/dev',
  PARTITIONS_CONSUMED_CONCURRENTLY: 2,
  DB_POOL_SIZE: 6,
  DB_APP_ROLE: 'routing_ledger_app',
  DEFAULT_TENANT: 'default',
  NODE_ENV: 'development',
  KAFKA_COMMIT_INTERVAL_MS: 5000,
  KAFKA_SESSION_TIMEOUT_MS: 30000,
} as const;

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value);

class EnvironmentSchema {
  @IsString() @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  @IsString() @Matches(/^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/, { message: 'must be comma-separated host:port pairs' })
  KAFKA_BROKERS: string;

  @IsString() @IsNotEmpty() KAFKA_CLIENT_ID: string = DEFAULTS.KAFKA_CLIENT_ID;
  @IsString() @IsNotEmpty() KAFKA_GROUP_ID: string = DEFAULTS.KAFKA_GROUP_ID;
  @IsString() @Matches(/^[\w.-]{1,249}$/, { message: 'must be a Kafka topic name' }) TOPIC_DECISIONS: string = DEFAULTS.TOPIC_DECISIONS;
  @IsString() @Matches(/^[\w.-]{1,249}$/, { message: 'must be a Kafka topic name' }) TOPIC_DLQ: string = DEFAULTS.TOPIC_DLQ;
  @IsString() @Matches(/^[\w.-]{1,249}$/, { message: 'must be a Kafka topic name' }) TOPIC_CHECKPOINTS: string = DEFAULTS.TOPIC_CHECKPOINTS;

  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(0) @Max(65535) PORT: number = DEFAULTS.PORT;
  @IsString() @IsNotEmpty() DATA_DIR: string = DEFAULTS.DATA_DIR;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(1024) @Max(64 * 1024 * 1024) MAX_MESSAGE_BYTES: number = DEFAULTS.MAX_MESSAGE_BYTES;
  @IsString() @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'must be printable ASCII without spaces' }) LEDGER_ORIGIN: string = DEFAULTS.LEDGER_ORIGIN;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(1) @Max(64) PARTITIONS_CONSUMED_CONCURRENTLY: number = DEFAULTS.PARTITIONS_CONSUMED_CONCURRENTLY;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(2) @Max(200) DB_POOL_SIZE: number = DEFAULTS.DB_POOL_SIZE;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(0) @Max(600_000) KAFKA_COMMIT_INTERVAL_MS: number = DEFAULTS.KAFKA_COMMIT_INTERVAL_MS;
  /** How long the group waits for a silent member (a killed process) before rebalancing its partitions. */
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(3000) @Max(600_000) KAFKA_SESSION_TIMEOUT_MS: number = DEFAULTS.KAFKA_SESSION_TIMEOUT_MS;
  /** The role the service SETs after connecting: it may insert, never update or delete ledger rows. Empty disables. */
  @IsString() @Matches(/^([a-z_][a-z0-9_]{0,62})?$/, { message: 'must be a PostgreSQL role name or empty' }) DB_APP_ROLE: string = DEFAULTS.DB_APP_ROLE;
  @IsIn(['development', 'production', 'test'], { message: 'must be development, production or test' }) NODE_ENV: string = DEFAULTS.NODE_ENV;
  /**
   * The tenant of events that name none (a single-tenant LiteLLM proxy, an OTel SDK) and arrive
   * without x-routing-tenant or a single-tenant ingest token. Empty: such events are quarantined
   * (NO_TENANT), the strict behaviour.
   */
  @IsString() @Matches(/^([^\s@]{1,200})?$/, { message: 'must be a tenant id (no spaces, no @) or empty' }) DEFAULT_TENANT: string = DEFAULTS.DEFAULT_TENANT;

  /** Ledger signing key: a private Ed25519 JWK as JSON, or a file holding one. Required in production. */
  @IsOptional() @IsString() SIGNING_KEY_JWK?: string;
  @IsOptional() @IsString() SIGNING_KEY_FILE?: string;

  /** Verification keys for API bearer tokens (file or URL); development falls back to a local key. */
  @IsOptional() @IsString() AUTH_JWKS_FILE?: string;
  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' }) AUTH_JWKS_URL?: string;
  @IsString() @IsNotEmpty() AUTH_ISSUER: string = 'routing-ledger';
  @IsString() @IsNotEmpty() AUTH_AUDIENCE: string = 'routing-ledger-api';
}

export interface AppConfig {
  databaseUrl: string;
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    topics: { decisions: string; deadLetter: string; checkpoints: string };
    partitionsConsumedConcurrently: number;
    commitIntervalMs: number;
    sessionTimeoutMs: number;
  };
  port: number;
  dataDir: string;
  maxMessageBytes: number;
  ledgerOrigin: string;
  dbPoolSize: number;
  dbAppRole: string;
  /** DEFAULT_TENANT, or undefined when it is empty (strict: tenantless events are quarantined). */
  defaultTenant: string | undefined;
  env: 'development' | 'production' | 'test';
  signingKey: { jwk?: string; file?: string };
  auth: { jwksFile?: string; jwksUrl?: string; issuer: string; audience: string };
}

export class ConfigError extends AppError {
  readonly code = 'CONFIG_INVALID';
}

/** Reads and validates the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(new EnvironmentSchema())) if (env[key] !== undefined && env[key] !== '') raw[key] = env[key]!;
  for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', 'SIGNING_KEY_JWK', 'SIGNING_KEY_FILE', 'AUTH_JWKS_FILE', 'AUTH_JWKS_URL']) {
    if (env[key] !== undefined && env[key] !== '') raw[key] = env[key]!;
  }
  if (env.DB_APP_ROLE === '') raw.DB_APP_ROLE = '';
  if (env.DEFAULT_TENANT === '') raw.DEFAULT_TENANT = '';
  const parsed = plainToInstance(EnvironmentSchema, raw);
  const errors = validateSync(parsed, { skipMissingProperties: false });
  if (errors.length > 0) {
    const e = errors[0];
    const c = e.constraints ?? {};
    // Name the type problem before range problems: "eighty" is not an integer, not "too big".
    const message = c.isInt ?? c.isString ?? Object.values(c)[0] ?? 'is invalid';
    const problem = e.value === undefined ? 'is required' : `${JSON.stringify(redactValue(e.property, e.value))} ${message.replace(new RegExp(`^${e.property} `), '')}`;
    throw new ConfigError(`configuration error: ${e.property} ${problem}`);
  }
  if (parsed.NODE_ENV === 'production' && !parsed.SIGNING_KEY_JWK && !parsed.SIGNING_KEY_FILE) {
    throw new ConfigError('configuration error: SIGNING_KEY_FILE or SIGNING_KEY_JWK is required when NODE_ENV=production');
  }
  return {
    databaseUrl: parsed.DATABASE_URL,
    kafka: {
      brokers: parsed.KAFKA_BROKERS.split(','),
      clientId: parsed.KAFKA_CLIENT_ID,
      groupId: parsed.KAFKA_GROUP_ID,
      topics: { decisions: parsed.TOPIC_DECISIONS, deadLetter: parsed.TOPIC_DLQ, checkpoints: parsed.TOPIC_CHECKPOINTS },
      partitionsConsumedConcurrently: parsed.PARTITIONS_CONSUMED_CONCURRENTLY,
      commitIntervalMs: parsed.KAFKA_COMMIT_INTERVAL_MS,
      sessionTimeoutMs: parsed.KAFKA_SESSION_TIMEOUT_MS,
    },
    port: parsed.PORT,
    dataDir: parsed.DATA_DIR,
    maxMessageBytes: parsed.MAX_MESSAGE_BYTES,
    ledgerOrigin: parsed.LEDGER_ORIGIN,
    dbPoolSize: parsed.DB_POOL_SIZE,
    dbAppRole: parsed.DB_APP_ROLE,
    defaultTenant: parsed.DEFAULT_TENANT === '' ? undefined : parsed.DEFAULT_TENANT,
    env: parsed.NODE_ENV as AppConfig['env'],
    signingKey: { jwk: parsed.SIGNING_KEY_JWK, file: parsed.SIGNING_KEY_FILE },
    auth: { jwksFile: parsed.AUTH_JWKS_FILE, jwksUrl: parsed.AUTH_JWKS_URL, issuer: parsed.AUTH_ISSUER, audience: parsed.AUTH_AUDIENCE },
  };
}

function redactValue(property: string, value: unknown): unknown {
  if (property === 'DATABASE_URL' && typeof value === 'string') return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  if (property.startsWith('SIGNING_KEY')) return '***';
  return value;
}
