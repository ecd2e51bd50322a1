import { signCheckpoint } from '../checkpoint/checkpoint-jws.js';
import { generateSigningKey, jwksEntry, type Jwks, type SigningKey } from '../checkpoint/signing-key.js';
import { ledgerEntryLeafHash, type LedgerEntry } from '../ledger-entry/ledger-entry.js';
import { appendLeaves, type TreeState } from '../merkle/append.js';
import { inclusionProof, type NodeReader } from '../merkle/prover.js';
import { nodeKey } from '../merkle/range.js';
import { generateKeyPairSync } from 'node:crypto';
import { formatSignatureLines } from '../note/signed-note.js';
import { formatCheckpoint, shardOrigin } from '../note/tlog-checkpoint.js';
import { cosigner } from '../witness/cosignature.js';
import { parseWitnessPolicy } from '../witness/witness-policy.js';
import { buildReceipt, verifyReceipt, type Receipt } from './receipt.js';

const ORIGIN = 'routing-ledger.test';
const SHARD = 2;

/** A real shard log in memory: entries of two tenants, appended in three batches, all nodes stored. */
class MemoryShard {
  readonly entries: LedgerEntry[] = [];
  private readonly nodes = new Map<string, Buffer>();
  private state: TreeState = { treeSize: 0, frontier: [] };
  private readonly heads = new Map<string, { seq: number; leaf: Buffer }>();

  readonly read: NodeReader = async (ids) =>
    ids.map((id) => {
      const hash = this.nodes.get(nodeKey(id));
      if (!hash) throw new Error(`missing ${nodeKey(id)}`);
      return hash;
    });

  appendBatch(tenants: string[]): { treeSize: number; root: Buffer } {
    const leaves = tenants.map((tenant) => {
      const head = this.heads.get(tenant);
      const entry: LedgerEntry = {
        v: 1,
        shard: SHARD,
        index: this.entries.length,
        tenant_id: tenant,
        tenant_seq: head ? head.seq + 1 : 0,
        tenant_prev: head ? head.leaf.toString('hex') : null,
        record: { tenant_id: tenant, event_id: `evt-${this.entries.length}`, outcome: { status: 'success' } },
      };
      const leaf = ledgerEntryLeafHash(entry);
      this.heads.set(tenant, { seq: entry.tenant_seq, leaf });
      this.entries.push(entry);
      return leaf;
    });
    const result = appendLeaves(this.state, leaves);
    for (const node of result.nodes) this.nodes.set(nodeKey(node), node.hash);
    this.state = result;
    return result;
  }
}

let key: SigningKey;
let jwks: Jwks;
let shard: MemoryShard;
let checkpointJws: string;
let treeSize: number;

beforeAll(async () => {
  key = await generateSigningKey();
  jwks = { keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] };
  shard = new MemoryShard();
  shard.appendBatch(['acme', 'globex', 'acme']);
  shard.appendBatch(['globex', 'globex', 'acme', 'initech']);
  const head = shard.appendBatch(['acme', 'acme', 'globex', 'initech', 'acme']);
  treeSize = head.treeSize;
  checkpointJws = await signCheckpoint(
    {
      origin: ORIGIN,
      shard: SHARD,
      tree_size: head.treeSize,
      root_hash: head.root.toString('hex'),
      timestamp: '2026-11-25T16:45:59.123Z',
    },
    key,
  );
});

async function receiptOf(index: number): Promise<Receipt> {
  return buildReceipt(shard.entries[index], await inclusionProof(shard.read, index, treeSize), treeSize, checkpointJws);
}

async function rejection(receipt: Receipt, keys: Jwks = jwks): Promise<string> {
  try {
    await verifyReceipt(receipt, keys, { origin: ORIGIN });
  } catch (error) {
    return (error as { code?: string }).code ?? `no code: ${String(error)}`;
  }
  return 'accepted';
}

describe('verifyReceipt', () => {
  it('accepts the receipt of every entry and returns its checkpoint', async () => {
    for (let index = 0; index < treeSize; index++) {
      const { checkpoint } = await verifyReceipt(await receiptOf(index), jwks, { origin: ORIGIN });
      expect(checkpoint).toMatchObject({ shard: SHARD, tree_size: treeSize });
    }
  });

  it('accepts a receipt that went through JSON (as it is exported)', async () => {
    const receipt = JSON.parse(JSON.stringify(await receiptOf(4))) as Receipt;
    expect(await rejection(receipt)).toBe('accepted');
  });

  it('rejects an edited record (LEAF_HASH_MISMATCH)', async () => {
    const receipt = await receiptOf(5);
    receipt.entry = { ...receipt.entry, record: { ...receipt.entry.record, event_id: 'forged' } };
    expect(await rejection(receipt)).toBe('LEAF_HASH_MISMATCH');
  });

  it('rejects an edited record with a recomputed leaf hash (ROOT_MISMATCH)', async () => {
    const receipt = await receiptOf(5);
    receipt.entry = { ...receipt.entry, record: { ...receipt.entry.record, event_id: 'forged' } };
    receipt.leaf_hash = ledgerEntryLeafHash(receipt.entry).toString('hex');
    expect(await rejection(receipt)).toBe('ROOT_MISMATCH');
  });

  it('rejects a receipt whose leaf_index differs from the entry index (POSITION_MISMATCH)', async () => {
    const receipt = await receiptOf(5);
    receipt.leaf_index = 6;
    expect(await rejection(receipt)).toBe('POSITION_MISMATCH');
  });

  it('rejects an entry moved to another position, hashes recomputed (ROOT_MISMATCH)', async () => {
    const receipt = await receiptOf(5);
    receipt.entry = { ...receipt.entry, index: 6 };
    receipt.leaf_index = 6;
    receipt.leaf_hash = ledgerEntryLeafHash(receipt.entry).toString('hex');
    expect(await rejection(receipt)).toBe('ROOT_MISMATCH');
  });

  it('rejects a flipped byte in the inclusion proof (ROOT_MISMATCH)', async () => {
    const receipt = await receiptOf(7);
    const flipped = Buffer.from(receipt.inclusion_proof[1], 'hex');
    flipped[0] ^= 0x80;
    receipt.inclusion_proof[1] = flipped.toString('hex');
    expect(await rejection(receipt)).toBe('ROOT_MISMATCH');
  });

  it('rejects a truncated inclusion proof (BAD_PROOF_LENGTH)', async () => {
    const receipt = await receiptOf(7);
    receipt.inclusion_proof.pop();
    expect(await rejection(receipt)).toBe('BAD_PROOF_LENGTH');
  });

  it('rejects a tree_size other than the checkpoint (TREE_SIZE_MISMATCH)', async () => {
    const receipt = await receiptOf(3);
    receipt.tree_size = treeSize - 1;
    expect(await rejection(receipt)).toBe('TREE_SIZE_MISMATCH');
  });

  it('rejects a checkpoint of another shard (SHARD_MISMATCH)', async () => {
    const other = await signCheckpoint(
      {
        origin: ORIGIN,
        shard: SHARD + 1,
        tree_size: treeSize,
        root_hash: 'ab'.repeat(32),
        timestamp: '2026-11-25T16:45:59.123Z',
      },
      key,
    );
    const receipt = { ...(await receiptOf(3)), checkpoint: other };
    expect(await rejection(receipt)).toBe('SHARD_MISMATCH');
  });

  it('rejects a checkpoint of another ledger (ORIGIN_MISMATCH)', async () => {
    const other = await signCheckpoint(
      {
        origin: 'someone-else',
        shard: SHARD,
        tree_size: treeSize,
        root_hash: 'ab'.repeat(32),
        timestamp: '2026-11-25T16:45:59.123Z',
      },
      key,
    );
    expect(await rejection({ ...(await receiptOf(3)), checkpoint: other })).toBe('ORIGIN_MISMATCH');
  });

  it('rejects a tampered checkpoint (BAD_SIGNATURE)', async () => {
    const receipt = await receiptOf(3);
    const [header, payload, signature] = receipt.checkpoint.split('.');
    const edited = Buffer.from(payload, 'base64url')
      .toString()
      .replace(`"tree_size":${treeSize}`, `"tree_size":${treeSize + 1}`);
    receipt.checkpoint = `${header}.${Buffer.from(edited).toString('base64url')}.${signature}`;
    expect(await rejection(receipt)).toBe('BAD_SIGNATURE');
  });

  it('rejects a checkpoint signed by a key not in the JWKS (UNKNOWN_KID)', async () => {
    const stranger = await generateSigningKey();
    expect(await rejection(await receiptOf(3), { keys: [jwksEntry(stranger, '2026-01-01T00:00:00.000Z')] })).toBe(
      'UNKNOWN_KID',
    );
  });

  it('rejects malformed receipts (BAD_RECEIPT)', async () => {
    const receipt = await receiptOf(3);
    expect(await rejection({ ...receipt, leaf_hash: receipt.leaf_hash.toUpperCase() })).toBe('BAD_RECEIPT');
    expect(await rejection({ ...receipt, extra: true } as Receipt)).toBe('BAD_RECEIPT');
    expect(await rejection({ ...receipt, inclusion_proof: ['00'] })).toBe('BAD_RECEIPT');
  });

  it('rejects a malformed entry with the entry error code', async () => {
    const receipt = await receiptOf(3);
    receipt.entry = { ...receipt.entry, tenant_prev: null };
    expect(await rejection(receipt)).toBe('BAD_TENANT_PREV');
  });
});

describe('verifyReceipt with a witness policy', () => {
  const witnessKeys = [0, 1, 2].map(() => generateKeyPairSync('ed25519').privateKey);
  const cosigners = witnessKeys.map((k, i) => cosigner(`witness${i}.test/w`, k, () => 1767225600 + i));
  const policy = (quorum: number) =>
    parseWitnessPolicy([...cosigners.map((c) => `witness ${c.vkey}`), `quorum ${quorum}`].join('\n'));

  /** The note text the witnesses sign: the receipt's checkpoint restated as a tlog-checkpoint body. */
  function noteText(receipt: Receipt): string {
    const payload = JSON.parse(Buffer.from(receipt.checkpoint.split('.')[1], 'base64url').toString('utf8'));
    return formatCheckpoint({
      origin: shardOrigin(payload.origin, payload.shard),
      treeSize: payload.tree_size,
      rootHash: Buffer.from(payload.root_hash, 'hex'),
    });
  }

  async function cosignedReceipt(by: number[], text?: string): Promise<Receipt> {
    const receipt = await receiptOf(4);
    const body = Buffer.from(text ?? noteText(receipt), 'utf8');
    receipt.cosignatures = formatSignatureLines(
      by.map((i) => ({ name: cosigners[i].name, keyId: cosigners[i].keyId, signature: cosigners[i].sign(body) })),
    )
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '');
    return receipt;
  }

  async function outcome(receipt: Receipt, quorum: number): Promise<string> {
    try {
      const r = await verifyReceipt(receipt, jwks, { origin: ORIGIN, witnessPolicy: policy(quorum) });
      return `accepted by ${r.cosigned!.cosigners.join(',')}`;
    } catch (e) {
      return `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
  }

  it('accepts k valid cosignatures of the checkpoint and names the cosigners', async () => {
    const receipt = JSON.parse(JSON.stringify(await cosignedReceipt([0, 2]))) as Receipt;
    expect(await outcome(receipt, 2)).toBe(`accepted by ${cosigners[0].name},${cosigners[2].name}`);
  });

  it('refuses fewer than k, saying how many valid of how many required', async () => {
    expect(await outcome(await cosignedReceipt([1]), 2)).toMatch(
      /^QUORUM_NOT_MET: .* has 1 valid cosignatures of the 2 required$/,
    );
    expect(await outcome(await receiptOf(4), 1)).toMatch(
      /^QUORUM_NOT_MET: .* has 0 valid cosignatures of the 1 required$/,
    );
  });

  it('does not count a cosignature of another checkpoint, nor a witness outside the policy', async () => {
    const receipt = await receiptOf(4);
    const otherSize = noteText(receipt).replace(`\n${treeSize}\n`, `\n${treeSize + 1}\n`);
    const forged = await cosignedReceipt([0, 1], otherSize);
    expect(await outcome(forged, 1)).toMatch(
      /has 0 valid cosignatures of the 1 required \(invalid: witness0.*witness1/,
    );
    const stranger = cosigner('witness0.test/w', generateKeyPairSync('ed25519').privateKey);
    const signed = await cosignedReceipt([1]);
    const strangerLine = formatSignatureLines([
      { name: stranger.name, keyId: stranger.keyId, signature: stranger.sign(Buffer.from(noteText(signed))) },
    ]).trimEnd();
    signed.cosignatures!.push(strangerLine);
    expect(await outcome(signed, 2)).toMatch(/has 1 valid cosignatures of the 2 required$/);
  });

  it('refuses malformed cosignature lines, and still verifies without a policy', async () => {
    const receipt = await cosignedReceipt([0]);
    expect(await outcome({ ...receipt, cosignatures: ['not a signature line'] }, 1)).toMatch(/^MALFORMED_NOTE/);
    expect(await outcome({ ...receipt, cosignatures: [`${receipt.cosignatures![0]}\n— x AAAA`] }, 1)).toMatch(
      /^MALFORMED_NOTE/,
    );
    expect(await rejection({ ...receipt, cosignatures: 'x' as unknown as string[] })).toBe('BAD_RECEIPT');
    expect(await rejection(receipt)).toBe('accepted');
    expect(await rejection({ ...receipt, cosignatures: ['garbage'] })).toBe('accepted');
  });
});
