import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { readFileSync } from 'node:fs';
import { AppError } from '../common/app-error.js';
import { EMPTY_POLICY, parseWitnessPolicy, type WitnessPolicy } from '../domain/witness/witness-policy.js';

/**
 * Every setting the service reads, in sections validated one by one: the service loads them
 * all at start-up, a CLI only the sections it uses, so a command that never talks to Kafka
 * needs no KAFKA_BROKERS. A wrong or missing value stops the process with one line naming the
 * variable (see ConfigError), never a stack trace.
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
  INGEST_DECODE_THREADS: 0,
  LEDGER_ORIGIN: 'routing-ledger.local/dev',
  PARTITIONS_CONSUMED_CONCURRENTLY: 2,
  DB_POOL_SIZE: 6,
  DB_APP_ROLE: 'routing_ledger_app',
  DEFAULT_TENANT: 'default',
  NODE_ENV: 'development',
  KAFKA_COMMIT_INTERVAL_MS: 5000,
  KAFKA_SESSION_TIMEOUT_MS: 30000,
  AUTH_ISSUER: 'routing-ledger',
  AUTH_AUDIENCE: 'routing-ledger-api',
  LOG_LEVEL: 'info',
  SIGNING_EXTERNAL_TIMEOUT_MS: 5000,
  WITNESS_INTERVAL_MS: 2000,
  WITNESS_TIMEOUT_MS: 10_000,
  WITNESS_MAX_BACKOFF_MS: 300_000,
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;

/** NODE_ENV and DATA_DIR: the mode (production is strict about keys) and where development keys and exports live. */
class RuntimeEnvironment {
  @IsIn(['development', 'production', 'test'], { message: 'must be development, production or test' })
  NODE_ENV: string = DEFAULTS.NODE_ENV;
  @IsString() @IsNotEmpty() DATA_DIR: string = DEFAULTS.DATA_DIR;
}

class DatabaseEnvironment {
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  /** A streaming replica for reads (queries, incidents, findings, exports); unset: reads use DATABASE_URL. */
  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_READ_URL?: string;

  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(2) @Max(200) DB_POOL_SIZE: number =
    DEFAULTS.DB_POOL_SIZE;
  /** The role the service SETs after connecting: it may insert, never update or delete ledger rows. Empty disables. */
  @IsString()
  @Matches(/^([a-z_][a-z0-9_]{0,62})?$/, { message: 'must be a PostgreSQL role name or empty' })
  DB_APP_ROLE: string = DEFAULTS.DB_APP_ROLE;
}

class KafkaEnvironment {
  @IsString()
  @Matches(/^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/, { message: 'must be comma-separated host:port pairs' })
  KAFKA_BROKERS: string;

  @IsString() @IsNotEmpty() KAFKA_CLIENT_ID: string = DEFAULTS.KAFKA_CLIENT_ID;
  @IsString() @IsNotEmpty() KAFKA_GROUP_ID: string = DEFAULTS.KAFKA_GROUP_ID;
  @IsString() @Matches(/^[\w.-]{1,249}$/, { message: 'must be a Kafka topic name' }) TOPIC_DECISIONS: string =
    DEFAULTS.TOPIC_DECISIONS;
  @IsString() @Matches(/^[\w.-]{1,249}$/, { message: 'must be a Kafka topic name' }) TOPIC_DLQ: string =
    DEFAULTS.TOPIC_DLQ;
  @IsString() @Matches(/^[\w.-]{1,249}$/, { message: 'must be a Kafka topic name' }) TOPIC_CHECKPOINTS: string =
    DEFAULTS.TOPIC_CHECKPOINTS;
  @Transform(toInt)
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(64)
  PARTITIONS_CONSUMED_CONCURRENTLY: number = DEFAULTS.PARTITIONS_CONSUMED_CONCURRENTLY;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(0) @Max(600_000) KAFKA_COMMIT_INTERVAL_MS: number =
    DEFAULTS.KAFKA_COMMIT_INTERVAL_MS;
  /** How long the group waits for a silent member (a killed process) before rebalancing its partitions. */
  @Transform(toInt)
  @IsInt({ message: 'must be an integer' })
  @Min(3000)
  @Max(600_000)
  KAFKA_SESSION_TIMEOUT_MS: number = DEFAULTS.KAFKA_SESSION_TIMEOUT_MS;
}

class HttpEnvironment {
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(0) @Max(65535) PORT: number = DEFAULTS.PORT;
}

class IngestEnvironment {
  @Transform(toInt)
  @IsInt({ message: 'must be an integer' })
  @Min(1024)
  @Max(64 * 1024 * 1024)
  MAX_MESSAGE_BYTES: number = DEFAULTS.MAX_MESSAGE_BYTES;
  /**
   * Worker threads that decode and prepare the consumer's batches (parse, adapt, validate,
   * canonicalize, hash) while the main thread fetches and writes; 0 decodes on the main thread.
   */
  @Transform(toInt)
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(16)
  INGEST_DECODE_THREADS: number = DEFAULTS.INGEST_DECODE_THREADS;
  /**
   * The tenant of events that name none (a single-tenant LiteLLM proxy, an OTel SDK) and arrive
   * without x-routing-tenant or a single-tenant ingest token. Empty: such events are quarantined
   * (NO_TENANT), the strict behaviour.
   */
  @IsString()
  @Matches(/^([^\s@]{1,200})?$/, { message: 'must be a tenant id (no spaces, no @) or empty' })
  DEFAULT_TENANT: string = DEFAULTS.DEFAULT_TENANT;
}

class SigningEnvironment {
  @IsString()
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'must be printable ASCII without spaces' })
  LEDGER_ORIGIN: string = DEFAULTS.LEDGER_ORIGIN;
  /** Ledger signing key: a private Ed25519 JWK as JSON, or a file holding one. Required in production. */
  @IsOptional() @IsString() SIGNING_KEY_JWK?: string;
  @IsOptional() @IsString() SIGNING_KEY_FILE?: string;
  /** An external signer (docs/operations.md, "One signing key"): GET <url>/public-key, POST <url>/sign. */
  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' }) SIGNING_EXTERNAL_URL?: string;
  /** Sent to the external signer as `Authorization: Bearer <token>`. */
  @IsOptional() @IsString() SIGNING_EXTERNAL_TOKEN?: string;
  @Transform(toInt)
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  @Max(120_000)
  SIGNING_EXTERNAL_TIMEOUT_MS: number = DEFAULTS.SIGNING_EXTERNAL_TIMEOUT_MS;
}

class AuthEnvironment {
  /** Verification keys for API bearer tokens (file or URL); development falls back to a local key. */
  @IsOptional() @IsString() AUTH_JWKS_FILE?: string;
  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' }) AUTH_JWKS_URL?: string;
  @IsString() @IsNotEmpty() AUTH_ISSUER: string = DEFAULTS.AUTH_ISSUER;
  @IsString() @IsNotEmpty() AUTH_AUDIENCE: string = DEFAULTS.AUTH_AUDIENCE;
}

class LoggingEnvironment {
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }) LOG_LEVEL: string = DEFAULTS.LOG_LEVEL;
}

/** Witnessing: the policy (witnesses, their URLs and keys, the quorum) and how the submitter paces itself. */
class WitnessEnvironment {
  @IsOptional() @IsString() WITNESS_POLICY_FILE?: string;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(50) @Max(3_600_000) WITNESS_INTERVAL_MS: number =
    DEFAULTS.WITNESS_INTERVAL_MS;
  @Transform(toInt) @IsInt({ message: 'must be an integer' }) @Min(100) @Max(600_000) WITNESS_TIMEOUT_MS: number =
    DEFAULTS.WITNESS_TIMEOUT_MS;
  @Transform(toInt)
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  @Max(86_400_000)
  WITNESS_MAX_BACKOFF_MS: number = DEFAULTS.WITNESS_MAX_BACKOFF_MS;
}

export interface RuntimeConfig {
  env: 'development' | 'production' | 'test';
  dataDir: string;
}

export interface DatabaseConfig {
  url: string;
  /** DATABASE_READ_URL: the read replica, when there is one. */
  readUrl?: string;
  poolSize: number;
  appRole: string;
}

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: { decisions: string; deadLetter: string; checkpoints: string };
  partitionsConsumedConcurrently: number;
  commitIntervalMs: number;
  sessionTimeoutMs: number;
}

export interface HttpConfig {
  port: number;
}

export interface IngestConfig {
  maxMessageBytes: number;
  /** INGEST_DECODE_THREADS: 0 decodes on the consumer's own thread. */
  decodeThreads: number;
  /** DEFAULT_TENANT, or undefined when it is empty (strict: tenantless events are quarantined). */
  defaultTenant: string | undefined;
}

export interface SigningConfig {
  ledgerOrigin: string;
  jwk?: string;
  file?: string;
  /** SIGNING_EXTERNAL_URL and its settings: the key is held by an external signer. */
  external?: ExternalSignerConfig;
}

export interface ExternalSignerConfig {
  url: string;
  token?: string;
  timeoutMs: number;
}

export interface AuthConfig {
  jwksFile?: string;
  jwksUrl?: string;
  issuer: string;
  audience: string;
}

export interface LoggingConfig {
  level: LogLevel;
}

export interface WitnessConfig {
  /** Empty (no witnesses, quorum 0) without WITNESS_POLICY_FILE. */
  policy: WitnessPolicy;
  policyFile?: string;
  intervalMs: number;
  timeoutMs: number;
  maxBackoffMs: number;
}

export interface AppConfig {
  runtime: RuntimeConfig;
  database: DatabaseConfig;
  kafka: KafkaConfig;
  http: HttpConfig;
  ingest: IngestConfig;
  signing: SigningConfig;
  auth: AuthConfig;
  logging: LoggingConfig;
  witness: WitnessConfig;
}

export type ConfigSection = keyof AppConfig;

export class ConfigError extends AppError {
  readonly code = 'CONFIG_INVALID';
}

interface SectionDefinition<E extends object, C> {
  schema: new () => E;
  /** Variables whose empty value means "empty", not "unset" (the default). */
  emptyAllowed?: readonly string[];
  build(parsed: E, env: NodeJS.ProcessEnv): C;
}

const section = <E extends object, C>(d: SectionDefinition<E, C>) => d;

/** Each section: the variables it reads and the typed object it yields. Order: the order `loadConfig` checks them in. */
const SECTIONS: { [K in ConfigSection]: SectionDefinition<object, AppConfig[K]> } = {
  database: section({
    schema: DatabaseEnvironment,
    emptyAllowed: ['DB_APP_ROLE'],
    build: (p) => ({
      url: p.DATABASE_URL,
      readUrl: p.DATABASE_READ_URL,
      poolSize: p.DB_POOL_SIZE,
      appRole: p.DB_APP_ROLE,
    }),
  }),
  kafka: section({
    schema: KafkaEnvironment,
    build: (p) => ({
      brokers: p.KAFKA_BROKERS.split(','),
      clientId: p.KAFKA_CLIENT_ID,
      groupId: p.KAFKA_GROUP_ID,
      topics: { decisions: p.TOPIC_DECISIONS, deadLetter: p.TOPIC_DLQ, checkpoints: p.TOPIC_CHECKPOINTS },
      partitionsConsumedConcurrently: p.PARTITIONS_CONSUMED_CONCURRENTLY,
      commitIntervalMs: p.KAFKA_COMMIT_INTERVAL_MS,
      sessionTimeoutMs: p.KAFKA_SESSION_TIMEOUT_MS,
    }),
  }),
  http: section({ schema: HttpEnvironment, build: (p) => ({ port: p.PORT }) }),
  runtime: section({
    schema: RuntimeEnvironment,
    build: (p) => ({ env: p.NODE_ENV as RuntimeConfig['env'], dataDir: p.DATA_DIR }),
  }),
  ingest: section({
    schema: IngestEnvironment,
    emptyAllowed: ['DEFAULT_TENANT'],
    build: (p) => ({
      maxMessageBytes: p.MAX_MESSAGE_BYTES,
      decodeThreads: p.INGEST_DECODE_THREADS,
      defaultTenant: p.DEFAULT_TENANT === '' ? undefined : p.DEFAULT_TENANT,
    }),
  }),
  signing: section({
    schema: SigningEnvironment,
    build: (p, env) => {
      // Whoever signs (the service, an export) must not fall back to a generated key in production.
      const local = p.SIGNING_KEY_JWK || p.SIGNING_KEY_FILE;
      if (loadConfigSection('runtime', env).env === 'production' && !local && !p.SIGNING_EXTERNAL_URL) {
        throw new ConfigError(
          'configuration error: SIGNING_KEY_FILE, SIGNING_KEY_JWK or SIGNING_EXTERNAL_URL is required when NODE_ENV=production',
        );
      }
      // Two sources of the key would be two keys: refuse rather than pick one silently.
      if (local && p.SIGNING_EXTERNAL_URL) {
        throw new ConfigError(
          'configuration error: SIGNING_EXTERNAL_URL cannot be combined with SIGNING_KEY_FILE or SIGNING_KEY_JWK',
        );
      }
      return {
        ledgerOrigin: p.LEDGER_ORIGIN,
        jwk: p.SIGNING_KEY_JWK,
        file: p.SIGNING_KEY_FILE,
        ...(p.SIGNING_EXTERNAL_URL
          ? {
              external: {
                url: p.SIGNING_EXTERNAL_URL,
                token: p.SIGNING_EXTERNAL_TOKEN,
                timeoutMs: p.SIGNING_EXTERNAL_TIMEOUT_MS,
              },
            }
          : {}),
      };
    },
  }),
  auth: section({
    schema: AuthEnvironment,
    build: (p) => ({
      jwksFile: p.AUTH_JWKS_FILE,
      jwksUrl: p.AUTH_JWKS_URL,
      issuer: p.AUTH_ISSUER,
      audience: p.AUTH_AUDIENCE,
    }),
  }),
  logging: section({ schema: LoggingEnvironment, build: (p) => ({ level: p.LOG_LEVEL as LogLevel }) }),
  witness: section({
    schema: WitnessEnvironment,
    build: (p) => ({
      policy: p.WITNESS_POLICY_FILE ? readWitnessPolicy(p.WITNESS_POLICY_FILE) : EMPTY_POLICY,
      policyFile: p.WITNESS_POLICY_FILE,
      intervalMs: p.WITNESS_INTERVAL_MS,
      timeoutMs: p.WITNESS_TIMEOUT_MS,
      maxBackoffMs: p.WITNESS_MAX_BACKOFF_MS,
    }),
  }),
};

function readWitnessPolicy(file: string): WitnessPolicy {
  try {
    return parseWitnessPolicy(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`configuration error: WITNESS_POLICY_FILE ${JSON.stringify(file)}: ${(e as Error).message}`);
  }
}

/** Reads and validates one section. Throws ConfigError naming its first bad variable; other sections' variables are not read. */
export function loadConfigSection<K extends ConfigSection>(
  name: K,
  env: NodeJS.ProcessEnv = process.env,
): AppConfig[K] {
  const def = SECTIONS[name];
  const raw: Record<string, string> = {};
  // Fields without a default are own properties too (ES2022 class fields), so this lists every variable of the section.
  for (const key of Object.keys(new def.schema())) {
    const value = env[key];
    if (value === undefined) continue;
    if (value !== '' || def.emptyAllowed?.includes(key)) raw[key] = value;
  }
  const parsed = plainToInstance(def.schema, raw);
  const errors = validateSync(parsed, { skipMissingProperties: false });
  if (errors.length > 0) {
    const e = errors[0];
    const c = e.constraints ?? {};
    // Name the type problem before range problems: "eighty" is not an integer, not "too big".
    const message = c.isInt ?? c.isString ?? Object.values(c)[0] ?? 'is invalid';
    const problem =
      e.value === undefined
        ? 'is required'
        : `${JSON.stringify(redactValue(e.property, e.value))} ${message.replace(new RegExp(`^${e.property} `), '')}`;
    throw new ConfigError(`configuration error: ${e.property} ${problem}`);
  }
  return def.build(parsed, env) as AppConfig[K];
}

/** The named sections only, e.g. a CLI's `loadConfigSections(['runtime', 'auth'])`. */
export function loadConfigSections<K extends ConfigSection>(
  names: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<AppConfig, K> {
  const out = {} as Pick<AppConfig, K>;
  for (const name of names) out[name] = loadConfigSection(name, env);
  return out;
}

/** Every section: the service's configuration. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return loadConfigSections(Object.keys(SECTIONS) as ConfigSection[], env);
}

function redactValue(property: string, value: unknown): unknown {
  if ((property === 'DATABASE_URL' || property === 'DATABASE_READ_URL') && typeof value === 'string')
    return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  if (property.startsWith('SIGNING_KEY') || property === 'SIGNING_EXTERNAL_TOKEN') return '***';
  return value;
}
