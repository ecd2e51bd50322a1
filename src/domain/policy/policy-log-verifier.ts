/**
 * Full verification of the policy log from what is stored, as the ledger verifies its shards:
 * every entry is canonical JSON whose hash is its leaf hash, sits at its index, matches its
 * columns, holds a valid document, and links to its tenant's previous version; every stored
 * checkpoint's root is the root of that many leaves, and its JWS verifies with the JWKS.
 * Reports every problem, not only the first.
 */
import { canonicalJson } from '../canonical/canonical-json.js';
import type { Jwks } from '../checkpoint/signing-key.js';
import { appendLeaves, type TreeState } from '../merkle/append.js';
import { leafHash } from '../merkle/hasher.js';
import { validatePolicyDocument } from './policy-document.js';
import { verifyPolicyCheckpoint, type PolicyEntry } from './policy-log.js';

export interface StoredPolicyLeaf {
  leaf_index: number;
  tenant_id: string;
  version: number;
  /** Lowercase hex. */
  leaf_hash: string;
  /** The stored leaf bytes, as text. */
  entry: string;
}

export interface StoredPolicyCheckpoint {
  tree_size: number;
  /** Lowercase hex. */
  root_hash: string;
  jws: string;
}

export type PolicyLogProblemCode =
  | 'NOT_CANONICAL'
  | 'LEAF_HASH_MISMATCH'
  | 'POSITION_MISMATCH'
  | 'COLUMN_MISMATCH'
  | 'INVALID_DOCUMENT'
  | 'CHAIN_BREAK'
  | 'ROOT_MISMATCH'
  | 'BAD_CHECKPOINT';

export interface PolicyLogProblem {
  code: PolicyLogProblemCode;
  leaf_index?: number;
  tree_size?: number;
  message: string;
}

export interface PolicyLogReport {
  ok: boolean;
  versions: number;
  checkpoints: number;
  problems: PolicyLogProblem[];
}

/** Preconditions: `leaves` in leaf_index order, `checkpoints` in tree_size order. */
export async function verifyPolicyLog(
  leaves: StoredPolicyLeaf[],
  checkpoints: StoredPolicyCheckpoint[],
  jwks: Jwks,
): Promise<PolicyLogReport> {
  const problems: PolicyLogProblem[] = [];
  const heads = new Map<string, { version: number; leaf_hash: string }>();
  const roots = new Map<number, string>();
  let tree: TreeState = { treeSize: 0, frontier: [] };
  const wanted = new Set(checkpoints.map((c) => c.tree_size));
  leaves.forEach((leaf, i) => {
    const at = (code: PolicyLogProblemCode, message: string) =>
      problems.push({ code, leaf_index: leaf.leaf_index, message });
    const hash = leafHash(Buffer.from(leaf.entry, 'utf8'));
    if (hash.toString('hex') !== leaf.leaf_hash)
      at('LEAF_HASH_MISMATCH', 'the stored entry does not hash to its leaf hash');
    let entry: PolicyEntry | undefined;
    try {
      entry = JSON.parse(leaf.entry) as PolicyEntry;
      if (canonicalJson(entry) !== leaf.entry) at('NOT_CANONICAL', 'the stored entry is not RFC 8785 canonical JSON');
    } catch {
      at('NOT_CANONICAL', 'the stored entry is not JSON');
    }
    if (leaf.leaf_index !== i || (entry && entry.index !== i))
      at('POSITION_MISMATCH', `leaf ${i} of the log claims index ${entry?.index ?? leaf.leaf_index}`);
    if (entry) {
      if (entry.tenant_id !== leaf.tenant_id || entry.version !== leaf.version)
        at('COLUMN_MISMATCH', 'tenant_id or version columns differ from the entry');
      const valid = validatePolicyDocument(entry.document);
      if (!valid.ok) at('INVALID_DOCUMENT', valid.errors.join('; '));
      const prev = heads.get(entry.tenant_id) ?? null;
      if (entry.version !== (prev ? prev.version + 1 : 1) || entry.prev !== (prev ? prev.leaf_hash : null))
        at('CHAIN_BREAK', `version ${entry.version} does not follow version ${prev?.version ?? 0} of its tenant`);
      heads.set(entry.tenant_id, { version: entry.version, leaf_hash: hash.toString('hex') });
    }
    const next = appendLeaves(tree, [hash]);
    tree = { treeSize: next.treeSize, frontier: next.frontier };
    if (wanted.has(next.treeSize)) roots.set(next.treeSize, next.root.toString('hex'));
  });
  for (const c of checkpoints) {
    const bad = (code: PolicyLogProblemCode, message: string) =>
      problems.push({ code, tree_size: c.tree_size, message });
    const root = roots.get(c.tree_size);
    if (root === undefined)
      bad('ROOT_MISMATCH', `a checkpoint of ${c.tree_size} leaves, the log holds ${leaves.length}`);
    else if (root !== c.root_hash) bad('ROOT_MISMATCH', 'the stored root is not the root of the stored leaves');
    try {
      const cp = await verifyPolicyCheckpoint(c.jws, jwks);
      if (cp.tree_size !== c.tree_size || cp.root_hash !== (root ?? c.root_hash))
        bad('BAD_CHECKPOINT', 'the signed tree head is not the stored one');
    } catch (e) {
      bad('BAD_CHECKPOINT', `signature: ${(e as Error).message}`);
    }
  }
  return { ok: problems.length === 0, versions: leaves.length, checkpoints: checkpoints.length, problems };
}
