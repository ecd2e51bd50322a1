import { jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCheckpoint } from '../../src/domain/checkpoint/checkpoint-jws.js';
import type { Jwks } from '../../src/domain/checkpoint/signing-key.js';
import { verifyReceipt, type Receipt } from '../../src/domain/receipt/receipt.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { DEV_KEY_FILE } from '../../src/ledger/signing-key.service.js';
import { startHttpSigner, type HttpSigner } from '../support/http-signer.js';
import { startQueryApp, type QueryApp } from '../support/query-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(120_000);

const TOKEN = 'signer-test-token';

/**
 * SIGNING_EXTERNAL_URL: checkpoints signed by a separate HTTP signer (the service never holds the
 * private key) verify with the JWKS the service serves; a signer that answers with another key's
 * signature, or not at all, stops the append instead of publishing an unverifiable checkpoint.
 */
describe('external signer (SIGNING_EXTERNAL_URL)', () => {
  let db: TestDatabase;
  let signer: HttpSigner;
  let q: QueryApp;
  let dataDir: string;

  const items = (from: number, n: number): DecodedItem[] =>
    Array.from({ length: n }, (_, k) => ({
      kind: 'record' as const,
      offset: String(from + k),
      record: validEvent(from + k),
    }));
  const append = (from: number, n: number) =>
    q.append.appendBatch({
      topic: 'routing.decisions',
      partition: 0,
      groupId: 'signer-test',
      items: items(from, n),
      nextOffset: String(from + n),
    });

  beforeAll(async () => {
    db = await createTestDatabase('rl_ext_signer');
    signer = await startHttpSigner({ token: TOKEN });
    dataDir = `/tmp/rl/${db.name}`;
    q = await startQueryApp({
      databaseUrl: db.url,
      dataDir,
      env: { SIGNING_EXTERNAL_URL: signer.url, SIGNING_EXTERNAL_TOKEN: TOKEN },
    });
  });

  afterAll(async () => {
    await q?.close();
    await signer?.close();
    await db?.drop();
  });

  it('signs checkpoints through the signer; receipts verify with the served JWKS, which holds its key only', async () => {
    const res = await append(0, 20);
    expect(res.appended).toBe(20);
    expect(res.checkpoint?.kid).toBe(signer.kid);
    expect(signer.counts.sign).toBeGreaterThan(0);
    expect(signer.counts.unauthorized).toBe(0);

    const jwks = (await (await q.get('/.well-known/jwks.json')).json()) as Jwks;
    expect(jwks.keys.map((k) => k.kid)).toEqual([signer.kid]);
    // No local key was generated beside it.
    expect(existsSync(join(dataDir, DEV_KEY_FILE))).toBe(false);

    const receipt = (await (await q.get(`/v1/records/${validEvent(7).event_id}/receipt`)).json()) as Receipt;
    const { checkpoint } = await verifyReceipt(receipt, jwks);
    expect(checkpoint.tree_size).toBe(20);
    const latest = (await (await q.get('/v1/ledger/checkpoints')).json()) as { latest: Array<{ jws: string }> };
    for (const cp of latest.latest) await verifyCheckpoint(cp.jws, jwks);
    const report = await q.app.get(LedgerService).verify();
    expect(report.problems).toEqual([]);
  });

  it.each(['wrong-key', 'unavailable'] as const)(
    'a signer that is %s fails the append, which leaves the shard as it was and succeeds once the signer is back',
    async (mode) => {
      const before = await db.query<{ tree_size: string }>('SELECT tree_size FROM shard_heads WHERE shard = 0');
      signer.mode = mode;
      try {
        const from = Number(before[0].tree_size);
        await expect(append(from, 5)).rejects.toMatchObject({ code: 'EXTERNAL_SIGNER', retriable: true });
        const after = await db.query<{ tree_size: string }>('SELECT tree_size FROM shard_heads WHERE shard = 0');
        expect(after).toEqual(before);
      } finally {
        signer.mode = 'ok';
      }
      const from = Number(before[0].tree_size);
      expect((await append(from, 5)).appended).toBe(5);
      const jwks = (await (await q.get('/.well-known/jwks.json')).json()) as Jwks;
      const receipt = (await (await q.get(`/v1/records/${validEvent(from + 4).event_id}/receipt`)).json()) as Receipt;
      expect((await verifyReceipt(receipt, jwks)).checkpoint.tree_size).toBe(from + 5);
    },
  );
});
