import { jest } from '@jest/globals';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { FILE } from '../../src/domain/bundle/bundle-format.js';
import { verifyBundle } from '../../src/domain/bundle/verify-bundle.js';
import { ExportModule } from '../../src/export/export.module.js';
import { get, linesOf, readBundleFiles } from '../support/bundle-files.js';
import { runMigrations } from '../../src/database/migrate.js';
import type { Jwks } from '../../src/domain/checkpoint/signing-key.js';
import { verifyConsistency } from '../../src/domain/merkle/verifier.js';
import { verifyReceipt, type Receipt } from '../../src/domain/receipt/receipt.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { startPgCluster, startStreamingReplica, type PgCluster, type PgReplica } from '../support/pg-cluster.js';
import { pollUntil } from '../support/poll-until.js';
import { appendRecords, startQueryApp, type QueryApp } from '../support/query-app.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(240_000);

const DB = 'rl_read_replica';
/** validEvent times: 2026-11-25T10:00:00Z + 37 ms per event. */
const WINDOW = { from: '2026-11-25T09:00:00.000Z', to: '2026-11-25T11:00:00.000Z' };
/** The shard the lag scenario appends to (appendRecords seeds partitions 0–2). */
const LAG_SHARD = 7;

/**
 * DATABASE_READ_URL on a real streaming replica: a private primary cluster and a hot standby made
 * with pg_basebackup, the real query and ledger modules on both. Replay is paused on the standby to
 * hold it behind deterministically.
 */
describe('read replica (DATABASE_READ_URL)', () => {
  let primary: PgCluster;
  let replica: PgReplica;
  /** Reads from the replica. */
  let r: QueryApp;
  /** Reads from the primary only (no DATABASE_READ_URL): the reference answers. */
  let p: QueryApp;
  let admin: string;
  let jwks: Jwks;

  const lagItems = (from: number, n: number): DecodedItem[] =>
    Array.from({ length: n }, (_, k) => ({
      kind: 'record' as const,
      offset: String(from + k),
      record: validEvent(10_000 + from + k),
    }));
  const appendToLagShard = (from: number, n: number) =>
    r.append.appendBatch({
      topic: 'routing.decisions',
      partition: LAG_SHARD,
      groupId: 'replica-test',
      items: lagItems(from, n),
      nextOffset: String(from + n),
    });

  const body = async (res: Response): Promise<any> => {
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${res.url}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const lagOf = (res: Response) => ({
    source: res.headers.get('x-read-source'),
    bytes: res.headers.get('x-replica-lag-bytes'),
    ms: res.headers.get('x-replica-lag-ms'),
  });
  /** The answers compared between the two apps. */
  const paths = () => [
    '/v1/decisions?limit=500',
    `/v1/decisions?limit=500&tenant=acme&from=${WINDOW.from}&to=${WINDOW.to}`,
    `/v1/requests/${validEvent(10_000).request_id}`,
    `/v1/findings?from=${WINDOW.from}&to=${WINDOW.to}`,
    '/v1/ledger/checkpoints',
  ];
  const sameAnswers = async (): Promise<boolean> => {
    for (const path of paths()) {
      const [a, b] = await Promise.all([r.get(path, admin), p.get(path, admin)]);
      if (a.status !== b.status || (await a.text()) !== (await b.text())) return false;
    }
    return true;
  };

  beforeAll(async () => {
    primary = await startPgCluster();
    await primary.query('postgres', `CREATE DATABASE ${DB}`);
    await runMigrations(primary.url(DB));
    replica = await startStreamingReplica(primary);
    const dataDir = `${primary.dir}/service-data`;
    r = await startQueryApp({
      databaseUrl: primary.url(DB),
      dataDir,
      env: { DATABASE_READ_URL: replica.url(DB) },
      imports: [ExportModule],
    });
    p = await startQueryApp({ databaseUrl: primary.url(DB), dataDir });
    admin = await r.token('admin', ['*']);
    await appendRecords(
      r.append,
      Array.from({ length: 300 }, (_, i) => validEvent(i)),
    );
    await appendToLagShard(0, 10);
    jwks = await body(await p.get('/.well-known/jwks.json'));
  });

  afterAll(async () => {
    await r?.close();
    await p?.close();
    await replica?.destroy();
    await primary?.destroy();
  });

  it('answers queries from the replica with the primary’s answers once it caught up, and says its lag', async () => {
    await pollUntil(sameAnswers, { timeoutMs: 60_000, what: 'the replica-backed answers to equal the primary’s' });
    const res = await r.get('/v1/decisions?limit=5', admin);
    expect(res.status).toBe(200);
    const lag = lagOf(res);
    expect(lag.source).toBe('replica');
    expect(lag.bytes).toMatch(/^\d+$/);
    expect(lag.ms).toMatch(/^\d+$/);
    // Without DATABASE_READ_URL the primary answers, behind by nothing.
    expect(lagOf(await p.get('/v1/decisions?limit=5', admin))).toEqual({ source: 'primary', bytes: '0', ms: '0' });
    // The replica's sessions really serve the reads.
    const sessions = await replica.query<{ n: string }>(
      'postgres',
      `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'routing-ledger-read' AND datname = '${DB}'`,
    );
    expect(Number(sessions[0].n)).toBeGreaterThan(0);
  });

  it('while replay is paused: queries lag and say so; a receipt and a proof the replica cannot give come from the primary', async () => {
    await replica.pauseReplay();
    try {
      const late = validEvent(10_010);
      await appendToLagShard(10, 1);

      // The primary has the record, the replica not: the replica-backed query does not see it.
      const onPrimary = await body(await p.get(`/v1/decisions/${late.event_id}`, admin));
      expect(onPrimary.event_id ?? onPrimary.record?.event_id).toBe(late.event_id);
      expect((await r.get(`/v1/decisions/${late.event_id}`, admin)).status).toBe(404);
      // ... and reports a lag in WAL bytes once its cached probe is renewed.
      await pollUntil(async () => Number(lagOf(await r.get('/v1/decisions?limit=1', admin)).bytes) > 0, {
        timeoutMs: 30_000,
        what: 'a lag in bytes on a replica-backed answer',
      });
      const behind = lagOf(await r.get('/v1/decisions?limit=1', admin));
      expect(behind.source).toBe('replica');
      expect(behind.ms).toMatch(/^\d+$/);
      // The same probe behind the Prometheus gauges; the primary-only instance has no replica to be behind.
      const gauge = async (app: QueryApp) =>
        Number(/^routing_ledger_replica_lag_bytes (\S+)$/m.exec(await (await app.get('/metrics')).text())?.[1]);
      expect(await gauge(r)).toBeGreaterThan(0);
      expect(await gauge(p)).toBe(0);

      // The receipt of the late record: only the primary has its checkpoint.
      const lateRes = await r.get(`/v1/records/${late.event_id}/receipt`, admin);
      const lateReceipt: Receipt = await body(lateRes);
      expect(lateRes.headers.get('x-read-source')).toBe('primary');
      expect((await verifyReceipt(lateReceipt, jwks)).checkpoint.tree_size).toBe(11);
      // An earlier record of the same shard: its checkpoint is on the replica, which answers.
      const earlyRes = await r.get(`/v1/records/${validEvent(10_003).event_id}/receipt`, admin);
      const earlyReceipt: Receipt = await body(earlyRes);
      expect(earlyRes.headers.get('x-read-source')).toBe('replica');
      expect((await verifyReceipt(earlyReceipt, jwks)).checkpoint.tree_size).toBe(10);

      // Consistency to the size only the primary has: from the primary; within the replica's tree: from it.
      const toNew = await r.get(`/v1/ledger/proofs/consistency?shard=${LAG_SHARD}&from=10&to=11`, admin);
      const proofNew = await body(toNew);
      expect(toNew.headers.get('x-read-source')).toBe('primary');
      expect(proofNew.to_checkpoint).toEqual(expect.any(String));
      verifyConsistency(
        10,
        11,
        proofNew.proof.map((h: string) => Buffer.from(h, 'hex')),
        Buffer.from(await rootOf(earlyReceipt, jwks), 'hex'),
        Buffer.from(await rootOf(lateReceipt, jwks), 'hex'),
      );
      const toOld = await r.get(`/v1/ledger/proofs/consistency?shard=${LAG_SHARD}&from=5&to=10`, admin);
      await body(toOld);
      expect(toOld.headers.get('x-read-source')).toBe('replica');

      // An export reads the replica: a complete, verifiable bundle of what the replica holds, anchored
      // on its checkpoints, so without the late record (same tenant, in range).
      const bundle = await exportBundle(
        r,
        admin,
        { tenant: late.tenant_id, ...WINDOW },
        `${primary.dir}/replica.tar.gz`,
      );
      const verdict = await verifyBundle(() => createReadStream(bundle), { trustedJwks: jwks });
      expect(verdict.problem).toBeUndefined();
      expect(verdict.ok).toBe(true);
      const exported = linesOf(get(await readBundleFiles(bundle), FILE.records)).map(
        (l) => (JSON.parse(l) as { record: { event_id: string } }).record.event_id,
      );
      expect(exported).toContain(validEvent(10_005).event_id);
      expect(exported).not.toContain(late.event_id);
      expect(verdict.shards.find((s) => s.shard === LAG_SHARD)).toMatchObject({ tree_size: 10 });
    } finally {
      await replica.resumeReplay();
    }

    // Replay resumed: the replica catches up and answers as the primary does, the late record included.
    await pollUntil(sameAnswers, { timeoutMs: 60_000, what: 'the replica to catch up' });
    await pollUntil(async () => lagOf(await r.get('/v1/decisions?limit=1', admin)).bytes === '0', {
      timeoutMs: 30_000,
      what: 'the reported lag to return to 0',
    });
    const res = await r.get(`/v1/records/${validEvent(10_010).event_id}/receipt`, admin);
    await body(res);
    expect(res.headers.get('x-read-source')).toBe('replica');
  });

  it('answers from the primary while the replica is down, says so, and goes back to the replica once it is up', async () => {
    await pollUntil(sameAnswers, { timeoutMs: 60_000, what: 'the replica to have caught up' });
    const metric = async (app: QueryApp, name: string) =>
      Number(
        new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await (await app.get('/metrics')).text())?.[1] ?? 0,
      );
    const fallbacksBefore = await metric(r, 'routing_ledger_read_fallbacks_total');
    const fallbackOf = (res: Response) => ({ ...lagOf(res), fallback: res.headers.get('x-read-fallback') });
    const fromPrimary = { source: 'primary', bytes: '0', ms: '0', fallback: 'replica-unavailable' };
    const receiptPath = `/v1/records/${validEvent(5).event_id}/receipt`;

    // A crash: no shutdown checkpoint, every connection dropped at once.
    await replica.stop('immediate');
    let started: QueryApp | undefined;
    try {
      // The very next reads (the replica's pooled connections are dead) answer, from the primary.
      for (const path of paths()) {
        const [a, b] = await Promise.all([r.get(path, admin), p.get(path, admin)]);
        expect({ path, status: a.status, ...fallbackOf(a) }).toEqual({ path, status: 200, ...fromPrimary });
        expect(await a.text()).toBe(await b.text());
      }
      const receipt = await r.get(receiptPath, admin);
      expect(fallbackOf(receipt)).toEqual(fromPrimary);
      expect((await verifyReceipt(await body(receipt), jwks)).checkpoint.tree_size).toBeGreaterThan(0);
      expect(await metric(r, 'routing_ledger_read_fallbacks_total')).toBeGreaterThanOrEqual(
        fallbacksBefore + paths().length + 1,
      );
      expect(await metric(r, 'routing_ledger_read_replica_available')).toBe(0);
      // The lag gauges cannot be read from a replica that is down.
      expect(await metric(r, 'routing_ledger_replica_lag_bytes')).toBeNaN();

      // An instance started while the replica is down starts, and reads from the primary.
      started = await startQueryApp({
        databaseUrl: primary.url(DB),
        dataDir: `${primary.dir}/service-data`,
        env: { DATABASE_READ_URL: replica.url(DB) },
      });
      const early = await started.get('/v1/decisions?limit=5', admin);
      expect({ status: early.status, ...fallbackOf(early) }).toEqual({ status: 200, ...fromPrimary });
    } finally {
      await replica.start();
    }

    // Back up: within the breaker's retry interval both instances read from the replica again.
    for (const app of [r, started!]) {
      await pollUntil(async () => fallbackOf(await app.get('/v1/decisions?limit=5', admin)).source === 'replica', {
        timeoutMs: 30_000,
        what: 'reads to go back to the replica',
      });
      const back = await app.get('/v1/decisions?limit=5', admin);
      expect(back.status).toBe(200);
      expect(fallbackOf(back)).toEqual({
        source: 'replica',
        bytes: expect.stringMatching(/^\d+$/),
        ms: expect.stringMatching(/^\d+$/),
        fallback: null,
      });
      expect(await metric(app, 'routing_ledger_read_replica_available')).toBe(1);
    }
    await started!.close();
    await pollUntil(sameAnswers, {
      timeoutMs: 60_000,
      what: 'the replica-backed answers to equal the primary’s again',
    });
    const receipt = await r.get(receiptPath, admin);
    await body(receipt);
    expect(fallbackOf(receipt).source).toBe('replica');
    const sessions = await replica.query<{ n: string }>(
      'postgres',
      `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'routing-ledger-read' AND datname = '${DB}'`,
    );
    expect(Number(sessions[0].n)).toBeGreaterThan(0);
  });
});

/** POST /v1/exports, wait until done, download the bundle to `out`. */
async function exportBundle(app: QueryApp, token: string, query: unknown, out: string): Promise<string> {
  const created = await app.post('/v1/exports', query, token);
  if (created.status !== 202) throw new Error(`export: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  let status = '';
  await pollUntil(
    async () => {
      const view = (await (await app.get(`/v1/exports/${id}`, token)).json()) as { status: string; error?: string };
      status = view.status;
      if (status === 'failed') throw new Error(`export failed: ${view.error}`);
      return status === 'done';
    },
    { timeoutMs: 60_000, what: () => `export ${id} to finish (${status})` },
  );
  const res = await app.get(`/v1/exports/${id}/bundle`, token);
  if (res.status !== 200) throw new Error(`bundle: ${res.status}`);
  expect(res.headers.get('x-read-source')).toBe('replica');
  await writeFile(out, Buffer.from(await res.arrayBuffer()));
  return out;
}

async function rootOf(receipt: Receipt, jwks: Jwks): Promise<string> {
  return (await verifyReceipt(receipt, jwks)).checkpoint.root_hash;
}
