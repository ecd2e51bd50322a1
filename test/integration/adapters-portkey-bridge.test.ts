import { spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { jest } from '@jest/globals';
import { expectedRecords, fixture, KEY_FIELDS, mismatches, withoutIngestFields } from '../support/adapter-fixtures.js';
import {
  TOPIC,
  ledgerRecords,
  quarantineRows,
  readTopic,
  startLedgerRun,
  waitConsumed,
  type LedgerRun,
} from '../support/ledger-harness.js';
import { pollUntil } from '../support/poll-until.js';
import { redactForProduce } from '../../src/domain/privacy/redact.js';

jest.setTimeout(300_000);

/**
 * `bridge portkey` (dist/src/cli/bridge-portkey.js, `npm run build` first) against a local HTTP
 * server standing in for a Portkey gateway: `/log/stream` speaks server-sent events the way the
 * open-source gateway does (connected, heartbeat, log events whose data is the JSON entry), and
 * closes the first connection after two entries, as a restarting gateway would; `/export.jsonl`
 * serves a Logs Export file (JSONL rows, cost in cents) behind x-portkey-api-key, at a URL with a
 * signature in its query. The entries go through Kafka and the service into the ledger.
 */

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'bridge-portkey.js');
const API_KEY = 'pk-test-PLANTEDvirtualKEY';
const QUERY_SECRET = 'PLANTEDQUERYSECRET42';

/** The open-source gateway's log stream prints the upstream API keys the fixture shows masked. */
const UPSTREAM_KEY = 'sk-PLANTEDupstreamKEY0123456789';
const streamEntry = JSON.parse(
  fixture('portkey/logstream-fallback.json').bytes.toString().replaceAll('"[REDACTED]"', `"${UPSTREAM_KEY}"`),
);
/** Prompt and answer text in the entries: neither may reach the topic. */
const CONTENT_TEXT = ['Draft a reply', 'Here is a draft'];
/** What the gateway writes: JSON.stringify of the entry (compact), one SSE `log` event each. */
const otherCall = (hookSpanId: string, duration: number) => ({
  ...streamEntry,
  duration,
  requestOptions: streamEntry.requestOptions.map((o: object) => ({ ...o, hookSpanId })),
});
const STREAM_ENTRIES = [streamEntry, otherCall('span-restart-1', 1111), otherCall('span-restart-2', 2222)].map((e) =>
  JSON.stringify(e),
);
const EXPORT_LINES = [fixture('portkey/export-row.json'), fixture('portkey/capture-fallback.json')].map((f) =>
  JSON.stringify(JSON.parse(f.bytes.toString())),
);
const STDIN_LINES = [fixture('portkey/capture-retry-exhausted.json'), fixture('portkey/capture-cache-hit.json')].map(
  (f) => JSON.stringify(JSON.parse(f.bytes.toString())),
);

interface Cli {
  exit: Promise<number | null>;
  stderr: () => string;
  kill: (signal: NodeJS.Signals) => void;
}

function runCli(args: string[], env: Record<string, string>, stdin?: string): Cli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout.on('data', (b: Buffer) => (err += b.toString()));
  if (stdin !== undefined) child.stdin.end(stdin);
  else child.stdin.end();
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exit, stderr: () => err, kill: (s) => child.kill(s) };
}

let run: LedgerRun;
let server: Server;
let base: string;
let connections = 0;
let exportAuth: string | undefined;
const openStreams = new Set<ServerResponse>();

function sse(res: ServerResponse, event: string, data: string, id?: string): void {
  res.write(`event: ${event}\ndata: ${data}\n${id !== undefined ? `id: ${id}\n` : ''}\n`);
}

beforeAll(async () => {
  // Strict tenancy (DEFAULT_TENANT empty): the entry without a tenant is quarantined, as the bridge warned.
  run = await startLedgerRun({ env: { DEFAULT_TENANT: '' } });
  server = createServer((req, res) => {
    if (req.url === '/log/stream') {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      sse(res, 'connected', String(Date.now()));
      sse(res, 'heartbeat', 'pulse');
      if (connections === 1) {
        sse(res, 'log', STREAM_ENTRIES[0], '0');
        // A chunk boundary inside an event, CRLF line ends: the parser must not care.
        const second = `event: log\r\ndata: ${STREAM_ENTRIES[1]}\r\nid: 1\r\n\r\n`;
        res.write(second.slice(0, 40));
        setTimeout(() => res.end(second.slice(40)), 50);
      } else {
        sse(res, 'log', STREAM_ENTRIES[2], '0');
        openStreams.add(res);
        req.on('close', () => openStreams.delete(res));
      }
      return;
    }
    if (req.url?.startsWith('/export.jsonl')) {
      exportAuth = req.headers['x-portkey-api-key'] as string | undefined;
      if (exportAuth !== API_KEY) {
        res.writeHead(401).end('{"error":"unauthorized"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      res.end(`${EXPORT_LINES.join('\n')}\nthis line is not JSON\n`);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of openStreams) s.end();
  await new Promise((resolve) => server?.close(resolve));
  await run?.stop();
});

describe('bridge portkey: a Portkey gateway log stream and Logs Export into the ledger', () => {
  it('follows /log/stream across a gateway restart, then stops cleanly on SIGTERM', async () => {
    const cli = runCli(['--stream', `${base}/log/stream`, '--tenant', 'acme', '--gateway-id', 'portkey-oss-1'], {
      KAFKA_BROKERS: run.kafka.brokers.join(','),
    });
    await pollUntil(async () => (await readTopic(run.kafka.brokers, TOPIC)).length >= 3, {
      timeoutMs: 60_000,
      what: () => `3 stream entries on the topic\n${cli.stderr()}`,
    });
    cli.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
    expect(connections).toBe(2);
    expect(cli.stderr()).toContain('reconnected');
    expect(cli.stderr()).toContain('3 entries read, 3 produced (0 of them will be quarantined)');
  });

  it('reads a Logs Export file from a signed URL (x-portkey-api-key from PORTKEY_API_KEY) and exits', async () => {
    const cli = runCli(['--ndjson', `${base}/export.jsonl?sig=${QUERY_SECRET}`, '--gateway-id', 'portkey-cloud'], {
      KAFKA_BROKERS: run.kafka.brokers.join(','),
      PORTKEY_API_KEY: API_KEY,
    });
    expect(await cli.exit).toBe(0);
    expect(exportAuth).toBe(API_KEY);
    expect(cli.stderr()).toContain('line 3: not JSON, not a Portkey entry; skipped');
    expect(cli.stderr()).toContain('3 entries read, 2 produced');
    expect(cli.stderr()).not.toContain(QUERY_SECRET);
    expect(cli.stderr()).not.toContain(API_KEY);
  });

  it('reads NDJSON from stdin; says which entries name no tenant', async () => {
    const noTenant = JSON.stringify(otherCall('span-no-tenant', 3333));
    const cli = runCli(
      ['--ndjson', '-', '--gateway-id', 'portkey-stdin'],
      { KAFKA_BROKERS: run.kafka.brokers.join(',') },
      `${STDIN_LINES.join('\n')}\n${noTenant}\n`,
    );
    expect(await cli.exit).toBe(0);
    expect(cli.stderr()).toContain('line 3: no tenant in this entry; pass --tenant');
  });

  it('refuses bad usage with exit code 2', async () => {
    const cli = runCli(['--stream', 'ftp://x'], { KAFKA_BROKERS: run.kafka.brokers.join(',') });
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toContain('usage: bridge-portkey');
    expect(await runCli(['--ndjson', '-'], { KAFKA_BROKERS: '' }, '').exit).toBe(2);
  });

  it('the ledger holds every entry as the Portkey adapter reads it', async () => {
    const messages = await readTopic(run.kafka.brokers, TOPIC);
    expect(messages).toHaveLength(3 + 2 + 3);
    expect(messages.every((m) => m.headers['x-routing-format'] === 'portkey' && m.value !== null)).toBe(true);
    expect(STREAM_ENTRIES[0]).toContain(UPSTREAM_KEY);
    const onTopic = messages.map((m) => m.value!.toString()).join('\n');
    expect([UPSTREAM_KEY, ...CONTENT_TEXT].filter((s) => onTopic.includes(s))).toEqual([]);
    await waitConsumed(run);

    const streamHeaders = {
      'x-routing-format': 'portkey',
      'x-routing-tenant': 'acme',
      'x-routing-gateway-id': 'portkey-oss-1',
    };
    const want: Array<{
      name: string;
      payload: string;
      headers: Record<string, string>;
      key?: Record<string, unknown>;
    }> = [
      ...STREAM_ENTRIES.map((p, i) => ({
        name: `stream entry ${i}`,
        payload: p,
        headers: streamHeaders,
        key: KEY_FIELDS['portkey/logstream-fallback.json'][0],
      })),
      {
        name: 'export row',
        payload: EXPORT_LINES[0],
        headers: { 'x-routing-format': 'portkey', 'x-routing-gateway-id': 'portkey-cloud' },
        key: KEY_FIELDS['portkey/export-row.json'][0],
      },
      {
        name: 'export capture',
        payload: EXPORT_LINES[1],
        headers: { 'x-routing-format': 'portkey', 'x-routing-gateway-id': 'portkey-cloud' },
        key: KEY_FIELDS['portkey/capture-fallback.json'][0],
      },
      ...STDIN_LINES.map((p, i) => ({
        name: `stdin ${i}`,
        payload: p,
        headers: { 'x-routing-format': 'portkey', 'x-routing-gateway-id': 'portkey-stdin' },
      })),
    ];
    const stored = new Map((await ledgerRecords(run.db)).map((r) => [r.event_id, r]));
    expect(stored.size).toBe(want.length);
    for (const w of want) {
      const [r] = expectedRecords(redactForProduce(Buffer.from(w.payload)), w.headers);
      const got = stored.get(r.event_id);
      expect({
        name: w.name,
        same: got !== undefined && isDeepStrictEqual(withoutIngestFields(got), withoutIngestFields(r)),
      }).toEqual({ name: w.name, same: true });
      expect(mismatches(got, w.key ?? {})).toEqual([]);
    }
    expect(
      stored.get(expectedRecords(redactForProduce(Buffer.from(EXPORT_LINES[0])), want[3].headers)[0].event_id)?.cost,
    ).toEqual({
      amount: '0.000216',
      currency: 'USD',
      source: 'gateway',
    });
    expect((await quarantineRows(run.db)).map((q) => q.reason_code)).toEqual(['NO_TENANT']);
  });
});
