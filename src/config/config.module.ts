import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig, ConfigSection } from './app-config.js';

/** Injection tokens, one per configuration section: a class injects only the sections it reads. */
export const CONFIG = {
  runtime: Symbol('RuntimeConfig'),
  database: Symbol('DatabaseConfig'),
  kafka: Symbol('KafkaConfig'),
  http: Symbol('HttpConfig'),
  ingest: Symbol('IngestConfig'),
  signing: Symbol('SigningConfig'),
  auth: Symbol('AuthConfig'),
  logging: Symbol('LoggingConfig'),
  witness: Symbol('WitnessConfig'),
} as const satisfies Record<ConfigSection, symbol>;

/**
 * Provides the sections validated by the caller (main.ts all of them, a CLI those it loaded);
 * never re-read from the environment. A provider that needs a section the caller did not load
 * fails at start-up as an unresolved dependency.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: Partial<AppConfig>): DynamicModule {
    const providers = (Object.keys(config) as ConfigSection[]).map((name) => ({
      provide: CONFIG[name],
      useValue: config[name],
    }));
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
