/**
 * The real service (createApp + AppModule, the code `node dist/main.js` runs), started by the
 * benchmark through test/support/service-process.ts with an IPC channel so that the bench can:
 *  - learn the instant the ingest consumer joined its group, and the partitions it was
 *    assigned (rates exclude the 3 s join; several instances tell when their group settled);
 *  - start and stop a V8 CPU profile around exactly the measured window (node:inspector,
 *    the same sampler as `node --cpu-prof`);
 *  - read the child's own CPU time and peak RSS.
 * Nothing of the service is replaced: the only hook is a GROUP_JOIN listener added to the
 * consumer the service creates; SIGTERM closes it as it closes `node dist/main.js`.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { Consumer, ConsumerConfig } from 'kafkajs';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/app-config.js';
import { KafkaClientService } from '../src/ingest/kafka-client.service.js';

type Command = { cmd: 'profile-start' } | { cmd: 'profile-stop'; path: string } | { cmd: 'stats' };

const send = (m: object) => process.send?.(m);

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  const session = new Session();
  session.connect();
  let profiling = false;
  const startProfile = async () => {
    if (profiling) return;
    profiling = true;
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await session.post('Profiler.start');
  };
  // The consumer joins inside listen() (kafkajs run() resolves after the join), so the join is
  // reported, and the profile started, from the consumer's own event.
  const kafka = app.get(KafkaClientService).kafka;
  const makeConsumer = kafka.consumer.bind(kafka);
  kafka.consumer = (cfg: ConsumerConfig): Consumer => {
    const c = makeConsumer(cfg);
    c.on(c.events.GROUP_JOIN, (e) => {
      send({ type: 'joined', at: Date.now(), assignment: e.payload.memberAssignment });
      if (process.env.BENCH_PROFILE_ON_JOIN === '1') void startProfile();
    });
    return c;
  };
  await app.listen(config.http.port, '127.0.0.1');
  process.on('message', (m: Command) => {
    void (async () => {
      switch (m.cmd) {
        case 'profile-start':
          await startProfile();
          send({ type: 'profile-started' });
          break;
        case 'profile-stop': {
          const { profile } = await session.post('Profiler.stop');
          await writeFile(m.path, JSON.stringify(profile));
          send({ type: 'profile-stopped' });
          break;
        }
        case 'stats': {
          const u = process.cpuUsage();
          send({
            type: 'stats',
            cpuS: (u.user + u.system) / 1e6,
            maxRssMiB: process.resourceUsage().maxRSS / 1024,
            rssMiB: process.memoryUsage().rss / 1048576,
          });
          break;
        }
      }
    })().catch((e: Error) => send({ type: 'error', message: e.stack ?? e.message }));
  });
}

main().catch((e: Error) => {
  process.stderr.write(`service-child: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
