// Runs the dev Kafka broker in the foreground for people:
//   node dist/tools/dev-kafka/cli.js --topic routing.decisions:4 [--brokers 3] [--topics a,b --partitions 2]
//   npx tsx tools/dev-kafka/cli.ts --topic routing.decisions:4
// Prints `BOOTSTRAP=host:port,...`, then passes lines typed on stdin to the broker as commands
// (README.md) and prints each answer. Ctrl-C or SIGTERM stops it; end of stdin does not.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startDevKafka, type DevKafkaOptions } from './dev-kafka.js';

const USAGE = 'usage: dev-kafka [--brokers N] [--topic NAME:PARTITIONS]... [--topics A,B,...] [--partitions N]';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`--${name} must be a positive integer, not '${value}'`);
  return Number(value);
}

function optionsFromArgs(argv: string[]): DevKafkaOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string' },
      topic: { type: 'string', multiple: true },
      topics: { type: 'string', multiple: true },
      partitions: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const partitions = positiveInt('partitions', values.partitions, 1);
  const topics: DevKafkaOptions['topics'] = [];
  for (const spec of values.topic ?? []) {
    const m = /^([^:]+):(\d+)$/.exec(spec);
    if (!m) throw new Error(`--topic '${spec}': expected NAME:PARTITIONS`);
    topics.push({ name: m[1], partitions: positiveInt('topic', m[2], 1) });
  }
  for (const list of values.topics ?? []) {
    for (const name of list.split(',').filter(Boolean)) topics.push({ name, partitions });
  }
  return { brokers: positiveInt('brokers', values.brokers, 1), topics, log: (line) => console.error(line) };
}

async function main(): Promise<void> {
  let opts: DevKafkaOptions;
  try {
    opts = optionsFromArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`dev-kafka: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const dk = await startDevKafka(opts);
  console.log(`BOOTSTRAP=${dk.brokers.join(',')}`);
  if (process.stdin.isTTY) {
    console.error('dev-kafka: running; type commands (e.g. "down 1", "up 1", "rtt 1 100"), Ctrl-C stops');
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    dk.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`dev-kafka: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // The broker should outlive us; if it dies, say so and go.
  setInterval(() => {
    try {
      process.kill(dk.pid, 0);
    } catch {
      if (stopping) return;
      console.error('dev-kafka: the broker process exited');
      process.exit(1);
    }
  }, 1_000);

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim() || stopping) return;
    dk.command(line.trim()).then(
      () => console.log('OK'),
      (err: Error) => console.log(err.message),
    );
  });
}

main().catch((err: Error) => {
  console.error(`dev-kafka: ${err.message}`);
  process.exit(1);
});
