import { parseArgs } from 'node:util';
import { redactText } from '../domain/privacy/redact.js';
import { KafkaEventSink } from '../ingest/bridges/kafka-event-sink.js';
import {
  BatchingSender,
  fetchBody,
  followLogStream,
  loggableUrl,
  newStats,
  readNdjson,
  type BridgeOptions,
  type BridgeStats,
} from '../ingest/bridges/portkey-bridge.js';
import { UsageError } from './usage-error.js';

/**
 * `bridge portkey`: Portkey gateway logs → the decisions topic, for Portkey deployments that
 * cannot produce to Kafka themselves. See src/ingest/bridges/portkey-bridge.ts for the formats.
 *
 *   bridge-portkey --stream http://portkey-gateway:8787/log/stream --tenant acme --gateway-id portkey-eu-1
 *   bridge-portkey --ndjson "$SIGNED_EXPORT_URL" --gateway-id portkey-cloud
 *   bridge-portkey --ndjson - --tenant acme < entries.jsonl
 *
 * Environment: KAFKA_BROKERS (required, host:port[,host:port]), TOPIC_DECISIONS (default
 * routing.decisions), KAFKA_CLIENT_ID (default routing-ledger-bridge-portkey), PORTKEY_API_KEY
 * (sent as x-portkey-api-key to Portkey when set; never logged).
 *
 * --stream runs until SIGTERM/SIGINT, then produces what it holds and exits 0. --ndjson exits 0
 * once every line is produced. Exit 1 when Kafka or the source fails for good, 2 on a usage error.
 * Logs go to stderr, one line each; entries, keys and signed-URL queries are never printed.
 */

const USAGE = `usage: bridge-portkey (--stream <url> | --ndjson <url|->) [--tenant <id>] [--gateway-id <id>] [--topic <name>]
  --stream <url>      follow a Portkey gateway's log stream (GET /log/stream, server-sent events)
  --ndjson <url|->    read NDJSON entries (a Logs Export file, saved stream entries) from a URL or stdin, then exit
  --tenant <id>       x-routing-tenant for entries without one (log-stream entries never carry one)
  --gateway-id <id>   x-routing-gateway-id: the registered gateway these entries come from
  --topic <name>      topic to produce to (default: $TOPIC_DECISIONS or routing.decisions)
env: KAFKA_BROKERS (required), TOPIC_DECISIONS, KAFKA_CLIENT_ID, PORTKEY_API_KEY`;

/** How long a stopping bridge keeps trying to produce what it still holds. */
const DRAIN_DEADLINE_MS = 15_000;
const BROKERS = /^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/;
const ID = /^[\x21-\x7e]{1,256}$/;

interface Args {
  stream?: string;
  ndjson?: string;
  tenant?: string;
  gatewayId?: string;
  topic: string;
  brokers: string[];
  clientId: string;
  apiKey?: string;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Args {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stream: { type: 'string' },
        ndjson: { type: 'string' },
        tenant: { type: 'string' },
        'gateway-id': { type: 'string' },
        topic: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) throw new UsageError('');
  const stream = values.stream as string | undefined;
  const ndjson = values.ndjson as string | undefined;
  if ((stream === undefined) === (ndjson === undefined))
    throw new UsageError('give exactly one of --stream and --ndjson');
  for (const [name, url] of [
    ['--stream', stream],
    ['--ndjson', ndjson === '-' ? undefined : ndjson],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/\S+$/.test(url))
      throw new UsageError(`${name} must be an http(s) URL${name === '--ndjson' ? ' or -' : ''}`);
  }
  for (const [name, v] of [
    ['--tenant', values.tenant],
    ['--gateway-id', values['gateway-id']],
  ] as const) {
    if (v !== undefined && !ID.test(String(v)))
      throw new UsageError(`${name} must be 1 to 256 printable characters without spaces`);
  }
  const brokers = env.KAFKA_BROKERS ?? '';
  if (!BROKERS.test(brokers))
    throw new UsageError(`KAFKA_BROKERS ${brokers ? 'must be comma-separated host:port pairs' : 'is required'}`);
  const topic = (values.topic as string | undefined) ?? env.TOPIC_DECISIONS ?? 'routing.decisions';
  if (!/^[\w.-]{1,249}$/.test(topic)) throw new UsageError('--topic must be a Kafka topic name');
  return {
    stream,
    ndjson,
    tenant: values.tenant as string | undefined,
    gatewayId: values['gateway-id'] as string | undefined,
    topic,
    brokers: brokers.split(','),
    clientId: env.KAFKA_CLIENT_ID || 'routing-ledger-bridge-portkey',
    apiKey: env.PORTKEY_API_KEY || undefined,
  };
}

const log = (line: string) => process.stderr.write(`bridge-portkey: ${redactText(line)}\n`);

function summary(s: BridgeStats): string {
  return `${s.received} entries read, ${s.produced} produced (${s.undecodable} of them will be quarantined), ${s.skipped} skipped as not JSON, ${s.dropped} dropped`;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parse(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) process.stderr.write(`bridge-portkey: ${e.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const opts: BridgeOptions = {
    tenant: args.tenant,
    gatewayId: args.gatewayId,
    requestHeaders: args.apiKey ? { 'x-portkey-api-key': args.apiKey } : {},
    log,
  };
  const sink = new KafkaEventSink({ brokers: args.brokers, clientId: args.clientId, topic: args.topic, log });
  await sink.connect();
  const stats = newStats();
  const sender = new BatchingSender(sink, stats, log);
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    log(`${sig}: stopping`);
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let failed = false;
  try {
    if (args.stream) {
      await followLogStream(args.stream, opts, sender, stats, stop.signal);
    } else {
      const source =
        args.ndjson === '-' ? process.stdin : await fetchBody(args.ndjson!, opts.requestHeaders, stop.signal);
      log(`reading ${args.ndjson === '-' ? 'stdin' : loggableUrl(args.ndjson!)}`);
      await readNdjson(source, opts, sender, stats);
    }
  } catch (e) {
    if (!stop.signal.aborted) {
      failed = true;
      log(`source failed: ${(e as Error).message}`);
    }
  } finally {
    await sender.drain(DRAIN_DEADLINE_MS);
    await sink.disconnect().catch(() => undefined);
  }
  log(summary(stats));
  return failed || stats.dropped > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    log(`failed: ${e.message}`);
    process.exit(1);
  },
);
