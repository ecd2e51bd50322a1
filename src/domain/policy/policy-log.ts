/**
 * The policy log: every version of every tenant's policy, as leaves of one RFC 6962 Merkle log
 * beside the record shards (docs/policies.md, "How a policy version is made provable").
 *
 * A leaf is the RFC 8785 canonical JSON of a PolicyEntry, hashed as records are
 * (SHA-256(0x00 || bytes)). Each entry also links to the previous version of its tenant by leaf
 * hash, the same per-tenant chain records carry, so a tenant's history cannot lose a version
 * unnoticed. After each append the log's tree head is signed (compact JWS, Ed25519, the ledger's
 * keys) with its own `typ`, so a policy checkpoint can never pass for a shard checkpoint.
 *
 * Policy versions are rare (an admin's act), so proofs are computed from the log's leaf hashes
 * in memory: appendLeaves over all of them yields every node a proof needs.
 */
import { canonicalBytes } from '../canonical/canonical-json.js';
import { assertWithinKeyValidity, signJws, verifyJws } from '../checkpoint/checkpoint-jws.js';
import { isUtcMillisTimestamp } from '../checkpoint/checkpoint.js';
import type { Jwks, Signer } from '../checkpoint/signing-key.js';
import { appendLeaves } from '../merkle/append.js';
import { leafHash } from '../merkle/hasher.js';
import { inclusionProof, readerWithKnownNodes } from '../merkle/prover.js';
import { verifyInclusion } from '../merkle/verifier.js';
import { AppError } from '../../common/app-error.js';
import type { PolicyDocument } from './policy-document.js';

export const POLICY_ENTRY_VERSION = 1;
export const POLICY_CHECKPOINT_TYP = 'routing-ledger-policy-checkpoint+jws';

export interface PolicyEntry {
  v: typeof POLICY_ENTRY_VERSION;
  log: 'policy';
  /** Leaf index in the policy log. */
  index: number;
  tenant_id: string;
  /** 1 for a tenant's first version, then +1 per version. */
  version: number;
  /** Lowercase hex leaf hash of the tenant's previous version; null for version 1. */
  prev: string | null;
  /** RFC 3339 UTC with milliseconds: decisions at or after it are judged by this version (until the next). */
  effective_from: string;
  /** When the ledger appended it: a version published after its effective_from is visibly backdated. */
  published_at: string;
  document: PolicyDocument;
}

export interface PolicyCheckpoint {
  origin: string;
  log: 'policy';
  tree_size: number;
  root_hash: string;
  timestamp: string;
}

export interface PolicyReceipt {
  entry: PolicyEntry;
  leaf_hash: string;
  leaf_index: number;
  tree_size: number;
  inclusion_proof: string[];
  checkpoint: string;
}

export class PolicyLogError extends AppError {
  override readonly name = 'PolicyLogError';
  constructor(
    readonly code: 'BAD_POLICY_RECEIPT' | 'LEAF_HASH_MISMATCH' | 'TREE_SIZE_MISMATCH' | 'BAD_POLICY_CHECKPOINT',
    message: string,
  ) {
    super(message);
  }
}

/** SHA-256(0x00 || canonical JSON of the entry). */
export function policyEntryLeafHash(entry: PolicyEntry): Buffer {
  return leafHash(canonicalBytes(entry));
}

/** The tenant's version that follows `previous` (null: the tenant's first). */
export function nextPolicyEntry(
  previous: { version: number; leaf_hash: string } | null,
  fields: Pick<PolicyEntry, 'index' | 'tenant_id' | 'effective_from' | 'published_at' | 'document'>,
): PolicyEntry {
  return {
    v: POLICY_ENTRY_VERSION,
    log: 'policy',
    index: fields.index,
    tenant_id: fields.tenant_id,
    version: previous ? previous.version + 1 : 1,
    prev: previous ? previous.leaf_hash : null,
    effective_from: fields.effective_from,
    published_at: fields.published_at,
    document: fields.document,
  };
}

/** Root of the log over `leaves` (leaf hashes in index order). */
export function policyLogRoot(leaves: Buffer[]): Buffer {
  return appendLeaves({ treeSize: 0, frontier: [] }, leaves).root;
}

/** The RFC 6962 audit path of leaf `index` in the log of `leaves`. */
export async function policyInclusionProof(leaves: Buffer[], index: number): Promise<Buffer[]> {
  const { nodes } = appendLeaves({ treeSize: 0, frontier: [] }, leaves);
  const reader = readerWithKnownNodes(nodes, () => Promise.reject(new Error('policy log node missing')));
  return inclusionProof(reader, index, leaves.length);
}

export async function signPolicyCheckpoint(cp: PolicyCheckpoint, key: Signer): Promise<string> {
  const defect = policyCheckpointDefect(cp);
  if (defect) throw new PolicyLogError('BAD_POLICY_CHECKPOINT', defect);
  return signJws(canonicalBytes(cp), POLICY_CHECKPOINT_TYP, key);
}

/** The checkpoint of `jws` once its signature (by a key of `jwks`, within its validity) and shape are checked. */
export async function verifyPolicyCheckpoint(jws: string, jwks: Jwks): Promise<PolicyCheckpoint> {
  const { payload, key } = await verifyJws(jws, POLICY_CHECKPOINT_TYP, jwks);
  let cp: unknown;
  try {
    cp = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new PolicyLogError('BAD_POLICY_CHECKPOINT', 'policy checkpoint payload is not JSON');
  }
  const defect = policyCheckpointDefect(cp);
  if (defect) throw new PolicyLogError('BAD_POLICY_CHECKPOINT', defect);
  if (!canonicalBytes(cp).equals(payload))
    throw new PolicyLogError('BAD_POLICY_CHECKPOINT', 'policy checkpoint payload is not canonical JSON');
  assertWithinKeyValidity(key, (cp as PolicyCheckpoint).timestamp);
  return cp as PolicyCheckpoint;
}

/**
 * The checkpoint a receipt leads to, once verified offline with `jwks` alone: the entry hashes
 * to leaf_hash, the checkpoint is signed, and the audit path leads from the leaf to its root.
 */
export async function verifyPolicyReceipt(receipt: PolicyReceipt, jwks: Jwks): Promise<PolicyCheckpoint> {
  if (receipt === null || typeof receipt !== 'object' || !Array.isArray(receipt.inclusion_proof))
    throw new PolicyLogError('BAD_POLICY_RECEIPT', 'not a policy receipt');
  const leaf = policyEntryLeafHash(receipt.entry);
  if (leaf.toString('hex') !== receipt.leaf_hash || receipt.entry.index !== receipt.leaf_index)
    throw new PolicyLogError('LEAF_HASH_MISMATCH', 'leaf_hash or leaf_index is not the entry');
  const cp = await verifyPolicyCheckpoint(receipt.checkpoint, jwks);
  if (cp.tree_size !== receipt.tree_size)
    throw new PolicyLogError(
      'TREE_SIZE_MISMATCH',
      `checkpoint of size ${cp.tree_size}, receipt of ${receipt.tree_size}`,
    );
  const proof = receipt.inclusion_proof.map((h) => Buffer.from(h, 'hex'));
  verifyInclusion(leaf, receipt.leaf_index, receipt.tree_size, proof, Buffer.from(cp.root_hash, 'hex'));
  return cp;
}

function policyCheckpointDefect(v: unknown): string | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'policy checkpoint must be an object';
  const cp = v as Record<string, unknown>;
  if (Object.keys(cp).sort().join() !== 'log,origin,root_hash,timestamp,tree_size')
    return 'policy checkpoint must have exactly origin, log, tree_size, root_hash, timestamp';
  if (cp.log !== 'policy') return 'log must be "policy"';
  if (typeof cp.origin !== 'string' || cp.origin === '') return 'origin must be a non-empty string';
  if (typeof cp.tree_size !== 'number' || !Number.isSafeInteger(cp.tree_size) || cp.tree_size < 1)
    return 'tree_size must be a positive safe integer';
  if (typeof cp.root_hash !== 'string' || !/^[0-9a-f]{64}$/.test(cp.root_hash))
    return 'root_hash must be 64 lowercase hex';
  if (!isUtcMillisTimestamp(cp.timestamp)) return 'timestamp must be RFC 3339 UTC with milliseconds';
  return null;
}
