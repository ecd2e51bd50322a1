/**
 * The checkpoint: a signed statement "shard S of ledger O had tree_size N with root R at T".
 * Its JWS payload is the RFC 8785 canonical JSON of this object, nothing else.
 */

import { AppError } from '../../common/app-error.js';

export interface Checkpoint {
  /** Ledger identity (e.g. a URL-like name); a checkpoint of another ledger must not verify here. */
  origin: string;
  shard: number;
  tree_size: number;
  /** Lowercase hex Merkle Tree Hash of the shard's first tree_size leaves. */
  root_hash: string;
  /** RFC 3339 UTC with milliseconds, e.g. 2026-11-25T16:45:59.123Z: when it was signed. */
  timestamp: string;
}

/** JWS `typ` of a checkpoint (RFC 7515 §4.1.9, media type without "application/"). */
export const CHECKPOINT_TYP = 'routing-ledger-checkpoint+jws';

const CHECKPOINT_FIELDS = ['origin', 'shard', 'tree_size', 'root_hash', 'timestamp'] as const;
const LOWER_HEX_SHA256 = /^[0-9a-f]{64}$/;
const UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * What is wrong with `value` as a Checkpoint, or null: exactly the five fields; origin a
 * non-empty string; shard and tree_size non-negative safe integers; root_hash 64 lowercase hex
 * digits; timestamp an existing instant written as RFC 3339 UTC with milliseconds.
 */
export function checkpointDefect(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'checkpoint must be a JSON object';
  const fields = Object.keys(value);
  const unknown = fields.filter((f) => !(CHECKPOINT_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0) return `unknown field(s): ${unknown.join(', ')}`;
  const missing = CHECKPOINT_FIELDS.filter((f) => !fields.includes(f));
  if (missing.length > 0) return `missing field(s): ${missing.join(', ')}`;
  const cp = value as Record<string, unknown>;
  if (typeof cp.origin !== 'string' || cp.origin === '') return 'origin must be a non-empty string';
  if (!isCount(cp.shard)) return 'shard must be a non-negative safe integer';
  if (!isCount(cp.tree_size)) return 'tree_size must be a non-negative safe integer';
  if (typeof cp.root_hash !== 'string' || !LOWER_HEX_SHA256.test(cp.root_hash))
    return 'root_hash must be 64 lowercase hex digits';
  if (!isUtcMillisTimestamp(cp.timestamp)) return 'timestamp must be RFC 3339 UTC with milliseconds';
  return null;
}

/** Whether `value` is an existing instant written exactly as Date.prototype.toISOString writes it. */
export function isUtcMillisTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !UTC_MILLIS.test(value)) return false;
  const time = Date.parse(value);
  // Round-tripping rejects dates that do not exist (2026-02-30) but match the pattern.
  return Number.isFinite(time) && new Date(time).toISOString() === value;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export class CheckpointError extends AppError {
  override readonly name = 'CheckpointError';
  readonly code = 'BAD_CHECKPOINT';
}
