import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCheckpoint } from '../domain/checkpoint/checkpoint-jws.js';
import { generateSigningKey, jwksEntry } from '../domain/checkpoint/signing-key.js';
import { ledgerEntryLeafHash, type LedgerEntry } from '../domain/ledger-entry/ledger-entry.js';
import { appendLeaves } from '../domain/merkle/append.js';
import { inclusionProof } from '../domain/merkle/prover.js';
import { nodeKey } from '../domain/merkle/range.js';
import { buildReceipt } from '../domain/receipt/receipt.js';
import { generateKeyPairSync } from 'node:crypto';
import { formatSignatureLines } from '../domain/note/signed-note.js';
import { formatCheckpoint, shardOrigin } from '../domain/note/tlog-checkpoint.js';
import { cosigner } from '../domain/witness/cosignature.js';
import { verifyReceiptCommand } from './verify-receipt.js';

/** Runs the command, capturing its output. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await verifyReceiptCommand(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('routing-ledger verify-receipt', () => {
  let dir: string;
  let receiptFile: string;
  let tamperedFile: string;
  let jwksFile: string;
  let otherJwksFile: string;
  let cosignedFile: string;
  let policy2File: string;
  let policy1File: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rl-receipt-'));
    const entries: LedgerEntry[] = Array.from({ length: 5 }, (_, i) => ({
      v: 1,
      shard: 1,
      index: i,
      tenant_id: 'acme',
      tenant_seq: i,
      tenant_prev: null,
      record: { tenant_id: 'acme', event_id: `evt-${i}` },
    }));
    for (let i = 1; i < entries.length; i++)
      entries[i].tenant_prev = ledgerEntryLeafHash(entries[i - 1]).toString('hex');
    const tree = appendLeaves({ treeSize: 0, frontier: [] }, entries.map(ledgerEntryLeafHash));
    const nodes = new Map(tree.nodes.map((n) => [nodeKey(n), n.hash]));
    const key = await generateSigningKey();
    const jws = await signCheckpoint(
      {
        origin: 'rl.test',
        shard: 1,
        tree_size: 5,
        root_hash: tree.root.toString('hex'),
        timestamp: '2026-12-01T10:00:00.000Z',
      },
      key,
    );
    const receipt = buildReceipt(
      entries[3],
      await inclusionProof(async (ids) => ids.map((id) => nodes.get(nodeKey(id))!), 3, 5),
      5,
      jws,
    );
    // One of two witnesses cosigned the checkpoint's note body.
    const witnesses = ['w1.test/w', 'w2.test/w'].map((name) =>
      cosigner(name, generateKeyPairSync('ed25519').privateKey),
    );
    const body = formatCheckpoint({ origin: shardOrigin('rl.test', 1), treeSize: 5, rootHash: tree.root });
    const line = formatSignatureLines([
      { name: witnesses[0].name, keyId: witnesses[0].keyId, signature: witnesses[0].sign(Buffer.from(body)) },
    ]).trimEnd();
    cosignedFile = join(dir, 'cosigned.json');
    await writeFile(cosignedFile, JSON.stringify({ ...receipt, cosignatures: [line] }));
    policy2File = join(dir, 'policy2.txt');
    policy1File = join(dir, 'policy1.txt');
    const listed = witnesses.map((w) => `witness ${w.vkey}`).join('\n');
    await writeFile(policy2File, `${listed}\nquorum 2\n`);
    await writeFile(policy1File, `${listed}\nquorum 1\n`);
    receiptFile = join(dir, 'receipt.json');
    tamperedFile = join(dir, 'tampered.json');
    jwksFile = join(dir, 'jwks.json');
    otherJwksFile = join(dir, 'other.json');
    await writeFile(receiptFile, JSON.stringify(receipt));
    await writeFile(
      tamperedFile,
      JSON.stringify({
        ...receipt,
        entry: { ...receipt.entry, record: { tenant_id: 'acme', event_id: 'evt-3', extra: 1 } },
      }),
    );
    await writeFile(jwksFile, JSON.stringify({ keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] }));
    await writeFile(
      otherJwksFile,
      JSON.stringify({ keys: [jwksEntry(await generateSigningKey(), '2026-01-01T00:00:00.000Z')] }),
    );
  });

  it('accepts a genuine receipt with the ledger keys and says what it proves', async () => {
    const r = await run([receiptFile, '--jwks', jwksFile, '--origin', 'rl.test']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK: record evt-3 is leaf 3 of shard 1, included in the checkpoint of tree size 5/);
  });

  it('refuses an edited record, other keys and another origin, naming why', async () => {
    expect(await run([tamperedFile, '--jwks', jwksFile])).toMatchObject({
      code: 1,
      out: expect.stringContaining('LEAF_HASH_MISMATCH'),
    });
    expect((await run([receiptFile, '--jwks', otherJwksFile])).code).toBe(1);
    expect((await run([receiptFile, '--jwks', jwksFile, '--origin', 'someone.else'])).code).toBe(1);
  });

  it('with --witness-policy, refuses a checkpoint without k valid cosignatures and names the count', async () => {
    const short = await run([cosignedFile, '--jwks', jwksFile, '--witness-policy', policy2File]);
    expect(short.code).toBe(1);
    expect(short.out).toMatch(/^FAILED \(QUORUM_NOT_MET\): .* has 1 valid cosignatures of the 2 required/);
    const none = await run([receiptFile, '--jwks', jwksFile, '--witness-policy', policy1File]);
    expect(none.out).toMatch(/^FAILED \(QUORUM_NOT_MET\): .* has 0 valid cosignatures of the 1 required/);
    const ok = await run([cosignedFile, '--jwks', jwksFile, '--witness-policy', policy1File]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/cosigned by 1 of the policy's witnesses \(w1.test\/w\), 1 required/);
    // Without the flag the cosignatures are carried but not required.
    expect((await run([cosignedFile, '--jwks', jwksFile])).code).toBe(0);
    expect((await run([cosignedFile, '--jwks', jwksFile, '--witness-policy', join(dir, 'none.txt')])).code).toBe(2);
  });

  it('answers usage errors with exit code 2', async () => {
    expect((await run([receiptFile])).code).toBe(2);
    expect((await run([join(dir, 'missing.json'), '--jwks', jwksFile])).code).toBe(2);
  });
});
