import { canonicalJson } from '../canonical/canonical-json.js';
import { generateSigningKey, jwksEntry, type SigningKey } from '../checkpoint/signing-key.js';
import { COST_SENSITIVE_POLICY, EU_REGULATED_POLICY } from './policy-examples.js';
import {
  nextPolicyEntry,
  policyEntryLeafHash,
  policyLogRoot,
  signPolicyCheckpoint,
  type PolicyEntry,
} from './policy-log.js';
import { verifyPolicyLog, type StoredPolicyCheckpoint, type StoredPolicyLeaf } from './policy-log-verifier.js';

const AT = '2026-11-20T09:00:00.000Z';

/** A stored log of `n` versions alternating between two tenants, with a checkpoint after each. */
async function storedLog(n: number, key: SigningKey) {
  const entries: PolicyEntry[] = [];
  const leaves: StoredPolicyLeaf[] = [];
  const checkpoints: StoredPolicyCheckpoint[] = [];
  for (let i = 0; i < n; i++) {
    const tenant = i % 2 ? 'b' : 'a';
    const prev = [...entries].reverse().find((e) => e.tenant_id === tenant);
    const entry = nextPolicyEntry(
      prev ? { version: prev.version, leaf_hash: policyEntryLeafHash(prev).toString('hex') } : null,
      {
        index: i,
        tenant_id: tenant,
        effective_from: AT,
        published_at: AT,
        document: i % 2 ? COST_SENSITIVE_POLICY : EU_REGULATED_POLICY,
      },
    );
    entries.push(entry);
    const hash = policyEntryLeafHash(entry).toString('hex');
    leaves.push({
      leaf_index: i,
      tenant_id: tenant,
      version: entry.version,
      leaf_hash: hash,
      entry: canonicalJson(entry),
    });
    const root = policyLogRoot(entries.map(policyEntryLeafHash)).toString('hex');
    const jws = await signPolicyCheckpoint(
      { origin: 'o', log: 'policy', tree_size: i + 1, root_hash: root, timestamp: AT },
      key,
    );
    checkpoints.push({ tree_size: i + 1, root_hash: root, jws });
  }
  return { leaves, checkpoints };
}

describe('verifyPolicyLog', () => {
  let key: SigningKey;
  let jwks: { keys: ReturnType<typeof jwksEntry>[] };
  beforeAll(async () => {
    key = await generateSigningKey();
    jwks = { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] };
  });

  it('accepts an intact log', async () => {
    const { leaves, checkpoints } = await storedLog(6, key);
    expect(await verifyPolicyLog(leaves, checkpoints, jwks)).toEqual({
      ok: true,
      versions: 6,
      checkpoints: 6,
      problems: [],
    });
  });

  it('names a version edited in place, and every checkpoint it breaks', async () => {
    const { leaves, checkpoints } = await storedLog(5, key);
    leaves[2] = { ...leaves[2], entry: leaves[2].entry.replace('"eu"', '"us"') };
    const report = await verifyPolicyLog(leaves, checkpoints, jwks);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ code: 'LEAF_HASH_MISMATCH', leaf_index: 2 });
    expect(report.problems.filter((p) => p.code === 'ROOT_MISMATCH').map((p) => p.tree_size)).toEqual([3, 4, 5]);
  });

  it('names a version removed from the log: positions, the tenant chain and the signed roots', async () => {
    const { leaves, checkpoints } = await storedLog(5, key);
    const kept = leaves.filter((l) => l.leaf_index !== 2).map((l, i) => ({ ...l, leaf_index: i }));
    const codes = (await verifyPolicyLog(kept, checkpoints, jwks)).problems.map((p) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['POSITION_MISMATCH', 'CHAIN_BREAK', 'ROOT_MISMATCH']));
  });

  it('refuses checkpoints signed by a key outside the JWKS', async () => {
    const { leaves, checkpoints } = await storedLog(2, key);
    const other = { keys: [jwksEntry(await generateSigningKey(), '2026-01-01T00:00:00.000Z')] };
    const report = await verifyPolicyLog(leaves, checkpoints, other);
    expect(report.problems.map((p) => [p.code, p.tree_size])).toEqual([
      ['BAD_CHECKPOINT', 1],
      ['BAD_CHECKPOINT', 2],
    ]);
  });
});
