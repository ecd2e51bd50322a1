import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import {
  TOPIC,
  adminToken,
  dumpDatabaseText,
  readTopic,
  startLedgerRun,
  waitConsumed,
  type LedgerRun,
} from '../support/ledger-harness.js';
import { pollUntil } from '../support/poll-until.js';

jest.setTimeout(300_000);

/**
 * The open-source Portkey gateway (npm @portkey-ai/gateway, run from node_modules) in front of
 * local fake OpenAI-compatible upstreams — one answering 503, one 429, one serving — with
 * fallback and loadbalance configs; its decisions reach the ledger through `bridge portkey
 * --stream` (dist/src/cli/bridge-portkey.js, `npm run build` first). Each request is recorded
 * once, fallbacks show the failed attempt, requested/resolved/reported models are right, weighted
 * routing is neither a fallback nor an alias change, an all-fail request is answered by no one,
 * and the upstream API keys and prompts reach neither the topic nor the database.
 */

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'bridge-portkey.js');
const GATEWAY = join(process.cwd(), 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
const KEYS = ['sk-PLANTEDprimaryKEY00000000', 'sk-PLANTEDbackupKEY000000000', 'sk-PLANTEDthirdKEY0000000000'];
const PROMPT = 'PLANTED-PORTKEY-PROMPT';
const ANSWER = 'PLANTED-PORTKEY-ANSWER';

/** A fake OpenAI-compatible upstream: always `status`; a 200 reports the requested model's dated snapshot. */
function upstream(status: number): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const model = (JSON.parse(body || '{}') as { model?: string }).model ?? 'unknown';
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 200
            ? {
                id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
                object: 'chat.completion',
                model: `${model}-2024-08-06`,
                choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
              }
            : { error: { message: status === 429 ? 'rate limited' : 'overloaded', type: `upstream_${status}` } },
        ),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = portOf(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function target(server: Server, model: string, key: string, extra: object = {}) {
  return {
    provider: 'openai',
    api_key: key,
    custom_host: `http://127.0.0.1:${portOf(server)}/v1`,
    override_params: { model },
    ...extra,
  };
}

describe('the Portkey gateway end to end through bridge portkey --stream', () => {
  let run: LedgerRun;
  let failing: Server;
  let limited: Server;
  let serving: Server;
  let gateway: ChildProcess;
  let gatewayUrl: string;
  let bridge: ChildProcess;
  let bridgeLog = '';

  beforeAll(async () => {
    run = await startLedgerRun();
    [failing, limited, serving] = await Promise.all([upstream(503), upstream(429), upstream(200)]);
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    // Development mode (no --headless, NODE_ENV not production) is what serves /log/stream.
    gateway = spawn(process.execPath, [GATEWAY, `--port=${port}`], {
      env: { ...process.env, NODE_ENV: 'development' },
      stdio: 'ignore',
    });
    await pollUntil(
      async () => {
        const res = await fetch(`${gatewayUrl}/log/stream`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        await res?.body?.cancel();
        return res?.ok === true;
      },
      { timeoutMs: 60_000, what: 'the Portkey gateway to serve /log/stream' },
    );
    bridge = spawn(
      process.execPath,
      [CLI, '--stream', `${gatewayUrl}/log/stream`, '--tenant', 'acme', '--gateway-id', 'portkey-oss'],
      { env: { ...process.env, KAFKA_BROKERS: run.kafka.brokers.join(',') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    bridge.stderr!.on('data', (b: Buffer) => (bridgeLog += b.toString()));
    await pollUntil(async () => bridgeLog.includes('following'), {
      timeoutMs: 30_000,
      what: () => `the bridge to follow the stream\n${bridgeLog}`,
    });
  });

  afterAll(async () => {
    bridge?.kill('SIGTERM');
    gateway?.kill('SIGTERM');
    for (const s of [failing, limited, serving]) await new Promise((resolve) => s?.close(resolve));
    await run?.stop();
  });

  it('records every request once, with its attempts, strategy and models, and no key or prompt anywhere', async () => {
    const fallback = {
      strategy: { mode: 'fallback', on_status_codes: [503, 429] },
      targets: [target(failing, 'model-a', KEYS[0]), target(serving, 'model-b', KEYS[1])],
    };
    const loadbalance = {
      strategy: { mode: 'loadbalance' },
      targets: [
        target(serving, 'model-b', KEYS[1], { weight: 0.7 }),
        target(serving, 'model-c', KEYS[2], { weight: 0.3 }),
      ],
    };
    const allFail = {
      strategy: { mode: 'fallback', on_status_codes: [503, 429] },
      targets: [target(failing, 'model-a', KEYS[0]), target(limited, 'model-d', KEYS[2])],
    };
    const plan = [
      ...Array.from({ length: 4 }, () => fallback),
      ...Array.from({ length: 6 }, () => loadbalance),
      ...Array.from({ length: 2 }, () => allFail),
    ];
    const statuses: number[] = [];
    for (const config of plan) {
      const res = await fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-portkey-config': JSON.stringify(config) },
        body: JSON.stringify({ model: 'gpt-smart', messages: [{ role: 'user', content: PROMPT }] }),
      });
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);

    await pollUntil(async () => (await readTopic(run.kafka.brokers, TOPIC)).length >= plan.length, {
      timeoutMs: 60_000,
      what: () => `${plan.length} entries on the topic\n${bridgeLog}`,
    });
    await waitConsumed(run);
    const records = (
      await run.db.query<{ record: string; signals: string[] }>(
        'SELECT record, signals FROM records ORDER BY occurred_at',
      )
    ).map((r) => ({ ...(JSON.parse(r.record) as CanonicalRecord), signals: r.signals }));
    expect(records).toHaveLength(plan.length);
    expect(new Set(records.map((r) => r.request_id)).size).toBe(plan.length);

    const fallbacks = records.filter((r) => r.fallback_used === true && r.outcome.status === 'success');
    expect(fallbacks).toHaveLength(4);
    for (const r of fallbacks) {
      expect(r).toMatchObject({
        tenant_id: 'acme',
        requested_model: 'gpt-smart',
        resolved_model: { value: 'model-b' },
        reported_model: { value: 'model-b-2024-08-06' },
        routing: { strategy: 'fallback' },
        usage: { input_tokens: 12, output_tokens: 4 },
      });
      expect(r.attempts?.items?.map((a) => [a.model, a.status, a.error_class, a.host])).toEqual([
        ['model-a', 'error', 'upstream_503', `127.0.0.1:${portOf(failing)}`],
        ['model-b', 'success', undefined, `127.0.0.1:${portOf(serving)}`],
      ]);
      expect(r.signals).toContain('silent_substitution');
    }

    const weighted = records.filter((r) => r.routing?.strategy === 'loadbalance');
    expect(weighted).toHaveLength(6);
    for (const r of weighted) {
      expect(r.fallback_used).toBe(false);
      expect(['model-b', 'model-c']).toContain(r.resolved_model?.value);
      expect(r.signals).not.toContain('silent_substitution');
    }

    const failed = records.filter((r) => r.outcome.status === 'error');
    expect(failed).toHaveLength(2);
    for (const r of failed) {
      expect(r.outcome.http_status).toBe(429);
      expect(r.attempts?.items?.at(-1)).toMatchObject({ model: 'model-d', status: 'error' });
      expect(r.attempts?.items?.at(-1)?.error_class).toBeDefined();
      expect(r.reported_model).toBeUndefined();
      expect(r.signals).not.toContain('silent_substitution');
    }

    // Weighted routing between model-b and model-c is not an alias change. The gateway picks by
    // weight at random: when every model-c answer happened to come before every model-b one (or
    // the other way round), the rule sees a repoint of a load-balanced alias, and says so.
    const seen = new Map<string, { first: number; last: number }>();
    for (const r of weighted) {
      const at = Date.parse(r.occurred_at);
      const m = seen.get(r.resolved_model!.value)!;
      seen.set(
        r.resolved_model!.value,
        m ? { first: Math.min(m.first, at), last: Math.max(m.last, at) } : { first: at, last: at },
      );
    }
    const [earlier, later] = [...seen.values()].sort((a, b) => a.first - b.first);
    const looksLikeRepoint = later !== undefined && earlier.last <= later.first;
    const findings = await fetch(`${run.baseUrl}/v1/findings?type=alias_change`, {
      headers: { authorization: `Bearer ${await adminToken(run)}` },
    });
    expect(findings.status).toBe(200);
    const body = (await findings.json()) as { findings: Array<{ type: string }> };
    expect(body.findings.filter((f) => f.type === 'alias_change')).toHaveLength(looksLikeRepoint ? 1 : 0);

    // The gateway's log stream printed the keys and the prompt; none reached Kafka or PostgreSQL.
    const planted = [...KEYS, PROMPT, ANSWER, 'PLANTED'];
    const onTopic = (await readTopic(run.kafka.brokers, TOPIC)).map((m) => m.value?.toString() ?? '').join('\n');
    expect(planted.filter((p) => onTopic.includes(p))).toEqual([]);
    const stored = await dumpDatabaseText(run.db);
    expect(planted.filter((p) => stored.includes(p))).toEqual([]);
    expect(planted.filter((p) => bridgeLog.includes(p))).toEqual([]);
  });
});
