/**
 * docs/ledger-format.md §14.6 (worked example of a cosigned checkpoint and a tlog-proof),
 * recomputed: every value is derived here from the domain code and must appear verbatim in the
 * document. It extends the tree of §12: the same three entries, origin example.ledger/shard/0.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { importSigningKey } from '../checkpoint/signing-key.js';
import { ledgerEntryBytes, ledgerEntryLeafHash, type LedgerEntry } from '../ledger-entry/ledger-entry.js';
import { appendLeaves } from '../merkle/append.js';
import { inclusionProof, type NodeReader } from '../merkle/prover.js';
import { nodeKey } from '../merkle/range.js';
import { ed25519NoteSigner, ed25519PublicKeyBytes, formatVerifierKey, parseVerifierKey } from '../note/note-keys.js';
import { signNote } from '../note/signed-note.js';
import { formatCheckpoint, shardOrigin } from '../note/tlog-checkpoint.js';
import { cosigner } from './cosignature.js';
import { formatTlogProof, verifyTlogProof } from './tlog-proof.js';
import { parseWitnessPolicy } from './witness-policy.js';

const DOC = readFileSync(join(process.cwd(), 'docs/ledger-format.md'), 'utf8');
const RFC8037 = JSON.parse(
  readFileSync(join(process.cwd(), 'test/vectors/ed25519/rfc8037-appendix-a.json'), 'utf8'),
) as { 'A.1_private_jwk': JWK };

const L0 = '08260dd523d50911680cdab18d11f645fa679ec35644abf93290a1f7274c451a';
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

/** The witness's key: the Ed25519 seed SHA-256("routing-ledger worked example witness"). */
const WITNESS_SEED = createHash('sha256').update('routing-ledger worked example witness').digest();
const witnessKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), WITNESS_SEED]),
  format: 'der',
  type: 'pkcs8',
});
/** 2026-01-01T00:00:00Z */
const TIME = 1767225600;

async function example() {
  const origin = shardOrigin('example.ledger', 0);
  const logKey = await importSigningKey(RFC8037['A.1_private_jwk']);
  const logVkey = formatVerifierKey(origin, Buffer.from(logKey.publicJwk.x as string, 'base64url'));
  const w = cosigner('witness.example/w1', witnessKey, () => TIME);
  const text = formatCheckpoint({ origin, treeSize: 3, rootHash: built.root });
  const note = signNote(text, [ed25519NoteSigner(origin, logKey.privateKey), w]);
  const proof = formatTlogProof({
    extra: ledgerEntryBytes(entries[2]),
    index: 2,
    inclusionProof: await inclusionProof(read, 2, 3),
    note,
  });
  return { origin, logVkey, witnessVkey: w.vkey, note, proof, seedHex: WITNESS_SEED.toString('hex') };
}

describe('docs/ledger-format.md §14.6 worked example', () => {
  it('the witness key, the log and witness verifier keys and the cosigned note appear in the document', async () => {
    const ex = await example();
    expect(ed25519PublicKeyBytes(witnessKey)).toHaveLength(32);
    expect(DOC).toContain(ex.seedHex);
    expect(DOC).toContain(ex.logVkey);
    expect(DOC).toContain(ex.witnessVkey);
    expect(DOC).toContain(ex.note);
  });

  it('the tlog-proof of entry 2 appears in the document and verifies with the two keys and quorum 1', async () => {
    const ex = await example();
    expect(DOC).toContain(ex.proof);
    const policy = parseWitnessPolicy(`log ${ex.logVkey}\nwitness ${ex.witnessVkey}\nquorum 1\n`);
    const r = verifyTlogProof(ex.proof, { logVerifiers: [parseVerifierKey(ex.logVkey)], policy, origin: ex.origin });
    expect(r.cosigners).toEqual(['witness.example/w1']);
    expect(r.leafInput.toString('utf8')).toBe(ledgerEntryBytes(entries[2]).toString('utf8'));
  });
});
