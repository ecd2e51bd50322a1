import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { generateSigningKey } from '../../src/domain/checkpoint/signing-key.js';
import { mintToken } from '../../src/auth/token-mint.js';
import { EventsController } from '../../src/ingest/events.controller.js';
import { HttpIngestService } from '../../src/ingest/http-ingest.service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { appendRecords, startQueryApp, type QueryApp } from '../support/query-app.js';
import { scenarioRecords, WINDOW } from '../support/query-scenario.js';

jest.setTimeout(120_000);
const run = promisify(execFile);

const ISS = 'routing-ledger';
const AUD = 'routing-ledger-api';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/**
 * The HTTP ingest service is the boundary to Kafka, which this test does not run: a stand-in
 * accepts everything, so that only the guard decides what reaches it.
 */
const acceptingIngest = {
  provide: HttpIngestService,
  useValue: { ingest: async () => ({ accepted: 0, event_ids: [] }) },
};

describe('API authentication and authorization', () => {
  let db: TestDatabase;
  let q: QueryApp;
  const dataDir = () => `/tmp/rl/${db.name}`;

  beforeAll(async () => {
    db = await createTestDatabase('rl_query_auth');
    q = await startQueryApp({
      databaseUrl: db.url,
      dataDir: dataDir(),
      controllers: [EventsController],
      providers: [acceptingIngest],
    });
    await appendRecords(
      q.append,
      scenarioRecords().filter((r) => r.occurred_at >= WINDOW.from),
    );
  });

  afterAll(async () => {
    await q?.close();
    await db?.drop();
  });

  /** A token with the dev key's kid but any header and claims, signed by the dev key. */
  async function devSigned(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const key = await loadOrCreateDevAuthKey(dataDir());
    return new SignJWT({ roles: ['admin'], tenants: ['*'], ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, ...header })
      .sign(key.privateKey);
  }
  const standard = { iss: ISS, aud: AUD, sub: 'attacker' };

  async function expectProblem(res: Response, status: number) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as { type: string; detail: string };
    expect(body.type).toBe(
      status === 401 ? 'urn:routing-ledger:error:unauthenticated' : 'urn:routing-ledger:error:forbidden',
    );
    return body;
  }

  it('refuses a request without a token, naming the bearer scheme', async () => {
    const res = await q.get('/v1/decisions');
    await expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const basic = await fetch(`${q.base}/v1/decisions`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    await expectProblem(basic, 401);
  });

  it.each([
    [
      'alg none',
      async () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ roles: ['admin'], tenants: ['*'], ...standard, exp: now() + 600 })}.`,
    ],
    [
      'HS256 keyed with the public JWK',
      async () => {
        const key = await loadOrCreateDevAuthKey(dataDir());
        return new SignJWT({ roles: ['admin'], tenants: ['*'] })
          .setProtectedHeader({ alg: 'HS256', kid: key.kid })
          .setIssuer(ISS)
          .setAudience(AUD)
          .setExpirationTime(now() + 600)
          .sign(Buffer.from(JSON.stringify(key.publicJwk)));
      },
    ],
    [
      'HS256 keyed with the raw public key',
      async () => {
        const key = await loadOrCreateDevAuthKey(dataDir());
        return new SignJWT({ roles: ['admin'], tenants: ['*'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(ISS)
          .setAudience(AUD)
          .setExpirationTime(now() + 600)
          .sign(Buffer.from(key.publicJwk.x!, 'base64url'));
      },
    ],
    ['expired', () => devSigned({ ...standard, iat: now() - 7200, exp: now() - 3600 })],
    ['not yet valid', () => devSigned({ ...standard, nbf: now() + 3600, exp: now() + 7200 })],
    ['without exp', () => devSigned({ ...standard })],
    ['wrong issuer', () => devSigned({ ...standard, iss: 'https://evil.example', exp: now() + 600 })],
    ['wrong audience', () => devSigned({ ...standard, aud: 'another-api', exp: now() + 600 })],
    [
      'signed by an unknown key',
      async () =>
        mintToken(
          await generateSigningKey(),
          { subject: 'x', roles: ['admin'], tenants: ['*'] },
          { issuer: ISS, audience: AUD, ttlSeconds: 600 },
        ),
    ],
    [
      '"*" tenants for a non-admin role',
      () => devSigned({ ...standard, roles: ['auditor'], tenants: ['*'], exp: now() + 600 }),
    ],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses a token that is %s with 401', async (_name, make) => {
    await expectProblem(await q.get('/v1/decisions', await make()), 401);
  });

  it('accepts a well-formed token of the dev key and returns 403 for a role or tenant outside it', async () => {
    expect((await q.get('/v1/decisions', await devSigned({ ...standard, exp: now() + 600 }))).status).toBe(200);
    await expectProblem(await q.get('/v1/decisions', await q.token('ingest', ['acme'])), 403);
    await expectProblem(await q.get('/v1/decisions?tenant=eu-bank', await q.token('responder', ['acme'])), 403);
    await expectProblem(
      await q.post('/v1/incidents/reconstruct', { ...WINDOW, tenant: 'eu-bank' }, await q.token('auditor', ['acme'])),
      403,
    );
    await expectProblem(await q.get('/v1/decisions', await q.token('responder', [])), 403);
  });

  it('answers "not found" for another tenant\'s record, never "forbidden"', async () => {
    const acme = await q.token('responder', ['acme']);
    expect((await q.get('/v1/decisions/evt-eu-bank-9999-b', acme)).status).toBe(404);
    expect((await q.get('/v1/decisions/evt-eu-bank-9999-b/explain', acme)).status).toBe(404);
    expect((await q.get('/v1/requests/req-eu-bank-retry', acme)).status).toBe(404);
  });

  it('guards ledger verification for auditors and admins; leaves JWKS, receipts and checkpoints public', async () => {
    await expectProblem(await q.post('/v1/ledger/verify', {}), 401);
    await expectProblem(await q.post('/v1/ledger/verify', {}, await q.token('responder', ['acme'])), 403);
    const verified = await q.post('/v1/ledger/verify', {}, await q.token('auditor', ['acme']));
    expect(verified.status).toBe(200);
    expect(((await verified.json()) as { ok: boolean }).ok).toBe(true);
    expect((await q.get('/.well-known/jwks.json')).status).toBe(200);
    expect((await q.get('/v1/ledger/checkpoints')).status).toBe(200);
    expect((await q.get('/v1/records/evt-acme-180/receipt')).status).toBe(200);
  });

  it('lets POST /v1/events through without a token outside production, but checks any token it is given', async () => {
    const post = (token?: string) =>
      fetch(`${q.base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: '{}',
      });
    expect((await post()).status).toBe(202);
    expect((await post(await q.token('ingest', ['acme']))).status).toBe(202);
    await expectProblem(await post(await q.token('responder', ['acme'])), 403);
    await expectProblem(await post('not.a.jwt'), 401);
  });

  it('mints tokens with the CLI that the service trusts (same DATA_DIR)', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], {
        env: { ...process.env, DATA_DIR: dataDir(), NODE_ENV: 'test', ...env },
      });
    const { stdout } = await cli(['--role', 'auditor', '--tenants', 'acme', '--ttl', '5m']);
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect((await q.get('/v1/decisions?tenant=acme&limit=1', token)).status).toBe(200);
    expect((await q.get('/v1/decisions?tenant=eu-bank', token)).status).toBe(403);
    const { stdout: adminToken } = await cli(['--role', 'admin']);
    expect((await q.get('/v1/decisions?tenant=eu-bank&limit=1', adminToken.trim())).status).toBe(200);
    await expect(cli(['--role', 'auditor'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--tenants is required'),
    });
    await expect(cli(['--role', 'admin'], { NODE_ENV: 'production' })).rejects.toMatchObject({ code: 2 });
  });
});

describe('API authentication in production', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('rl_query_auth_prod');
  });

  afterAll(async () => {
    await db?.drop();
  });

  const prod = { NODE_ENV: 'production', SIGNING_KEY_JWK: '{"kty":"OKP"}' };
  const post = (q: QueryApp, token?: string) =>
    fetch(`${q.base}/v1/events`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: '{}',
    });

  it('verifies against AUTH_JWKS_FILE and requires a token on POST /v1/events', async () => {
    const dir = `/tmp/rl/${db.name}-jwks`;
    await mkdir(dir, { recursive: true });
    const key = await generateSigningKey();
    await writeFile(
      `${dir}/jwks.json`,
      JSON.stringify({ keys: [key.publicJwk, { kty: 'oct', k: Buffer.from('shared-secret').toString('base64url') }] }),
    );
    const q = await startQueryApp({
      databaseUrl: db.url,
      dataDir: dir,
      env: { ...prod, AUTH_JWKS_FILE: `${dir}/jwks.json` },
      controllers: [EventsController],
      providers: [acceptingIngest],
    });
    try {
      expect((await post(q)).status).toBe(401);
      const ingest = await mintToken(
        key,
        { subject: 'gw', roles: ['ingest'], tenants: [] },
        { issuer: ISS, audience: AUD, ttlSeconds: 60 },
      );
      expect((await post(q, ingest)).status).toBe(202);
      // The dev key is not trusted once a JWKS is configured, and an oct key in the file is ignored.
      expect((await post(q, await q.token('ingest', ['acme']))).status).toBe(401);
      const hmac = await new SignJWT({ roles: ['ingest'], tenants: [] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISS)
        .setAudience(AUD)
        .setExpirationTime(now() + 60)
        .sign(Buffer.from('shared-secret'));
      expect((await post(q, hmac)).status).toBe(401);
    } finally {
      await q.close();
    }
  });

  it('refuses every token when production has no JWKS configured', async () => {
    const dir = `/tmp/rl/${db.name}-none`;
    const q = await startQueryApp({
      databaseUrl: db.url,
      dataDir: dir,
      env: prod,
      controllers: [EventsController],
      providers: [acceptingIngest],
    });
    try {
      const res = await q.get('/v1/decisions', await q.token('admin', ['*']));
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/AUTH_JWKS/);
      expect((await post(q, await q.token('ingest', ['acme']))).status).toBe(401);
    } finally {
      await q.close();
    }
  });
});
