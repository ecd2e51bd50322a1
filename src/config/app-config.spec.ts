import { ConfigError, loadConfig } from './app-config.js';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(base);
    expect(c.kafka.topics).toEqual({ decisions: 'routing.decisions', deadLetter: 'routing.decisions.dlq', checkpoints: 'routing.checkpoints' });
    expect(c.port).toBe(8080);
    expect(c.maxMessageBytes).toBe(1048576);
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
  });

  it.each([
    [{ DATABASE_URL: undefined }, 'configuration error: DATABASE_URL is required'],
    [{ KAFKA_BROKERS: 'localhost' }, 'configuration error: KAFKA_BROKERS "localhost" must be comma-separated host:port pairs'],
    [{ PORT: 'eighty' }, 'configuration error: PORT "eighty" must be an integer'],
    [{ PORT: '70000' }, 'configuration error: PORT 70000 must not be greater than 65535'],
    [{ DATABASE_URL: 'mysql://root:secret@h/db' }, 'configuration error: DATABASE_URL "mysql://root:***@h/db" must be a postgres:// URL'],
    [{ NODE_ENV: 'production' }, 'configuration error: SIGNING_KEY_FILE or SIGNING_KEY_JWK is required when NODE_ENV=production'],
  ])('rejects %j with one line naming the variable', (override, message) => {
    const env = { ...base, ...override } as NodeJS.ProcessEnv;
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
