/**
 * Read-replica lag under ingest (`npm run bench:replica-lag`, docs/operations.md "Read replicas").
 *
 * A private primary and a real streaming replica (pg_basebackup -R, test/support/pg-cluster.ts);
 * the real append path (LedgerAppendService) writes batches of 100 demo events to 4 shards at a
 * paced rate, then at full speed. Meanwhile it samples, every 100 ms, the lag the service reports
 * (replicaLag: WAL bytes not replayed, ms since the last replayed commit) and, per batch, how long
 * after its commit the batch's last record is visible on the replica.
 *
 *   node dist/bench/replica-lag.js [--seconds 20] [--rates 250,1000,0]    (0 = full speed)
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { loadConfigSections } from '../src/config/app-config.js';
import { ConfigModule } from '../src/config/config.module.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrations } from '../src/database/migrate.js';
import { replicaLag } from '../src/database/replica-lag.js';
import { LedgerAppendService } from '../src/ledger/ledger-append.service.js';
import { LedgerModule } from '../src/ledger/ledger.module.js';
import { MetricsModule } from '../src/metrics/metrics.module.js';
import { startPgCluster, startStreamingReplica, type PgReplica } from '../test/support/pg-cluster.js';
import { benchEvent, quantile, sleep } from './lib/env.js';

const DB = 'rl_replica_lag';
const BATCH = 100;
const SHARDS = 4;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Phase {
  rate: number;
  events: number;
  seconds: number;
  lagBytes: number[];
  lagMs: number[];
  visibleMs: number[];
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '20'));
  const rates = arg('rates', '250,1000,0').split(',').map(Number);
  const primary = await startPgCluster();
  console.log(
    `PostgreSQL ${(await primary.query<{ v: string }>('postgres', "SELECT current_setting('server_version') AS v"))[0].v}`,
  );
  let replica: PgReplica | undefined;
  const clients: pg.Client[] = [];
  try {
    // pg-cluster turns synchronous_commit off for speed; then WAL reaches the replica only at the
    // WAL writer's next flush (wal_writer_delay, 200 ms). Measure with the default, on.
    await primary.query('postgres', 'ALTER SYSTEM SET synchronous_commit = on');
    await primary.query('postgres', 'SELECT pg_reload_conf()');
    await primary.query('postgres', `CREATE DATABASE ${DB}`);
    await runMigrations(primary.url(DB));
    // After the migrations: the replica starts with the database and the app role already there.
    replica = await startStreamingReplica(primary);
    const config = loadConfigSections(['runtime', 'database', 'signing', 'auth'], {
      NODE_ENV: 'test',
      DATABASE_URL: primary.url(DB),
      DATABASE_READ_URL: replica.url(DB),
      DATA_DIR: `${primary.dir}/service-data`,
    });
    @Module({
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot(
          dataSourceOptions({ url: config.database.url, poolSize: 6, appRole: config.database.appRole }),
        ),
        MetricsModule,
        LedgerModule,
      ],
    })
    class BenchModule {}
    const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
    const append = app.get(LedgerAppendService);
    const connect = async (url: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      clients.push(c);
      return c;
    };
    const [onPrimary, onReplica] = await Promise.all([connect(primary.url(DB)), connect(replica.url(DB))]);
    // Batches overlap their visibility checks: one connection each.
    const visibility = new pg.Pool({ connectionString: replica.url(DB), max: 8 });

    let seq = 0;
    const offsets = new Array<number>(SHARDS).fill(0);
    const phases: Phase[] = [];
    for (const rate of rates) {
      const phase: Phase = { rate, events: 0, seconds: 0, lagBytes: [], lagMs: [], visibleMs: [] };
      let running = true;
      const sampler = (async () => {
        while (running) {
          // The service's probe, unthrottled: the primary's WAL position first, then the replica's replay.
          const { rows: p } = await onPrimary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
          const { rows: r } = await onReplica.query<{ replay: string | null; at: Date | null; now: Date }>(
            'SELECT pg_last_wal_replay_lsn()::text AS replay, pg_last_xact_replay_timestamp() AS at, now() AS now',
          );
          const lag = replicaLag({
            primaryLsn: p[0].lsn,
            replayLsn: r[0].replay,
            replayedCommitAt: r[0].at,
            now: r[0].now,
          });
          phase.lagBytes.push(lag.bytes);
          if (lag.ms !== null) phase.lagMs.push(lag.ms);
          await sleep(100);
        }
      })();
      const started = Date.now();
      const pending: Array<Promise<void>> = [];
      while (Date.now() - started < seconds * 1000) {
        const shard = (seq / BATCH) % SHARDS;
        const items = Array.from({ length: BATCH }, (_, k) => ({
          kind: 'record' as const,
          offset: String(offsets[shard] + k),
          record: benchEvent(seq + k),
        }));
        const last = items[items.length - 1].record.event_id;
        seq += BATCH;
        await append.appendBatch({
          topic: 'routing.decisions',
          partition: shard,
          groupId: 'bench-replica-lag',
          items,
          nextOffset: String(offsets[shard] + BATCH),
        });
        offsets[shard] += BATCH;
        phase.events += BATCH;
        const committed = Date.now();
        pending.push(
          (async () => {
            for (;;) {
              const { rowCount } = await visibility.query('SELECT 1 FROM records WHERE event_id = $1', [last]);
              if (rowCount) break;
              await sleep(2);
            }
            phase.visibleMs.push(Date.now() - committed);
          })(),
        );
        // Paced: the next batch is due when the rate says so.
        if (rate > 0) await sleep(Math.max(0, started + (phase.events / rate) * 1000 - Date.now()));
      }
      phase.seconds = (Date.now() - started) / 1000;
      await Promise.all(pending);
      running = false;
      await sampler;
      phases.push(phase);
    }
    await app.close();
    await visibility.end();

    const q = (xs: number[], p: number) => (xs.length ? Math.round(quantile(xs, p)) : NaN);
    console.log('read-replica lag under ingest (batches of 100, 4 shards, private primary + streaming replica)');
    console.log(
      'rate (events/s) | achieved | visible on replica after commit p50 / p95 / max ms | lag bytes p50 / p95 / max | lag ms p50 / p95 / max',
    );
    for (const ph of phases) {
      const achieved = Math.round(ph.events / ph.seconds);
      const vis = [...ph.visibleMs].sort((a, b) => a - b);
      const by = [...ph.lagBytes].sort((a, b) => a - b);
      const ms = [...ph.lagMs].sort((a, b) => a - b);
      console.log(
        `${ph.rate || 'full speed'} | ${achieved} | ${q(vis, 0.5)} / ${q(vis, 0.95)} / ${vis[vis.length - 1]} | ` +
          `${q(by, 0.5)} / ${q(by, 0.95)} / ${by[by.length - 1]} | ${q(ms, 0.5)} / ${q(ms, 0.95)} / ${ms[ms.length - 1]}`,
      );
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await replica?.destroy();
    await primary.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
