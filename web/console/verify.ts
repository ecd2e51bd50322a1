/**
 * Proof checks run in the page with the project's own verification code (src/domain, bundled for
 * the browser): the same functions `routing-ledger verify-receipt` runs. The page trusts neither
 * the server's word that a record is genuine nor, unless the user pins one, the server's keys.
 */
import { canonicalJson } from '../../src/domain/canonical/canonical-json.js';
import { verifyCheckpoint, verifyJws } from '../../src/domain/checkpoint/checkpoint-jws.js';
import { CHECKPOINT_TYP, type Checkpoint } from '../../src/domain/checkpoint/checkpoint.js';
import type { Jwks, LedgerJwk } from '../../src/domain/checkpoint/signing-key.js';
import { ledgerEntryLeafHash } from '../../src/domain/ledger-entry/ledger-entry.js';
import { verifyConsistency, verifyInclusion } from '../../src/domain/merkle/verifier.js';
import { verifyReceipt, type Receipt } from '../../src/domain/receipt/receipt.js';
import { Buffer } from './shims/buffer.js';

export interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  ok: boolean;
  /** The first failed step's name and reason, when not ok. */
  reason: string | null;
  steps: Step[];
  keySource: 'pinned' | 'server';
  checkpoint: Checkpoint | null;
}

const PINNED_KEY = 'routing-ledger.console.pinned-jwks';

/** The JWKS the user pinned (kept in this browser's localStorage), or null. */
export function pinnedJwks(): Jwks | null {
  const text = localStorage.getItem(PINNED_KEY);
  if (!text) return null;
  try {
    return JSON.parse(text) as Jwks;
  } catch {
    return null;
  }
}

/** Pins `text` as the trusted JWKS after checking it is one; throws with a readable reason otherwise. */
export function pinJwks(text: string): Jwks {
  let jwks: Jwks;
  try {
    jwks = JSON.parse(text) as Jwks;
  } catch {
    throw new Error('not JSON');
  }
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('not a JWKS: no "keys" array');
  if (jwks.keys.some((k) => (k as { d?: unknown }).d !== undefined))
    throw new Error('the JWKS holds private key material: pin only public keys');
  localStorage.setItem(PINNED_KEY, JSON.stringify(jwks));
  return jwks;
}

export function unpinJwks(): void {
  localStorage.removeItem(PINNED_KEY);
}

const reasonOf = (e: unknown): string => {
  const err = e as { code?: string; message?: string };
  return err.code ? `${err.code}: ${err.message}` : String(err.message ?? e);
};

async function step(steps: Step[], name: string, check: () => Promise<string> | string): Promise<boolean> {
  try {
    steps.push({ name, ok: true, detail: await check() });
    return true;
  } catch (e) {
    steps.push({ name, ok: false, detail: reasonOf(e) });
    return false;
  }
}

/**
 * Checks `receipt` step by step against `jwks` (the pinned JWKS when there is one, else the
 * server's), and that `shownRecord`, the record the page displays, is the one the entry commits to.
 * Ends with verifyReceipt itself, so the verdict is never laxer than the offline verifier's.
 */
export async function verifyReceiptInBrowser(
  receipt: Receipt,
  shownRecord: unknown,
  serverJwks: Jwks,
  pinned: Jwks | null,
): Promise<Verdict> {
  const jwks = pinned ?? serverJwks;
  const keySource = pinned ? 'pinned' : 'server';
  const steps: Step[] = [];
  let checkpoint: Checkpoint | null = null;
  await step(steps, 'Record shown is the record in the ledger entry', () => {
    if (canonicalJson(receipt.entry.record) !== canonicalJson(shownRecord))
      throw new Error('the record the API returned differs from the record in the receipt');
    return 'canonical JSON (RFC 8785) identical';
  });
  await step(steps, 'Leaf hash', () => {
    const computed = ledgerEntryLeafHash(receipt.entry).toString('hex');
    if (computed !== receipt.leaf_hash)
      throw new Error(`recomputed ${computed.slice(0, 16)}…, receipt says ${String(receipt.leaf_hash).slice(0, 16)}…`);
    return `SHA-256(0x00 ‖ entry) = ${computed.slice(0, 16)}… (shard ${receipt.entry.shard}, leaf ${receipt.entry.index})`;
  });
  await step(steps, 'Checkpoint signature', async () => {
    const { key } = await verifyJws(receipt.checkpoint, CHECKPOINT_TYP, jwks);
    checkpoint = await verifyCheckpoint(receipt.checkpoint, jwks);
    return `Ed25519 by key ${String(key.kid).slice(0, 12)}… (${keySource === 'pinned' ? 'a key you pinned' : 'key served by this server'}) at ${checkpoint.timestamp}, valid ${keyWindow(key)}`;
  });
  await step(steps, 'Inclusion proof', () => {
    const cp = checkpoint as Checkpoint | null;
    if (!cp) throw new Error('no verified checkpoint root to lead to');
    verifyInclusion(
      ledgerEntryLeafHash(receipt.entry),
      receipt.leaf_index,
      receipt.tree_size,
      receipt.inclusion_proof.map((x) => Buffer.from(x, 'hex')),
      Buffer.from(cp.root_hash, 'hex'),
    );
    return `path of ${receipt.inclusion_proof.length} hashes from leaf ${receipt.leaf_index} to the root of size ${receipt.tree_size} (${cp.root_hash.slice(0, 16)}…)`;
  });
  await step(steps, 'Whole receipt (verifyReceipt, as the offline CLI)', async () => {
    await verifyReceipt(receipt, jwks);
    return 'passed';
  });
  const failed = steps.find((s) => !s.ok);
  return {
    ok: !failed,
    reason: failed ? `${failed.name}: ${failed.detail}` : null,
    steps,
    keySource,
    checkpoint,
  };
}

function keyWindow(key: LedgerJwk): string {
  return `from ${key.valid_from ?? '?'} ${key.valid_until ? `until ${key.valid_until}` : '(current)'}`;
}

/** Checks that the newer checkpoint of a shard extends the older one (both signatures, then the consistency proof). */
export async function verifyCheckpointPair(
  older: string,
  newer: string,
  proof: string[],
  jwks: Jwks,
): Promise<{ ok: boolean; detail: string }> {
  try {
    const a = await verifyCheckpoint(older, jwks);
    const b = await verifyCheckpoint(newer, jwks);
    if (a.shard !== b.shard) throw new Error(`checkpoints of shards ${a.shard} and ${b.shard}`);
    verifyConsistency(
      a.tree_size,
      b.tree_size,
      proof.map((x) => Buffer.from(x, 'hex')),
      Buffer.from(a.root_hash, 'hex'),
      Buffer.from(b.root_hash, 'hex'),
    );
    return { ok: true, detail: `size ${a.tree_size} → ${b.tree_size}: consistent, both signatures valid` };
  } catch (e) {
    return { ok: false, detail: reasonOf(e) };
  }
}
