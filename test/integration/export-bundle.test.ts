/**
 * Export on the real database: records appended through LedgerAppendService (the ingest
 * core's transaction), bundles requested over HTTP with bearer tokens, downloaded, and checked
 * by the offline verifier, in process and as the compiled CLIs (`npm run build` first).
 */
import { jest } from '@jest/globals';
import 'reflect-metadata';
import { Module, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { promisify } from 'node:util';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { mintToken } from '../../src/auth/token-mint.js';
import type { Role } from '../../src/auth/principal.js';
import { ProblemDetailsFilter } from '../../src/common/problem-details.filter.js';
import { loadConfigSections, type AppConfig } from '../../src/config/app-config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { FILE, type ProofLine } from '../../src/domain/bundle/bundle-format.js';
import { verifyBundle } from '../../src/domain/bundle/verify-bundle.js';
import {
  exportPrivateJwk,
  generateSigningKey,
  type Jwks,
  type SigningKey,
} from '../../src/domain/checkpoint/signing-key.js';
import type { CanonicalRecord } from '../../src/domain/record/canonical-record.js';
import { ExportModule } from '../../src/export/export.module.js';
import { ExportService } from '../../src/export/export.service.js';
import { ExportSourceRepository } from '../../src/export/export-source.repository.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import { LedgerModule } from '../../src/ledger/ledger.module.js';
import { MetricsModule } from '../../src/metrics/metrics.module.js';
import { sampleRecord } from '../fixtures/sample-record.js';
import {
  fromLines,
  get,
  linesOf,
  readBundleFiles,
  resealBundle,
  set,
  writeBundleFiles,
} from '../support/bundle-files.js';
import { pollUntil } from '../support/poll-until.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

jest.setTimeout(300_000);
const run = promisify(execFile);

const TOPIC = 'routing.decisions';
const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const FROM = new Date(T0 + 20 * 60_000).toISOString();
const TO = new Date(T0 + 80 * 60_000).toISOString();

let db: TestDatabase;
let dataDir: string;
let config: Pick<AppConfig, 'runtime' | 'database' | 'signing' | 'auth'>;
let ledgerKey: SigningKey;
let app: INestApplication;
let base: string;
let authKey: SigningKey;
let seq = 0;

function record(i: number, tenant: string, minute: number): CanonicalRecord {
  return sampleRecord({
    event_id: `ex-${String(i).padStart(6, '0')}`,
    request_id: `req-${i}`,
    tenant_id: tenant,
    occurred_at: new Date(T0 + minute * 60_000 + (i % 1000)).toISOString(),
    provider: i % 4 === 0 ? 'openai' : 'anthropic',
  });
}

/** 3 shards × 10 batches of 20: acme and globex interleaved, minutes 0..99, plus late arrivals. */
async function seed(append: LedgerAppendService): Promise<void> {
  const offsets = new Map<number, number>();
  for (let b = 0; b < 10; b++) {
    for (const partition of [0, 1, 2]) {
      const items = [];
      for (let k = 0; k < 20; k++) {
        const i = seq++;
        const tenant = partition === 2 ? 'globex' : k % 3 === 0 ? 'globex' : 'acme';
        const minute = b * 10 + Math.floor(k / 2);
        const offset = offsets.get(partition) ?? 0;
        offsets.set(partition, offset + 1);
        items.push({
          kind: 'record' as const,
          offset: String(offset),
          record: {
            ...record(i, tenant, b === 7 && k === 5 ? 30 : minute),
            source: {
              format: 'native' as const,
              raw_sha256: 'a'.repeat(64),
              topic: TOPIC,
              partition,
              offset: String(offset),
            },
          },
        });
      }
      await append.appendBatch({
        topic: TOPIC,
        partition,
        groupId: 'export-test',
        items,
        nextOffset: String(offsets.get(partition)),
      });
    }
  }
}

async function token(roles: Role[], tenants: string[]): Promise<string> {
  return mintToken(
    authKey,
    { subject: 'auditor-1', roles, tenants },
    { issuer: config.auth.issuer, audience: config.auth.audience, ttlSeconds: 3600 },
  );
}

async function api(method: string, path: string, opts: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body ? { 'content-type': 'application/json' } : {}),
    },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
  });
  return res;
}

async function exportAndDownload(body: unknown, bearer: string, out: string): Promise<Record<string, unknown>> {
  const created = await api('POST', '/v1/exports', { token: bearer, body });
  expect(created.status).toBe(202);
  const job = (await created.json()) as { id: string; status: string };
  let view: Record<string, unknown> = {};
  await pollUntil(
    async () => {
      view = (await (await api('GET', `/v1/exports/${job.id}`, { token: bearer })).json()) as Record<string, unknown>;
      if (view.status === 'failed') throw new Error(`export failed: ${String(view.error)}`);
      return view.status === 'done';
    },
    { timeoutMs: 20_000, what: () => `export ${job.id} to finish: ${JSON.stringify(view)}` },
  );
  const res = await api('GET', `/v1/exports/${job.id}/bundle`, { token: bearer });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/gzip');
  await writeFile(out, Buffer.from(await res.arrayBuffer()));
  return view;
}

beforeAll(async () => {
  db = await createTestDatabase('rl_export');
  dataDir = `/tmp/${db.name}`;
  await mkdir(dataDir, { recursive: true });
  ledgerKey = await generateSigningKey();
  config = loadConfigSections(['runtime', 'database', 'signing', 'auth'], {
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    SIGNING_KEY_JWK: JSON.stringify(await exportPrivateJwk(ledgerKey)),
    LEDGER_ORIGIN: 'routing-ledger.test/export',
  });
  authKey = await loadOrCreateDevAuthKey(dataDir);
  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TypeOrmModule.forRoot(
        dataSourceOptions({ url: config.database.url, poolSize: 4, appRole: config.database.appRole }),
      ),
      MetricsModule,
      LedgerModule,
      ExportModule,
    ],
  })
  class ExportTestModule {}
  app = await NestFactory.create(ExportTestModule, { logger: ['error', 'warn'] });
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(0, '127.0.0.1');
  base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  await seed(app.get(LedgerAppendService));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

async function trustedJwks(): Promise<Jwks> {
  return (await (await api('GET', '/.well-known/jwks.json')).json()) as Jwks;
}

async function acmeInRange(): Promise<number> {
  const rows = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM records WHERE tenant_id = 'acme' AND occurred_at >= $1 AND occurred_at < $2`,
    [FROM, TO],
  );
  return Number(rows[0].n);
}

describe('POST /v1/exports → GET bundle → offline verification', () => {
  let bundle: string;

  it('exports a complete, verifiable bundle of one tenant and range', async () => {
    bundle = join(dataDir, 'acme.tar.gz');
    const view = await exportAndDownload(
      { tenant: 'acme', from: FROM, to: TO },
      await token(['auditor'], ['acme']),
      bundle,
    );
    expect(view).toMatchObject({
      status: 'done',
      tenant: 'acme',
      from: FROM,
      to: TO,
      requested_by: 'auditor-1',
      progress: { fraction: 1 },
    });
    const v = await verifyBundle(() => createReadStream(bundle), {
      trustedJwks: await trustedJwks(),
      origin: 'routing-ledger.test/export',
    });
    expect(v.problem).toBeUndefined();
    expect(v.ok).toBe(true);
    expect(v.counts.records_in_range).toBe(await acmeInRange());
    expect(v.counts.shards).toBe(3);
    // Shard 2 is globex only: proven empty for acme with no neighbours.
    expect(v.shards.find((s) => s.shard === 2)).toMatchObject({ records: 0, tenant_chain_length: 0 });
    for (const s of v.shards.filter((x) => x.shard !== 2))
      expect(s).toMatchObject({ before_seq: expect.any(Number), after_seq: expect.any(Number) });
    expect((view.bundle as { counts: { records_in_range: number } }).counts.records_in_range).toBe(
      v.counts.records_in_range,
    );
  });

  it('bounds a range in each shard chain exactly, read through the range or by walking the chain', async () => {
    const source = app.get(ExportSourceRepository);
    const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
    // A minute (read through the range), most of the chain (walked), the test's range, none, all.
    const windows = [
      [at(50), at(51)],
      [at(1), at(99)],
      [FROM, TO],
      [at(200), at(300)],
      [at(-10), at(1_000)],
    ];
    for (const shard of [0, 1, 2]) {
      const rows = await db.query<{ seq: string; ms: number; leaf: string }>(
        `SELECT tenant_seq AS seq, extract(epoch FROM occurred_at) * 1000 AS ms, leaf_index AS leaf
         FROM records WHERE shard = $1 AND tenant_id = 'acme'`,
        [shard],
      );
      const treeSize = Math.max(0, ...rows.map((r) => Number(r.leaf))) + 1;
      for (const [from, to] of windows) {
        const seqs = rows
          .filter((r) => Number(r.ms) >= Date.parse(from) && Number(r.ms) < Date.parse(to))
          .map((r) => Number(r.seq));
        const expected = seqs.length === 0 ? null : { min: Math.min(...seqs), max: Math.max(...seqs) };
        expect([shard, from, to, await source.inRangeSeqBounds(shard, 'acme', from, to, treeSize)]).toEqual([
          shard,
          from,
          to,
          expected,
        ]);
      }
    }
  });

  it("finds where instants fall in a shard's tenant chain by one statement's binary search", async () => {
    const source = app.get(ExportSourceRepository);
    const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
    const instants = [at(-10), at(0), at(1), at(37), at(50), at(99), FROM, TO, at(1_000)];
    for (const shard of [0, 1, 2]) {
      const rows = await db.query<{ seq: string; ms: number }>(
        `SELECT tenant_seq AS seq, extract(epoch FROM occurred_at) * 1000 AS ms FROM records
         WHERE shard = $1 AND tenant_id = 'acme' ORDER BY tenant_seq`,
        [shard],
      );
      const ms = rows.map((r) => Number(r.ms));
      // The same search over the rows read here: the first seq not older than the instant.
      const position = (instant: string) => {
        let [lo, hi] = [0, ms.length];
        while (lo < hi) {
          const mid = lo + Math.floor((hi - lo) / 2);
          if (ms[mid] < Date.parse(instant)) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      };
      const found = await source.chainPositions(shard, 'acme', ms.length, instants);
      expect([shard, found]).toEqual([shard, instants.map(position)]);
      if (ms.length > 0) expect(new Set(found).size).toBeGreaterThan(2);
    }
  });

  it('survives the server ending the connection of a chain read between two pages', async () => {
    // After the COPY has been read to its end the pg client sits idle, checked out, while the
    // reader writes the last page; a connection ended then must fail the read, not the process.
    const source = app.get(ExportSourceRepository);
    const chain = source.chainLines(0, { tenant: 'acme', from: FROM, to: TO, filters: {} }, 0, 1_000_000, 1_000_000);
    const first = await chain.next();
    expect(first.done).toBe(false);
    expect((first.value as unknown[]).length).toBeGreaterThan(0);
    const copies = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (SELECT leaf_index%'`;
    const ended = await db.query<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM (${copies}) c`);
    expect(ended).toEqual([{ ok: true }]);
    await pollUntil(async () => (await db.query(copies)).length === 0, {
      timeoutMs: 10_000,
      what: 'the backend to end',
    });
    await sleep(200); // the client reads the server's goodbye
    const last = await chain.next().then(
      (r) => r.done,
      (e: Error) => e.message,
    );
    expect(last).toBe(true);
    // The pool did not keep the dead connection: every one it hands out answers.
    const answers = await Promise.all(Array.from({ length: 4 }, () => app.get(DataSource).query('SELECT 1 AS one')));
    expect(answers).toEqual(Array.from({ length: 4 }, () => [{ one: 1 }]));
  });

  it('leaves the job and its file where GET finds them, and 409s a bundle that is not done', async () => {
    await db.query(
      `INSERT INTO exports (id, tenant_id, range_from, range_to, status, error) VALUES ('00000000-0000-4000-8000-000000000001', 'acme', $1, $2, 'failed', 'boom')`,
      [FROM, TO],
    );
    const res = await api('GET', '/v1/exports/00000000-0000-4000-8000-000000000001/bundle', {
      token: await token(['auditor'], ['acme']),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { detail: string }).detail).toContain('failed: boom');
  });

  it('enforces roles and tenant scope', async () => {
    const body = { tenant: 'acme', from: FROM, to: TO };
    expect((await api('POST', '/v1/exports', { body })).status).toBe(401);
    expect((await api('POST', '/v1/exports', { body, token: await token(['responder'], ['acme']) })).status).toBe(403);
    expect((await api('POST', '/v1/exports', { body, token: await token(['auditor'], ['globex']) })).status).toBe(403);
    const created = (await (
      await api('POST', '/v1/exports', { body, token: await token(['admin'], ['*']) })
    ).json()) as { id: string };
    expect(
      (await api('GET', `/v1/exports/${created.id}`, { token: await token(['auditor'], ['globex']) })).status,
    ).toBe(404);
    await app.get(ExportService).idle();
  });

  it('validates the request', async () => {
    const t = await token(['auditor'], ['acme']);
    expect((await api('POST', '/v1/exports', { token: t, body: { tenant: 'acme', from: TO, to: FROM } })).status).toBe(
      400,
    );
    expect(
      (await api('POST', '/v1/exports', { token: t, body: { tenant: 'acme', from: 'yesterday', to: TO } })).status,
    ).toBe(400);
    expect(
      (
        await api('POST', '/v1/exports', {
          token: t,
          body: { tenant: 'acme', from: FROM, to: TO, filters: { colour: 'red' } },
        })
      ).status,
    ).toBe(400);
    expect((await api('GET', '/v1/exports/not-a-uuid', { token: t })).status).toBe(400);
    expect((await api('GET', '/v1/exports/00000000-0000-4000-8000-0000000000ff', { token: t })).status).toBe(404);
  });

  it('catches tampering of a bundle from the database, including a resealed one', async () => {
    const files = await readBundleFiles(bundle);
    const trusted = await trustedJwks();
    const jwksFile = join(dataDir, 'tamper-jwks.json');
    await writeFile(jwksFile, JSON.stringify(trusted));
    // Each tampered bundle is verified in this process (proofs.jsonl read in this thread) and by
    // the built CLI with --proof-thread (proofs.jsonl checked by the proof worker): both must name the same problem.
    const check = async (f: typeof files) => {
      const path = join(dataDir, `tampered-${seq++}.tar.gz`);
      await writeBundleFiles(path, f);
      const verdict = await verifyBundle(() => createReadStream(path), { trustedJwks: trusted });
      const cli = await run(process.execPath, [
        'dist/src/cli/routing-ledger.js',
        'verify-bundle',
        path,
        '--jwks',
        jwksFile,
        '--json',
        '--proof-thread',
      ]).catch((e: { stdout: string; code: number }) => e);
      expect(JSON.parse(cli.stdout).problem).toEqual(verdict.problem);
      return verdict;
    };
    const records = linesOf(get(files, FILE.records));
    const proofs = linesOf(get(files, FILE.proofs));
    const i = 4;
    const changed = await check(
      set(
        files,
        FILE.records,
        fromLines(records.map((l, k) => (k === i ? l.replace('"gpt-smart"', '"gpt-smarT"') : l))),
      ),
    );
    expect(changed.problem).toMatchObject({
      code: 'LEAF_HASH_MISMATCH',
      file: FILE.records,
      line: i + 1,
      record: JSON.parse(records[i]).record.event_id,
    });
    const drop = (l: string[]) => fromLines(l.filter((_, k) => k !== i));
    const removed = await check(
      await resealBundle(set(set(files, FILE.records, drop(records)), FILE.proofs, drop(proofs)), ledgerKey),
    );
    expect(removed.problem).toMatchObject({ code: 'SEQ_GAP', file: FILE.records, line: i + 1 });
    const p = JSON.parse(proofs[i]) as ProofLine;
    p.inclusion_proof = p.inclusion_proof.slice(1);
    const truncated = await check(
      set(files, FILE.proofs, fromLines(proofs.map((l, k) => (k === i ? JSON.stringify(p) : l)))),
    );
    expect(truncated.problem).toMatchObject({ code: 'INCLUSION_INVALID', file: FILE.proofs, line: i + 1 });
    const proofsWith = (line: string) => set(files, FILE.proofs, fromLines(proofs.map((l, k) => (k === i ? line : l))));
    const spaced = await check(proofsWith(proofs[i].replace(',"index"', ', "index"')));
    expect(spaced.problem).toMatchObject({ code: 'NON_CANONICAL', file: FILE.proofs, line: i + 1 });
    const other = await check(proofsWith(proofs[i + 1]));
    expect(other.problem).toMatchObject({ code: 'PROOF_MISMATCH', file: FILE.proofs, line: i + 1 });
    const unknown = await check(proofsWith(JSON.stringify({ ...JSON.parse(proofs[i]), tree_size: 999_999 })));
    expect(unknown.problem).toMatchObject({ code: 'UNKNOWN_CHECKPOINT', file: FILE.proofs, line: i + 1 });
    const extra = await check(
      await resealBundle(set(files, FILE.proofs, fromLines([...proofs, proofs[proofs.length - 1]])), ledgerKey),
    );
    expect(extra.problem).toMatchObject({ code: 'EXTRA_PROOF', file: FILE.proofs });
  });

  it('the export CLI writes the same kind of bundle, and the routing-ledger CLI verifies it offline', async () => {
    expect(existsSync('dist/src/cli/export.js')).toBe(true);
    const out = join(dataDir, 'cli.tar.gz');
    const jwksFile = join(dataDir, 'trusted-jwks.json');
    await writeFile(jwksFile, JSON.stringify(await trustedJwks()));
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      SIGNING_KEY_JWK: config.signing.jwk!,
      DATA_DIR: dataDir,
      LEDGER_ORIGIN: config.signing.ledgerOrigin,
      NODE_ENV: 'test',
    };
    const exported = await run(
      process.execPath,
      [
        'dist/src/cli/export.js',
        '--tenant',
        'acme',
        '--from',
        FROM,
        '--to',
        TO,
        '--out',
        out,
        '--filter',
        'provider=openai',
      ],
      { env },
    );
    expect(exported.stdout).toMatch(/^wrote .*cli\.tar\.gz/);
    const verified = await run(
      process.execPath,
      ['dist/src/cli/routing-ledger.js', 'verify-bundle', out, '--jwks', jwksFile],
      { env },
    );
    expect(verified.stdout).toMatch(/^VERIFIED: /);
    expect(verified.stdout).toContain(`records: `);
    expect(verified.stdout).toContain(`trusted JWKS ${jwksFile}`);

    // Tampered: exit 1 and the first problem on stdout.
    const files = await readBundleFiles(out);
    const records = linesOf(get(files, FILE.records));
    const bad = join(dataDir, 'cli-bad.tar.gz');
    await writeBundleFiles(
      bad,
      set(
        files,
        FILE.records,
        fromLines(records.map((l, k) => (k === 1 ? l.replace('"gpt-smart"', '"gpt-smarT"') : l))),
      ),
    );
    const failed = await run(
      process.execPath,
      ['dist/src/cli/routing-ledger.js', 'verify-bundle', bad, '--jwks', jwksFile],
      { env },
    ).catch((e: { code: number; stdout: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stdout: string }).stdout).toMatch(
      /^FAILED: .*\n {2}first problem: \[LEAF_HASH_MISMATCH\] records\.jsonl line 2 \(record ex-\d+\)/,
    );

    // Usage errors: exit 2.
    const usage = await run(process.execPath, ['dist/src/cli/routing-ledger.js', 'verify-bundle'], { env }).catch(
      (e: { code: number }) => e,
    );
    expect((usage as { code: number }).code).toBe(2);
    const noKey = await run(
      process.execPath,
      ['dist/src/cli/export.js', '--tenant', 'acme', '--from', FROM, '--to', TO, '--out', join(dataDir, 'x.tar.gz')],
      { env: { ...env, SIGNING_KEY_JWK: JSON.stringify(await exportPrivateJwk(await generateSigningKey())) } },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(noKey).toMatchObject({ code: 2, stderr: expect.stringMatching(/is not one of the ledger's keys/) });
  });
});
