import { ConfigError, loadConfig, loadConfigSection, loadConfigSections } from './app-config.js';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(base);
    expect(c.kafka.topics).toEqual({
      decisions: 'routing.decisions',
      deadLetter: 'routing.decisions.dlq',
      checkpoints: 'routing.checkpoints',
    });
    expect(c.http.port).toBe(8080);
    expect(c.ingest.maxMessageBytes).toBe(1048576);
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.logging.level).toBe('info');
  });

  it.each([
    [{ DATABASE_URL: undefined }, 'configuration error: DATABASE_URL is required'],
    [
      { KAFKA_BROKERS: 'localhost' },
      'configuration error: KAFKA_BROKERS "localhost" must be comma-separated host:port pairs',
    ],
    [{ PORT: 'eighty' }, 'configuration error: PORT "eighty" must be an integer'],
    [{ PORT: '70000' }, 'configuration error: PORT 70000 must not be greater than 65535'],
    [
      { DATABASE_URL: 'mysql://root:secret@h/db' },
      'configuration error: DATABASE_URL "mysql://root:***@h/db" must be a postgres:// URL',
    ],
    [
      { DATABASE_READ_URL: 'mysql://ro:secret@replica/db' },
      'configuration error: DATABASE_READ_URL "mysql://ro:***@replica/db" must be a postgres:// URL',
    ],
    [
      { NODE_ENV: 'production' },
      'configuration error: SIGNING_KEY_FILE, SIGNING_KEY_JWK or SIGNING_EXTERNAL_URL is required when NODE_ENV=production',
    ],
    [
      { SIGNING_EXTERNAL_URL: 'https://signer.internal', SIGNING_KEY_FILE: '/keys/ledger.jwk' },
      'configuration error: SIGNING_EXTERNAL_URL cannot be combined with SIGNING_KEY_FILE or SIGNING_KEY_JWK',
    ],
    [
      { SIGNING_EXTERNAL_URL: 'signer:8443' },
      'configuration error: SIGNING_EXTERNAL_URL "signer:8443" must be an http(s) URL',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'configuration error: LOG_LEVEL "loud" must be one of fatal, error, warn, info, debug, trace, silent',
    ],
  ])('rejects %j with one line naming the variable', (override, message) => {
    const env = { ...base, ...override } as NodeJS.ProcessEnv;
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('loadConfigSection', () => {
  it("loads one section with every other section's variables absent, as a CLI does", () => {
    expect(loadConfigSection('database', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' })).toEqual({
      url: 'postgres://postgres@127.0.0.1:5432/x',
      poolSize: 6,
      appRole: 'routing_ledger_app',
    });
    expect(
      loadConfigSection('database', {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
        DATABASE_READ_URL: 'postgres://postgres@127.0.0.1:5433/x',
      }).readUrl,
    ).toBe('postgres://postgres@127.0.0.1:5433/x');
    expect(loadConfigSections(['runtime', 'auth'], { DATA_DIR: '/tmp/keys' })).toEqual({
      runtime: { env: 'development', dataDir: '/tmp/keys' },
      auth: { jwksFile: undefined, jwksUrl: undefined, issuer: 'routing-ledger', audience: 'routing-ledger-api' },
    });
  });

  it('ignores bad values of the sections it does not load', () => {
    const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x', KAFKA_BROKERS: 'localhost', PORT: 'eighty' };
    expect(loadConfigSection('database', env).url).toBe(env.DATABASE_URL);
    expect(() => loadConfigSection('kafka', env)).toThrow(
      'configuration error: KAFKA_BROKERS "localhost" must be comma-separated host:port pairs',
    );
    expect(() => loadConfigSection('http', env)).toThrow('configuration error: PORT "eighty" must be an integer');
  });

  it.each([
    [
      'database',
      { DATABASE_URL: 'mysql://root:secret@h/db' },
      'configuration error: DATABASE_URL "mysql://root:***@h/db" must be a postgres:// URL',
    ],
    ['database', {}, 'configuration error: DATABASE_URL is required'],
    [
      'database',
      { DATABASE_URL: base.DATABASE_URL, DB_POOL_SIZE: '1' },
      'configuration error: DB_POOL_SIZE 1 must not be less than 2',
    ],
    ['kafka', {}, 'configuration error: KAFKA_BROKERS is required'],
    [
      'signing',
      { NODE_ENV: 'production' },
      'configuration error: SIGNING_KEY_FILE, SIGNING_KEY_JWK or SIGNING_EXTERNAL_URL is required when NODE_ENV=production',
    ],
    [
      'runtime',
      { NODE_ENV: 'staging' },
      'configuration error: NODE_ENV "staging" must be development, production or test',
    ],
  ] as const)("section %s rejects %j with today's message", (name, env, message) => {
    expect(() => loadConfigSection(name, env)).toThrow(ConfigError);
    expect(() => loadConfigSection(name, env)).toThrow(message);
  });

  it('keeps empty values where empty means something (DB_APP_ROLE, DEFAULT_TENANT)', () => {
    expect(loadConfigSection('database', { DATABASE_URL: base.DATABASE_URL, DB_APP_ROLE: '' }).appRole).toBe('');
    expect(loadConfigSection('ingest', { DEFAULT_TENANT: '' }).defaultTenant).toBeUndefined();
    expect(loadConfigSection('ingest', {}).defaultTenant).toBe('default');
  });
});
