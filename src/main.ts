import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const app = await createApp(config);
  await app.listen(config.http.port, '0.0.0.0');
  new Logger('main').log({
    msg: `routing-ledger listening on :${config.http.port} (topic ${config.kafka.topics.decisions}, group ${config.kafka.groupId})`,
    port: config.http.port,
    topic: config.kafka.topics.decisions,
    groupId: config.kafka.groupId,
  });
}

main().catch((e: unknown) => {
  new Logger('main').error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
