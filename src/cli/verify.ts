import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigError, loadConfigSections } from '../config/app-config.js';
import { ConfigModule } from '../config/config.module.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { LedgerCoreModule } from '../ledger/ledger.module.js';
import { LedgerService } from '../ledger/ledger.service.js';

/**
 * `npm run verify`: full verification of the ledger named by DATABASE_URL. Exit code 0 when
 * every leaf, root, chain link, node and checkpoint signature checks out; 1 on tampering,
 * naming the first record that differs; 2 on a usage or configuration error.
 */
async function main(): Promise<number> {
  // The database, and what the ledger's key service is built with (it reads the key history from the database).
  const config = loadConfigSections(['database', 'runtime', 'signing']);
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TypeOrmModule.forRoot(dataSourceOptions({ url: config.database.url, poolSize: 2 })),
      LedgerCoreModule,
    ],
  })
  class VerifyModule {}
  const app = await NestFactory.createApplicationContext(VerifyModule, { logger: ['error'] });
  try {
    const started = Date.now();
    let lastPrint = 0;
    const report = await app.get(LedgerService).verify((shard, done, total) => {
      if (Date.now() - lastPrint > 1000 || done === total) {
        lastPrint = Date.now();
        process.stderr.write(`\rshard ${shard}: ${done}/${total} records`);
      }
    });
    process.stderr.write('\n');
    for (const s of report.shards)
      process.stdout.write(`shard ${s.shard}: ${s.records} records, ${s.checkpoints} checkpoints, root ${s.root}\n`);
    const records = report.shards.reduce((n, s) => n + s.records, 0);
    if (report.ok) {
      process.stdout.write(
        `VERIFIED: ${records} records in ${report.shards.length} shards; every leaf, root, tenant chain, node and checkpoint signature checks out (${Date.now() - started} ms)\n`,
      );
      return 0;
    }
    const first = report.first_problem!;
    process.stdout.write(
      `TAMPERED: ${report.problems.length} problem(s). First: [${first.code}] shard ${first.shard}${first.leafIndex !== undefined ? ` leaf ${first.leafIndex}` : ''}${first.eventId ? ` record ${first.eventId}` : ''}: ${first.message}\n`,
    );
    for (const p of report.problems.slice(0, 20))
      process.stdout.write(`  - [${p.code}] shard ${p.shard}: ${p.message}\n`);
    return 1;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `verify failed: ${e.message}\n`);
    process.exit(2);
  },
);
