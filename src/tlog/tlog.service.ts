import { Inject, Injectable, Optional } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { SigningConfig, WitnessConfig } from '../config/app-config.js';
import { scopeIncludes, type TenantScope } from '../auth/principal.js';
import { inclusionProof } from '../domain/merkle/prover.js';
import { formatTlogProof } from '../domain/witness/tlog-proof.js';
import { EMPTY_POLICY } from '../domain/witness/witness-policy.js';
import { verifyCheckpoint } from '../domain/checkpoint/checkpoint-jws.js';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import { ledgerEntryBytesWithRecordJson } from '../domain/ledger-entry/ledger-entry.js';
import { encodeEntryBundle } from '../domain/merkle/entry-bundle.js';
import { leafHash } from '../domain/merkle/hasher.js';
import { TILE_WIDTH } from '../domain/merkle/tiles.js';
import { ed25519AsyncNoteSigner, formatVerifierKey } from '../domain/note/note-keys.js';
import { formatSignatureLines, signNoteAsync } from '../domain/note/signed-note.js';
import { formatCheckpoint, shardOrigin } from '../domain/note/tlog-checkpoint.js';
import { LedgerReadRepository, type CheckpointRow } from '../ledger/ledger-read.repository.js';
import {
  LedgerNotFoundError,
  LedgerService,
  type ReceiptWitnessing,
  type SourcedRead,
} from '../ledger/ledger.service.js';
import type { Receipt } from '../domain/receipt/receipt.js';
import { SigningKeyService } from '../ledger/signing-key.service.js';
import { TlogRepository } from './tlog.repository.js';
import { WitnessRepository } from './witness.repository.js';
import { AppError } from '../common/app-error.js';

const NOTE_CACHE_SIZE = 64;

/** The stored ledger no longer matches what was signed: never served, always logged. */
export class TlogIntegrityError extends AppError {
  readonly code = 'INTEGRITY';
}

/**
 * The ledger as C2SP tiled logs, one per shard: checkpoints as signed notes, tiles, entry bundles.
 *
 * Notes are signed when served, not at append: the append transaction (the ingest hot path)
 * stays as it is, and the note restates a checkpoint the append already signed as a JWS. The
 * JWS is verified first, so a row altered in the database is refused rather than re-signed.
 * Ed25519 is deterministic, so the same checkpoint and key always give the same note; the
 * last few notes are kept, each until the key changes.
 */
@Injectable()
export class TlogService {
  /** Notes by checkpoint JWS, oldest first. */
  private readonly notes = new Map<string, { kid: string; note: string }>();

  constructor(
    @Inject(CONFIG.signing) private readonly signing: SigningConfig,
    private readonly keys: SigningKeyService,
    private readonly ledger: LedgerReadRepository,
    private readonly repo: TlogRepository,
    private readonly ledgerService: LedgerService,
    // Optional: without witnessing (a test app, a CLI) notes carry the log's signature only.
    @Optional() private readonly witnesses?: WitnessRepository,
    @Optional() @Inject(CONFIG.witness) private readonly witnessing?: WitnessConfig,
  ) {}

  /** One verifier key per shard, for the key that signs notes now (see docs/ledger-format.md §14). */
  async verifierKeys(): Promise<string> {
    const key = await this.keys.current();
    const publicKey = Buffer.from(key.publicJwk.x as string, 'base64url');
    const shards = await this.repo.shards();
    return shards.map((s) => `${formatVerifierKey(shardOrigin(this.signing.ledgerOrigin, s), publicKey)}\n`).join('');
  }

  /**
   * The shard's checkpoint as a signed note followed by the witnesses' cosignatures of it
   * (tlog-cosignature: they are note signature lines too). With a witness policy of quorum k,
   * that is the newest checkpoint k witnesses cosigned, so that a client enforcing the policy
   * can use what it is served; the latest one until any is. Without a policy, the latest.
   */
  async checkpointNote(shard: number): Promise<string> {
    const { witnesses, quorum } = this.witnessing?.policy ?? EMPTY_POLICY;
    const size =
      quorum > 0 && this.witnesses
        ? await this.witnesses.newestCosigned(
            shard,
            witnesses.map((w) => w.name),
            quorum,
          )
        : undefined;
    const [row] =
      size !== undefined
        ? [await this.ledger.checkpointAt(shard, size)]
        : await this.ledger.checkpoints(shard, { order: 'desc', limit: 1 });
    if (!row) throw new LedgerNotFoundError(`shard ${shard} has no checkpoint`);
    return this.cosignedNote(row);
  }

  /**
   * A record's JSON receipt on the checkpoint its tlog-proof uses (the smallest covering one the
   * policy's quorum cosigned, when there is one), with that checkpoint's stored cosignatures as
   * note signature lines: they sign the note body the receipt's JWS restates, so the log's own
   * note signature is not needed beside the JWS.
   */
  async receipt(eventId: string, scope?: TenantScope): Promise<Receipt> {
    return (await this.sourcedReceipt(eventId, scope)).value;
  }

  /**
   * receipt(), and where it was read. Without witnesses there are no cosignatures to add and the
   * covering checkpoint is the one to use, so the ledger's own receipt (a replica may answer) is it.
   */
  sourcedReceipt(eventId: string, scope?: TenantScope): Promise<SourcedRead<Receipt>> {
    if (!this.witnessing?.policy.witnesses.length) return this.ledgerService.sourcedReceipt(eventId, scope);
    const witnessing: ReceiptWitnessing = {
      checkpointFor: (shard, index) => this.proofCheckpoint(shard, index),
      cosignatureLines: async (row) => (await this.storedCosignatures(row)).split('\n').filter((l) => l !== ''),
    };
    return this.ledgerService.sourcedReceipt(eventId, scope, witnessing);
  }

  /** The note of a stored checkpoint with its stored cosignatures appended. */
  async cosignedNote(row: CheckpointRow): Promise<string> {
    const note = await this.signedNote(row);
    return note + (await this.storedCosignatures(row));
  }

  /** The stored cosignatures of exactly this checkpoint, as note signature lines. */
  private async storedCosignatures(row: CheckpointRow): Promise<string> {
    const cosignatures = (await this.witnesses?.cosignatures(row.shard, row.treeSize, row.rootHash)) ?? [];
    return formatSignatureLines(cosignatures.map((c) => ({ name: c.witness, keyId: c.keyId, signature: c.signature })));
  }

  /**
   * A stored checkpoint as a note signed by the log's current key, once its JWS is verified
   * (a row altered in the database is refused, never re-signed). The last NOTE_CACHE_SIZE
   * notes are kept, each until the key changes.
   */
  async signedNote(row: CheckpointRow): Promise<string> {
    const shard = row.shard;
    const key = await this.keys.current();
    const cached = this.notes.get(row.jws);
    if (cached && cached.kid === key.kid) return cached.note;
    const cp = await verifyCheckpoint(row.jws, (await this.keys.jwks()) as Jwks, {
      shard,
      origin: this.signing.ledgerOrigin,
    });
    if (cp.tree_size !== row.treeSize || cp.root_hash !== row.rootHash.toString('hex')) {
      throw new TlogIntegrityError(`shard ${shard}: the stored checkpoint row differs from its signed JWS`);
    }
    const origin = shardOrigin(cp.origin, shard);
    const text = formatCheckpoint({ origin, treeSize: cp.tree_size, rootHash: Buffer.from(cp.root_hash, 'hex') });
    const note = await signNoteAsync(text, [ed25519AsyncNoteSigner(origin, key)]);
    // A few notes: the one served (the newest cosigned) and the latest (being witnessed) alternate.
    if (this.notes.size >= NOTE_CACHE_SIZE) this.notes.delete(this.notes.keys().next().value!);
    this.notes.set(row.jws, { kid: key.kid, note });
    return note;
  }

  /**
   * A record's c2sp.org/tlog-proof@v1: its leaf input as `extra`, its index, the inclusion proof
   * and the cosigned note of the smallest checkpoint covering it that the policy's quorum of
   * witnesses cosigned. Until one exists (the witnesses lag or are down) the latest checkpoint
   * is used, with whatever cosignatures it has: a verifier with the policy refuses that proof,
   * and asking again later gives one it accepts.
   */
  async tlogProof(eventId: string, scope?: TenantScope): Promise<string> {
    if (eventId.includes('\u0000')) throw new LedgerNotFoundError('no record with that event_id');
    const row = await this.ledger.entryByEventId(eventId);
    if (!row || (scope && !scopeIncludes(scope, row.entry.tenant_id)))
      throw new LedgerNotFoundError(`no record with event_id ${eventId}`);
    const { shard, index } = row.entry;
    const checkpoint = await this.proofCheckpoint(shard, index);
    if (!checkpoint) throw new LedgerNotFoundError(`record ${eventId} is not yet covered by a signed checkpoint`);
    const [stored] = await this.repo.entries(shard, index, index + 1);
    if (!stored) throw new LedgerNotFoundError(`record ${eventId} is not yet in the tree`);
    const leafInput = ledgerEntryBytesWithRecordJson(stored.entry, stored.recordJson);
    if (!leafHash(leafInput).equals(stored.leafHash))
      throw new TlogIntegrityError(`shard ${shard}: leaf ${index} no longer hashes to its stored leaf hash`);
    const proof = await inclusionProof(this.ledger.nodeReader(shard), index, checkpoint.treeSize);
    return formatTlogProof({
      extra: leafInput,
      index,
      inclusionProof: proof,
      note: await this.cosignedNote(checkpoint),
    });
  }

  private async proofCheckpoint(shard: number, index: number): Promise<CheckpointRow | undefined> {
    const { witnesses, quorum } = this.witnessing?.policy ?? EMPTY_POLICY;
    if (quorum === 0 || !this.witnesses) return this.ledger.checkpointCovering(shard, index);
    const size = await this.witnesses.smallestCosignedCovering(
      shard,
      index,
      witnesses.map((w) => w.name),
      quorum,
    );
    if (size !== undefined) return this.ledger.checkpointAt(shard, size);
    const [latest] = await this.ledger.checkpoints(shard, { order: 'desc', limit: 1 });
    return latest && latest.treeSize > index ? latest : undefined;
  }

  /**
   * The first `width` hashes of tile (level, index). A full tile (width 256) exists once the tree
   * has filled it; a partial request is answered from whatever is stored at that position, full
   * or partial, since a narrower tile is always a prefix of a wider one.
   */
  async tile(shard: number, level: number, index: number, width: number): Promise<Buffer> {
    const stored = await this.repo.tile(shard, level, index);
    if (!stored || (width === TILE_WIDTH && !stored.full) || stored.hashes.length < width * 32) {
      throw new LedgerNotFoundError(`shard ${shard} has no tile ${level}/${index} of width ${width}`);
    }
    return stored.hashes.subarray(0, width * 32);
  }

  /**
   * Entry bundle `index` of width `width`: each entry's leaf input (the ledger entry bytes with
   * the record's stored canonical text spliced in), checked against its stored leaf hash.
   */
  async entryBundle(shard: number, index: number, width: number): Promise<Buffer> {
    const from = index * TILE_WIDTH;
    const rows = await this.repo.entries(shard, from, from + width);
    if (rows.length !== width)
      throw new LedgerNotFoundError(`shard ${shard} has no entry bundle ${index} of width ${width}`);
    const entries = rows.map((r, i) => {
      if (r.entry.index !== from + i)
        throw new TlogIntegrityError(`shard ${shard}: leaf ${from + i} is missing from the records`);
      const bytes = ledgerEntryBytesWithRecordJson(r.entry, r.recordJson);
      if (!leafHash(bytes).equals(r.leafHash))
        throw new TlogIntegrityError(`shard ${shard}: leaf ${r.entry.index} no longer hashes to its stored leaf hash`);
      return bytes;
    });
    return encodeEntryBundle(entries);
  }
}
