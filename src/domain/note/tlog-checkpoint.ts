/**
 * C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint): the note text
 *
 *   <origin>\n<tree size in decimal>\n<base64 root hash>\n[extension lines]
 *
 * Each shard of the ledger is its own log with its own origin, `<ledger origin>/shard/<n>`, so
 * a witness or client follows one shard like any other tiled log. The log signs with the key
 * name equal to the origin, as the spec recommends.
 */
import { HASH_SIZE } from '../merkle/hasher.js';
import { NoteError } from './note-error.js';
import { decodeBase64, keyNameDefect } from './note-keys.js';

export interface TlogCheckpoint {
  origin: string;
  treeSize: number;
  rootHash: Buffer;
  /** Opaque extension lines; the ledger writes none. */
  extensions?: string[];
}

/** The origin (and key name) of one shard's log. */
export function shardOrigin(ledgerOrigin: string, shard: number): string {
  if (!Number.isSafeInteger(shard) || shard < 0)
    throw new NoteError('BAD_CHECKPOINT', `shard ${shard} is not a non-negative integer`);
  return `${ledgerOrigin}/shard/${shard}`;
}

/** The checkpoint's note text. Throws BAD_CHECKPOINT for anything the parser would refuse. */
export function formatCheckpoint(cp: TlogCheckpoint): string {
  // The origin is also the key name, so it must satisfy both rules.
  const defect = keyNameDefect(cp.origin);
  if (defect !== null) throw new NoteError('BAD_CHECKPOINT', `origin: ${defect}`);
  if (!Number.isSafeInteger(cp.treeSize) || cp.treeSize < 0)
    throw new NoteError('BAD_CHECKPOINT', `tree size ${cp.treeSize} is not a count`);
  if (!(cp.rootHash instanceof Uint8Array) || cp.rootHash.length !== HASH_SIZE)
    throw new NoteError('BAD_CHECKPOINT', `root hash must be ${HASH_SIZE} bytes`);
  const extensions = cp.extensions ?? [];
  if (extensions.some((e) => e === '' || e.includes('\n')))
    throw new NoteError('BAD_CHECKPOINT', 'extension lines must be non-empty single lines');
  return [cp.origin, String(cp.treeSize), Buffer.from(cp.rootHash).toString('base64'), ...extensions].join('\n') + '\n';
}

/**
 * The checkpoint in a note text (unverified: verify the note first). At least three non-empty
 * lines; tree size decimal without leading zeroes, at most 2^53 − 1; root hash the canonical
 * base64 of 32 bytes. Throws BAD_CHECKPOINT.
 */
export function parseCheckpoint(text: string): TlogCheckpoint {
  const bad = (why: string) => new NoteError('BAD_CHECKPOINT', why);
  if (typeof text !== 'string' || !text.endsWith('\n')) throw bad('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad('checkpoint needs origin, tree size and root hash lines');
  if (lines.some((l) => l === '')) throw bad('checkpoint lines must be non-empty');
  const [origin, size, root, ...extensions] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(size))
    throw bad(`tree size ${JSON.stringify(size)} is not a decimal without leading zeroes`);
  const treeSize = Number(size);
  if (!Number.isSafeInteger(treeSize)) throw bad(`tree size ${size} is beyond 2^53 - 1`);
  const rootHash = decodeBase64(root);
  if (!rootHash || rootHash.length !== HASH_SIZE) throw bad('root hash is not the base64 of 32 bytes');
  return { origin, treeSize, rootHash, ...(extensions.length > 0 ? { extensions } : {}) };
}
