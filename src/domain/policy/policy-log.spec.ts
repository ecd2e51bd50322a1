import { generateSigningKey, jwksEntry, type SigningKey } from '../checkpoint/signing-key.js';
import { verifyCheckpoint } from '../checkpoint/checkpoint-jws.js';
import { leafHash } from '../merkle/hasher.js';
import { canonicalBytes } from '../canonical/canonical-json.js';
import {
  nextPolicyEntry,
  policyEntryLeafHash,
  policyInclusionProof,
  policyLogRoot,
  signPolicyCheckpoint,
  verifyPolicyCheckpoint,
  verifyPolicyReceipt,
  type PolicyEntry,
  type PolicyReceipt,
} from './policy-log.js';
import { COST_SENSITIVE_POLICY, EU_REGULATED_POLICY } from './policy-examples.js';

const AT = '2026-11-20T09:00:00.000Z';

async function logOf(n: number, key: SigningKey) {
  const entries: PolicyEntry[] = [];
  for (let i = 0; i < n; i++) {
    const tenant = i % 2 === 0 ? 'eu-bank' : 'stark';
    const prev = [...entries].reverse().find((e) => e.tenant_id === tenant);
    entries.push(
      nextPolicyEntry(prev ? { version: prev.version, leaf_hash: policyEntryLeafHash(prev).toString('hex') } : null, {
        index: i,
        tenant_id: tenant,
        effective_from: AT,
        published_at: AT,
        document: i % 2 === 0 ? EU_REGULATED_POLICY : COST_SENSITIVE_POLICY,
      }),
    );
  }
  const leaves = entries.map(policyEntryLeafHash);
  const root = policyLogRoot(leaves);
  const checkpoint = await signPolicyCheckpoint(
    { origin: 'test/ledger', log: 'policy', tree_size: n, root_hash: root.toString('hex'), timestamp: AT },
    key,
  );
  return { entries, leaves, checkpoint };
}

describe('policy log', () => {
  let key: SigningKey;
  let jwks: { keys: ReturnType<typeof jwksEntry>[] };
  beforeAll(async () => {
    key = await generateSigningKey();
    jwks = { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] };
  });

  it('chains a tenant’s versions by leaf hash', async () => {
    const { entries } = await logOf(4, key);
    expect(entries.map((e) => [e.tenant_id, e.version])).toEqual([
      ['eu-bank', 1],
      ['stark', 1],
      ['eu-bank', 2],
      ['stark', 2],
    ]);
    expect(entries[2].prev).toBe(policyEntryLeafHash(entries[0]).toString('hex'));
    expect(entries[0].prev).toBeNull();
  });

  it('hashes leaves as records are: SHA-256(0x00 || canonical JSON)', async () => {
    const { entries } = await logOf(1, key);
    expect(policyEntryLeafHash(entries[0])).toEqual(leafHash(canonicalBytes(entries[0])));
  });

  it.each([1, 2, 3, 5, 8, 13])('proves every version of a log of %i offline with the JWKS alone', async (n) => {
    const { entries, leaves, checkpoint } = await logOf(n, key);
    for (let i = 0; i < n; i++) {
      const receipt: PolicyReceipt = {
        entry: entries[i],
        leaf_hash: leaves[i].toString('hex'),
        leaf_index: i,
        tree_size: n,
        inclusion_proof: (await policyInclusionProof(leaves, i)).map((h) => h.toString('hex')),
        checkpoint,
      };
      await expect(verifyPolicyReceipt(receipt, jwks)).resolves.toEqual(expect.objectContaining({ tree_size: n }));
    }
  });

  it('refuses an edited version, a wrong proof and another key', async () => {
    const { entries, leaves, checkpoint } = await logOf(3, key);
    const receipt: PolicyReceipt = {
      entry: entries[1],
      leaf_hash: leaves[1].toString('hex'),
      leaf_index: 1,
      tree_size: 3,
      inclusion_proof: (await policyInclusionProof(leaves, 1)).map((h) => h.toString('hex')),
      checkpoint,
    };
    const edited = { ...receipt, entry: { ...receipt.entry, effective_from: '2026-11-20T08:00:00.000Z' } };
    await expect(verifyPolicyReceipt(edited, jwks)).rejects.toMatchObject({ code: 'LEAF_HASH_MISMATCH' });
    const rehashed = { ...edited, leaf_hash: policyEntryLeafHash(edited.entry).toString('hex') };
    await expect(verifyPolicyReceipt(rehashed, jwks)).rejects.toMatchObject({ code: 'ROOT_MISMATCH' });
    const other = await generateSigningKey();
    await expect(
      verifyPolicyReceipt(receipt, { keys: [jwksEntry(other, '2026-01-01T00:00:00.000Z')] }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_KID' });
  });

  it('keeps policy and shard checkpoints apart (their own typ)', async () => {
    const { checkpoint } = await logOf(2, key);
    await expect(verifyCheckpoint(checkpoint, jwks)).rejects.toMatchObject({ code: 'WRONG_TYP' });
    await expect(verifyPolicyCheckpoint(checkpoint, jwks)).resolves.toMatchObject({ log: 'policy', tree_size: 2 });
  });
});
