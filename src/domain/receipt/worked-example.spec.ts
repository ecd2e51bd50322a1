/**
 * docs/ledger-format.md §12 (worked example), recomputed: every value is derived here from the
 * domain code and must also appear verbatim in the document, so the two cannot drift apart.
 * (The values were also cross-checked once with Python hashlib + `cryptography`, outside the
 * project code.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { canonicalJson } from '../canonical/canonical-json.js';
import { signCheckpoint, verifyCheckpoint } from '../checkpoint/checkpoint-jws.js';
import { importSigningKey, jwksEntry, type Jwks } from '../checkpoint/signing-key.js';
import {
  ledgerEntryBytes,
  ledgerEntryLeafHash,
  verifyTenantChain,
  type LedgerEntry,
} from '../ledger-entry/ledger-entry.js';
import { appendLeaves } from '../merkle/append.js';
import { nodeHash } from '../merkle/hasher.js';
import { consistencyProof, inclusionProof, type NodeReader } from '../merkle/prover.js';
import { nodeKey } from '../merkle/range.js';
import { verifyConsistency, verifyInclusion } from '../merkle/verifier.js';
import { buildReceipt, verifyReceipt, type Receipt } from './receipt.js';

const DOC = readFileSync(join(process.cwd(), 'docs/ledger-format.md'), 'utf8');
const RFC8037 = JSON.parse(
  readFileSync(join(process.cwd(), 'test/vectors/ed25519/rfc8037-appendix-a.json'), 'utf8'),
) as {
  'A.1_private_jwk': JWK;
  'A.3_thumbprint_b64url': string;
};

const L0 = '08260dd523d50911680cdab18d11f645fa679ec35644abf93290a1f7274c451a';
const L1 = '42e3475d695fc132cf4a5bd61dc5ae71198a4afef8603dede03da1d6215fc318';
const L2 = '5f69ede2836b559c47dd06ba6f3e9cd3467621df3656ac9c24bfb365f25cf176';
const N = 'a42c12f08922b8b4be97e57a94d347817c3837207cdfa97ef5e1fc05c4b2b4d3';
const ROOT3 = 'bb5d08e2dbe18503d1cdb642ba6e92068bd7121868a71b3599b3062c5d7d093e';
const JWS =
  'eyJhbGciOiJFZERTQSIsImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZWeno3VHhIQ1R3WEJ5Z3JTNGsiLCJ0eXAiOiJyb3V0aW5nLWxlZGdlci1jaGVja3BvaW50K2p3cyJ9.' +
  'eyJvcmlnaW4iOiJleGFtcGxlLmxlZGdlciIsInJvb3RfaGFzaCI6ImJiNWQwOGUyZGJlMTg1MDNkMWNkYjY0MmJhNmU5MjA2OGJkNzEyMTg2OGE3MWIzNTk5YjMwNjJjNWQ3ZDA5M2UiLCJzaGFyZCI6MCwidGltZXN0YW1wIjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDBaIiwidHJlZV9zaXplIjozfQ.' +
  'GBX3A9geeesBu87axJLVrIee4lDelYOHTcNRIqwozsLjo21kYZGtha8xMpRLXaO0lfzU6iGX7zk4nxj52BVuCg';

const entries: LedgerEntry[] = [
  {
    v: 1,
    shard: 0,
    index: 0,
    tenant_id: 't1',
    tenant_seq: 0,
    tenant_prev: null,
    record: { event_id: 'e0', tenant_id: 't1' },
  },
  {
    v: 1,
    shard: 0,
    index: 1,
    tenant_id: 't2',
    tenant_seq: 0,
    tenant_prev: null,
    record: { event_id: 'e1', tenant_id: 't2' },
  },
  {
    v: 1,
    shard: 0,
    index: 2,
    tenant_id: 't1',
    tenant_seq: 1,
    tenant_prev: L0,
    record: { event_id: 'e2', tenant_id: 't1' },
  },
];

const built = appendLeaves({ treeSize: 0, frontier: [] }, entries.map(ledgerEntryLeafHash));
const stored = new Map(built.nodes.map((n) => [nodeKey(n), n.hash]));
const read: NodeReader = async (ids) => ids.map((id) => stored.get(nodeKey(id)) as Buffer);
const hex = (hashes: Buffer[]) => hashes.map((h) => h.toString('hex'));

describe('docs/ledger-format.md §12 worked example', () => {
  it('12.1: entry bytes and leaf hashes', () => {
    const leaves = entries.map((e) => ledgerEntryLeafHash(e).toString('hex'));
    expect(leaves).toEqual([L0, L1, L2]);
    for (const e of entries) expect(DOC).toContain(ledgerEntryBytes(e).toString('utf8'));
    for (const leaf of leaves) expect(DOC).toContain(leaf);
    // The abbreviated hex shown for L0 is the start and end of its leaf input.
    const l0Hex = ledgerEntryBytes(entries[0]).toString('hex');
    expect(DOC).toContain(`SHA-256(00 || ${l0Hex.slice(0, 22)}...${l0Hex.slice(-2)})`);
  });

  it('12.2: node, roots and frontier', () => {
    const l = entries.map(ledgerEntryLeafHash);
    expect(nodeHash(l[0], l[1]).toString('hex')).toBe(N);
    expect(built.root.toString('hex')).toBe(ROOT3);
    expect(hex(built.frontier)).toEqual([N, L2]);
    expect(DOC).toContain(`node (1,0) N = node_hash(L0, L1) = ${N}`);
    expect(DOC).toContain(`root, size 3 = node_hash(N, L2)  = ${ROOT3}`);
  });

  it('12.3: proofs, and they verify', async () => {
    const l = entries.map(ledgerEntryLeafHash);
    expect(hex(await inclusionProof(read, 2, 3))).toEqual([N]);
    expect(hex(await inclusionProof(read, 0, 3))).toEqual([L1, L2]);
    expect(hex(await consistencyProof(read, 2, 3))).toEqual([L2]);
    expect(hex(await consistencyProof(read, 1, 3))).toEqual([L1, L2]);
    verifyInclusion(l[2], 2, 3, [Buffer.from(N, 'hex')], built.root);
    verifyConsistency(2, 3, [l[2]], Buffer.from(N, 'hex'), built.root);
    verifyConsistency(1, 3, [l[1], l[2]], l[0], built.root);
    expect(DOC).toContain(`inclusion of index 2 in size 3:   [${N}]`);
    expect(DOC).toContain(`consistency from size 2 to size 3: [${L2}]`);
  });

  it('12.4: checkpoint payload, header and JWS are reproduced byte for byte with the RFC 8037 A.1 key', async () => {
    const key = await importSigningKey(RFC8037['A.1_private_jwk']);
    expect(key.kid).toBe(RFC8037['A.3_thumbprint_b64url']);
    const cp = {
      origin: 'example.ledger',
      shard: 0,
      tree_size: 3,
      root_hash: ROOT3,
      timestamp: '2026-01-01T00:00:00.000Z',
    };
    const jws = await signCheckpoint(cp, key);
    expect(jws).toBe(JWS);
    expect(DOC).toContain(JWS);
    expect(DOC).toContain(canonicalJson(cp));
    expect(DOC).toContain(Buffer.from(jws.split('.')[0], 'base64url').toString());
  });

  it('12.5: the JWKS is the JSON shown, and verifies the checkpoint', async () => {
    const key = await importSigningKey(RFC8037['A.1_private_jwk']);
    const jwks: Jwks = { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] };
    expect(DOC).toContain(JSON.stringify(jwks));
    expect(await verifyCheckpoint(JWS, jwks, { origin: 'example.ledger', shard: 0 })).toMatchObject({
      root_hash: ROOT3,
    });
  });

  it('12.6: the receipt shown in the document verifies and equals buildReceipt', async () => {
    const block = /### 12\.6[\s\S]*?```json\n([\s\S]*?)```/.exec(DOC)?.[1];
    expect(block).toBeDefined();
    const documented = JSON.parse(block!.replace('"<the compact JWS of 12.4>"', JSON.stringify(JWS))) as Receipt;
    expect(documented).toEqual(buildReceipt(entries[2], await inclusionProof(read, 2, 3), 3, JWS));
    const key = await importSigningKey(RFC8037['A.1_private_jwk']);
    const { checkpoint } = await verifyReceipt(documented, { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] });
    expect(checkpoint.tree_size).toBe(3);
  });

  it('12.6: t1 chain (entries 0 and 2) is unbroken', () => {
    const chain = [entries[0], entries[2]].map((entry) => ({ entry, leafHash: ledgerEntryLeafHash(entry) }));
    expect(verifyTenantChain(chain)).toBeNull();
  });

  it('§4: EMPTY_ROOT as documented', () => {
    expect(DOC).toContain(
      'EMPTY_ROOT       = SHA-256("") = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});
