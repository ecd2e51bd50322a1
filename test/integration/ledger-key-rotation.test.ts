import { jest } from '@jest/globals';
import { exportPrivateJwk, generateSigningKey } from '../../src/domain/checkpoint/signing-key.js';
import { verifyReceipt } from '../../src/domain/receipt/receipt.js';
import { LedgerAppendService } from '../../src/ledger/ledger-append.service.js';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startLedgerContext } from '../support/ledger-context.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(120_000);

function batch(from: number, n: number): DecodedItem[] {
  return Array.from({ length: n }, (_, k) => ({
    kind: 'record' as const,
    offset: String(from + k),
    record: validEvent(from + k),
  }));
}

describe('ledger: signing key rotation', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('signs new checkpoints with the new key while old receipts keep verifying against the JWKS', async () => {
    const keyA = await generateSigningKey();
    const keyB = await generateSigningKey();
    const input = (from: number, n: number) => ({
      topic: 'routing.decisions',
      partition: 0,
      groupId: 'g',
      items: batch(from, n),
      nextOffset: String(from + n),
    });

    const a = await startLedgerContext(db.url, { SIGNING_KEY_JWK: JSON.stringify(await exportPrivateJwk(keyA)) });
    await a.app.get(LedgerAppendService).appendBatch(input(0, 50));
    await a.app.close();

    const b = await startLedgerContext(db.url, { SIGNING_KEY_JWK: JSON.stringify(await exportPrivateJwk(keyB)) });
    try {
      const appended = await b.app.get(LedgerAppendService).appendBatch(input(50, 50));
      expect(appended.checkpoint?.kid).toBe(keyB.kid);
      const ledger = b.app.get(LedgerService);
      const jwks = await ledger.jwks();
      const byKid = new Map(jwks.keys.map((k) => [k.kid, k as Record<string, unknown>]));
      expect([...byKid.keys()].sort()).toEqual([keyA.kid, keyB.kid].sort());
      expect(byKid.get(keyA.kid)!.valid_until).toEqual(expect.any(String));
      expect(byKid.get(keyB.kid)!.valid_until).toBeUndefined();
      expect(JSON.stringify(jwks)).not.toContain('"d"');

      // A record first covered by a key-A checkpoint and one covered by key B both verify.
      const early = await ledger.receipt(validEvent(10).event_id);
      const late = await ledger.receipt(validEvent(60).event_id);
      expect((await verifyReceipt(early, jwks as never)).checkpoint.tree_size).toBe(50);
      expect((await verifyReceipt(late, jwks as never)).checkpoint.tree_size).toBe(100);
      const report = await ledger.verify();
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);

      // Re-appending the same offsets is a no-op: exactly once under redelivery.
      const again = await b.app.get(LedgerAppendService).appendBatch(input(50, 50));
      expect(again).toMatchObject({ appended: 0, alreadyConsumed: 50 });
    } finally {
      await b.app.close();
    }
  });
});
