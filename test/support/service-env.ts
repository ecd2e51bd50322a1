import { createServer } from 'node:net';

/**
 * The environment the service runs with in a test or the bench: its database, the dev broker, a
 * free port, a data directory (default `/tmp/<database name>`), and a 6 s Kafka session so that
 * the partitions of a killed consumer are handed over quickly. `extra` adds or overrides
 * variables. The bench compiles this file too (tsconfig.build.json).
 */
export async function serviceEnv(
  run: { db: { url: string; name: string }; brokers: string[]; dataDir?: string },
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  return {
    DATABASE_URL: run.db.url,
    KAFKA_BROKERS: run.brokers.join(','),
    PORT: String(await freePort()),
    DATA_DIR: run.dataDir ?? `/tmp/${run.db.name}`,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...extra,
  };
}

/** A TCP port free on 127.0.0.1 now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
