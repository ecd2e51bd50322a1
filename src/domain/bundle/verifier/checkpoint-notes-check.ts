/**
 * checkpoint-notes.jsonl (format version 2): each shard's anchor checkpoint as a C2SP signed
 * note, with the witnesses' cosignatures the ledger held. The note must restate the anchor that
 * checkpoints.jsonl verified (origin `<origin>/shard/<n>`, size, root) and carry a valid note
 * signature by one of the keys. With a witness policy, k of its witnesses must have cosigned
 * every anchor; the other checkpoints of a shard are proven prefixes of its anchor (consistency
 * proofs), so a witnessed anchor vouches for them: none can be a fork the witnesses did not see.
 */
import type { Jwks } from '../../checkpoint/signing-key.js';
import { NoteError } from '../../note/note-error.js';
import { ed25519NoteVerifier, type NoteVerifier } from '../../note/note-keys.js';
import { verifyNote } from '../../note/signed-note.js';
import { formatCheckpoint, shardOrigin } from '../../note/tlog-checkpoint.js';
import { countCosignatures } from '../../witness/witness-policy.js';
import type { ArchiveEntry, FileDigest } from '../bundle-archive.js';
import { checkpointNoteLineDefect, FILE, type CheckpointNoteLine } from '../bundle-format.js';
import type { BundleContext } from './bundle-context.js';
import { fail } from './bundle-problem.js';
import { parseCanonical } from './bundle-parse.js';
import type { CheckpointRoots } from './checkpoints-check.js';

/** What the notes say about one shard's anchor. */
export interface AnchorCosigners {
  shard: number;
  tree_size: number;
  /** The policy's witnesses whose cosignature verified (empty without a policy). */
  cosigners: string[];
}

export class CheckpointNotesCheck {
  readonly anchors: AnchorCosigners[] = [];

  constructor(
    private readonly ctx: BundleContext,
    private readonly roots: CheckpointRoots,
  ) {}

  async read(entry: ArchiveEntry, digest: FileDigest): Promise<void> {
    const manifest = this.ctx.requireManifest(FILE.checkpointNotes);
    const shards = manifest.shards;
    let lineNo = 0;
    for await (const bytes of this.ctx.linesOf(entry, digest, FILE.checkpointNotes)) {
      lineNo++;
      const where = { file: FILE.checkpointNotes, line: lineNo };
      const value = parseCanonical(bytes, where.file, where.line);
      const defect = checkpointNoteLineDefect(value);
      if (defect !== null) fail({ code: 'BAD_LINE', ...where, message: defect });
      const line = value as CheckpointNoteLine;
      const expected = shards[lineNo - 1];
      if (!expected || line.shard !== expected.shard || line.tree_size !== expected.tree_size) {
        fail({
          code: 'BAD_CHECKPOINT_NOTE',
          ...where,
          expected: expected ? `shard ${expected.shard} tree_size ${expected.tree_size}` : 'no more lines',
          found: `shard ${line.shard} tree_size ${line.tree_size}`,
          message: "one line per manifest shard, in the manifest's order, for the shard's anchor",
        });
      }
      this.checkLine(line, where);
    }
    if (lineNo !== shards.length) {
      fail({
        code: 'BAD_CHECKPOINT_NOTE',
        file: FILE.checkpointNotes,
        expected: `${shards.length} lines`,
        found: `${lineNo}`,
        message: 'one line per manifest shard',
      });
    }
    this.ctx.checkFileDigest(FILE.checkpointNotes, digest);
  }

  private checkLine(line: CheckpointNoteLine, where: { file: string; line: number }): void {
    const origin = shardOrigin(this.ctx.manifest!.origin, line.shard);
    const root = this.roots.rootAt(line.shard, line.tree_size)!;
    let text: string;
    let signatures;
    try {
      text = formatCheckpoint({ origin, treeSize: line.tree_size, rootHash: root });
      const verified = verifyNote(line.note, noteVerifiers(origin, this.ctx.jwks!));
      if (verified.text !== text) {
        fail({
          code: 'BAD_CHECKPOINT_NOTE',
          ...where,
          expected: JSON.stringify(text),
          found: JSON.stringify(verified.text),
          message: `the note of shard ${line.shard} is not its anchor checkpoint (origin, size, root)`,
        });
      }
      signatures = verified.signatures;
    } catch (e) {
      if (e instanceof NoteError) {
        const message = `the note of shard ${line.shard} does not verify with ${this.ctx.keySource}: ${e.message} (${e.code})`;
        fail({ code: 'BAD_CHECKPOINT_NOTE', ...where, message });
      }
      throw e;
    }
    const policy = this.ctx.opts.witnessPolicy;
    if (!policy) {
      this.anchors.push({ shard: line.shard, tree_size: line.tree_size, cosigners: [] });
      return;
    }
    const counted = countCosignatures(text, signatures, policy);
    if (!counted.satisfied) {
      const invalid = counted.invalid.length > 0 ? ` (invalid: ${counted.invalid.join(', ')})` : '';
      fail({
        code: 'QUORUM_NOT_MET',
        ...where,
        expected: `${policy.quorum} valid cosignatures`,
        found: `${counted.cosigners.length}`,
        message: `the anchor of shard ${line.shard} (tree_size ${line.tree_size}) has ${counted.cosigners.length} valid cosignatures of the ${policy.quorum} required${invalid}`,
      });
    }
    this.anchors.push({ shard: line.shard, tree_size: line.tree_size, cosigners: counted.cosigners });
  }
}

/** A note verifier for `origin` per Ed25519 key of the JWKS: the ledger signs notes with its checkpoint key. */
function noteVerifiers(origin: string, jwks: Jwks): NoteVerifier[] {
  const xs = new Set<string>();
  for (const k of jwks.keys ?? []) if (k?.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string') xs.add(k.x);
  return [...xs].map((x) => ed25519NoteVerifier(origin, Buffer.from(x, 'base64url')));
}
