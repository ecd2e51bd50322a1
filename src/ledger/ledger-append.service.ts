import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PoolClient } from 'pg';
import { CONFIG } from '../config/config.module.js';
import type { SigningConfig } from '../config/app-config.js';
import { consistencyProof, readerWithKnownNodes, type NodeReader } from '../domain/merkle/prover.js';
import { completeSubtrees, type StoredNode } from '../domain/merkle/range.js';
import { tilesAfterAppend } from '../domain/merkle/tiles.js';
import { summarizeBatch } from '../domain/summary/batch-summaries.js';
import { signCheckpoint, type Checkpoint } from '../domain/checkpoint/checkpoint-jws.js';
import type { DecodedItem, Poison, PreparedRecord } from './ledger-input.js';
import { planAppend, type ShardHead } from './append-plan.js';
import { prepareRecord } from './prepare-record.js';
import {
  INLINE_RECORDS_MAX,
  LedgerAppendRepository,
  type OffsetMove,
  type QuarantineRow,
  type StoredCheckpointRow,
} from './ledger-append.repository.js';
import { SigningKeyService } from './signing-key.service.js';
import { AppError } from '../common/app-error.js';

export interface AppendBatchInput {
  topic: string;
  partition: number;
  groupId: string;
  /** Items in offset order, from the decoded Kafka batch. */
  items: DecodedItem[];
  /** Offset after the last message of the batch: what the next batch must start at. */
  nextOffset: string;
  /**
   * The broker's log start offset for this partition, when the caller has checked it: a batch
   * that starts after the stored offset is accepted only if the missing messages are below it
   * (trimmed by retention: gone for good). Otherwise appendBatch throws OffsetGapError.
   */
  acceptGapFrom?: string;
  /** Called inside the transaction, before commit, with everything being quarantined. */
  deadLetter?: (rows: QuarantineRow[]) => Promise<void>;
  /**
   * The writer's claim on the partition, for a consumer in a group. `confirm` runs just before
   * COMMIT and throws when the writer no longer owns the partition; PostgreSQL ends the transaction
   * once it stays idle longer than `leaseMs` (a writer paused that long has lost the partition and
   * must not commit; the next owner waits on the shard lock until then).
   */
  ownership?: { confirm: () => Promise<void>; leaseMs: number };
}

export interface AppendBatchResult {
  appended: number;
  duplicates: number;
  conflicts: number;
  quarantined: number;
  /** Messages below the stored offset: already committed by an earlier run. */
  alreadyConsumed: number;
  /** Set when the batch starts after the stored offset (the broker trimmed or skipped data). */
  gap?: { expected: string; got: string };
  checkpoint?: StoredCheckpointRow & { payload: Checkpoint };
}

/** A batch began after the stored offset: the messages in between were never appended. */
export class OffsetGapError extends AppError {
  readonly code = 'OFFSET_GAP';
  constructor(
    readonly partition: number,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`partition ${partition}: the ledger stored up to offset ${expected} but the batch starts at ${got}`);
  }
}

/** SQLSTATE of a session PostgreSQL ended for idling in a transaction past idle_in_transaction_session_timeout. */
const IDLE_IN_TRANSACTION_TIMEOUT = '25P03';

/**
 * The append transaction stayed idle past the writer's ownership lease (its process was paused,
 * say) and PostgreSQL ended it: nothing was committed, and the partition may have another owner.
 */
export class OwnershipLeaseExpiredError extends AppError {
  readonly code = 'OWNERSHIP_LEASE_EXPIRED';
  constructor(partition: number, leaseMs: number, options?: { cause?: unknown }) {
    super(
      `partition ${partition}: the append transaction stayed idle longer than the ${leaseMs} ms lease and was ended uncommitted`,
      options,
    );
  }
}

/**
 * Appends one Kafka batch to its shard in ONE PostgreSQL transaction: records, Merkle
 * nodes, shard and tenant heads, quarantine, the consumed offset and a signed checkpoint.
 * A crash anywhere leaves either all of it or none of it, so redelivery can neither lose
 * nor duplicate (the stored offset filters what was already committed).
 */
@Injectable()
export class LedgerAppendService {
  constructor(
    @Inject(CONFIG.signing) private readonly signing: SigningConfig,
    private readonly db: DataSource,
    private readonly keys: SigningKeyService,
    private readonly repo: LedgerAppendRepository,
  ) {}

  async appendBatch(input: AppendBatchInput): Promise<AppendBatchResult> {
    const key = await this.keys.current();
    // Pure CPU work first, outside the transaction: the shard lock is held only for I/O.
    const prepared = prepareBatch(input.items);
    const qr = this.db.createQueryRunner('master');
    const client = (await qr.connect()) as PoolClient;
    // A connection PostgreSQL ends (the ownership lease ran out) reports it on the client as well as
    // to the next query; without a listener that event would end the process.
    let ended: Error | undefined;
    const onEnded = (e: Error) => (ended ??= e);
    client.on('error', onEnded);
    try {
      const head = await this.repo.beginAndLockShard(client, input.partition, input.ownership?.leaseMs);
      const result = await this.appendInTransaction(client, input, prepared, key, head);
      // Last, so that a pause anywhere before it (even one PostgreSQL sees as a busy statement, a COPY
      // waiting for its rows) is caught here; from here to COMMIT the transaction idles, under the lease.
      await input.ownership?.confirm();
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: string }).code ?? (ended as { code?: string } | undefined)?.code;
      if (input.ownership && code === IDLE_IN_TRANSACTION_TIMEOUT) {
        throw new OwnershipLeaseExpiredError(input.partition, input.ownership.leaseMs, { cause: e });
      }
      throw e;
    } finally {
      await qr.release();
      client.removeListener('error', onEnded);
    }
  }

  private async appendInTransaction(
    c: PoolClient,
    input: AppendBatchInput,
    prepared: PreparedBatch,
    key: SigningKey,
    head: ShardHead,
  ): Promise<AppendBatchResult> {
    const shard = input.partition;
    const state = await this.repo.batchState(c, {
      groupId: input.groupId,
      topic: input.topic,
      partition: input.partition,
      shard,
      tenants: prepared.tenants,
    });
    const stored = state.nextOffset;
    const fresh = stored === null ? prepared.items : prepared.items.filter((i) => BigInt(i.offset) >= stored);
    const result: AppendBatchResult = {
      appended: 0,
      duplicates: 0,
      conflicts: 0,
      quarantined: 0,
      alreadyConsumed: prepared.items.length - fresh.length,
    };
    if (stored !== null && fresh.length > 0 && BigInt(fresh[0].offset) > stored) {
      // The batch skips messages the ledger never stored. Unless the caller knows they are gone
      // from the broker, refuse: appending would make the skip permanent.
      const low = input.acceptGapFrom === undefined ? undefined : BigInt(input.acceptGapFrom);
      const gone = low !== undefined && stored < low && BigInt(fresh[0].offset) <= low;
      if (!gone) {
        throw new OffsetGapError(input.partition, stored.toString(), fresh[0].offset);
      }
      result.gap = { expected: stored.toString(), got: fresh[0].offset };
    }
    if (fresh.length === 0) return result;

    const quarantine: QuarantineRow[] = [];
    const source = { topic: input.topic, partition: input.partition };
    // The unique key of event_ids is the real guard, and the claim is the one lookup: every id is
    // claimed ledger-wide, and the ones already held come back with their stored content hash, in
    // this shard (a re-delivery) or another (a re-keyed producer, a changed partition count). The
    // hash tells a re-delivery (same content: a no-op) from a conflict (quarantined, never
    // overwritten).
    const claims = new Map<string, Buffer>();
    for (const item of fresh) {
      if (item.kind === 'prepared' && !claims.has(item.eventId)) claims.set(item.eventId, item.contentSha256);
    }
    const seen = await this.repo.claimEventIds(
      c,
      shard,
      [...claims].map(([eventId, contentSha256]) => ({ eventId, contentSha256 })),
    );
    const fresher: PreparedRecord[] = [];
    for (const item of fresh) {
      if (item.kind === 'poison') {
        quarantine.push({
          reasonCode: item.reasonCode,
          reason: item.reason,
          eventId: item.eventId,
          headers: item.headers,
          payload: item.payload,
          ...source,
          offset: item.offset,
        });
        continue;
      }
      const prior = seen.get(item.eventId);
      if (!prior) {
        seen.set(item.eventId, item.contentSha256);
        fresher.push(item);
      } else if (prior.equals(item.contentSha256)) {
        result.duplicates++;
      } else {
        result.conflicts++;
        quarantine.push({
          reasonCode: 'CONFLICT',
          reason: `event_id ${item.eventId} already in the ledger with different content (existing ${prior.toString('hex')}, incoming ${item.contentSha256.toString('hex')})`,
          eventId: item.eventId,
          existingSha256: prior,
          incomingSha256: item.contentSha256,
          headers: {},
          payload: Buffer.from(item.json),
          ...source,
          offset: item.offset,
        });
      }
    }

    if (quarantine.length > 0) {
      await input.deadLetter?.(quarantine);
      await this.repo.quarantine(c, shard, quarantine);
      result.quarantined = quarantine.length;
    }
    const offset: OffsetMove = {
      groupId: input.groupId,
      topic: input.topic,
      partition: input.partition,
      expected: stored === null ? null : stored.toString(),
      nextOffset: input.nextOffset,
    };
    if (fresher.length === 0) {
      await this.repo.storeOffset(c, shard, offset);
      return result;
    }
    const plan = planAppend(head, state.tenantHeads, fresher);
    const tiles = tilesAfterAppend(state.partialTiles, plan.nodes);
    // A small batch's records ride in the closing statement; a large one's go by COPY, the fastest bulk path.
    const inline = plan.entries.length <= INLINE_RECORDS_MAX;
    if (!inline) await this.repo.insertRecords(c, plan.entries);
    // The proof from the previous checkpoint reads the old frontier and this append's nodes.
    const known = [...frontierNodes(head), ...plan.nodes];
    const checkpoint = await this.checkpoint(
      plan.head,
      state.checkpointSize,
      key,
      readerWithKnownNodes(known, this.repo.nodeReader(c, shard, tiles)),
    );
    const summaries = summarizeBatch(plan.entries.map((e) => e.record));
    await this.repo.closeBatch(
      c,
      {
        shard,
        fromSize: head.treeSize,
        head: plan.head,
        tenantHeads: plan.tenantHeads,
        tiles,
        checkpoint,
        summaries: summaries.traffic,
        findingSummaries: summaries.findings,
        costSummaries: summaries.costs,
      },
      offset,
      inline ? plan.entries : undefined,
    );
    result.appended = plan.entries.length;
    result.checkpoint = checkpoint;
    return result;
  }

  /** Signs the new tree head, with the consistency proof from the shard's previous checkpoint. */
  private async checkpoint(
    head: { shard: number; treeSize: number; root: Buffer },
    prevSize: number | null,
    key: SigningKey,
    nodes: NodeReader,
  ) {
    const proof = prevSize && prevSize < head.treeSize ? await consistencyProof(nodes, prevSize, head.treeSize) : [];
    const payload: Checkpoint = {
      origin: this.signing.ledgerOrigin,
      shard: head.shard,
      tree_size: head.treeSize,
      root_hash: head.root.toString('hex'),
      timestamp: new Date().toISOString(),
    };
    const row: StoredCheckpointRow = {
      shard: head.shard,
      treeSize: head.treeSize,
      rootHash: head.root,
      signedAt: new Date(payload.timestamp),
      kid: key.kid,
      jws: await signCheckpoint(payload, key),
      prevTreeSize: prevSize,
      consistencyProof: proof,
    };
    return { ...row, payload };
  }
}

type SigningKey = Awaited<ReturnType<SigningKeyService['current']>>;

/** A batch with every record prepared, and the tenants whose heads the append reads. */
interface PreparedBatch {
  items: Array<Poison | PreparedRecord>;
  tenants: string[];
}

/**
 * Prepares the records a caller passed as objects (prepareRecord: canonicalized once, so the
 * content hash, the leaf and the stored column all use the same bytes); items a decode worker
 * prepared already pass through.
 */
function prepareBatch(items: DecodedItem[]): PreparedBatch {
  const tenants = new Set<string>();
  const out = items.map((item) => {
    if (item.kind === 'poison') return item;
    const prepared = item.kind === 'prepared' ? item : prepareRecord(item.offset, item.record);
    tenants.add(prepared.tenantId);
    return prepared;
  });
  return { items: out, tenants: [...tenants] };
}

/** The old tree's frontier as stored nodes: one maximal complete subtree per set bit of its size. */
function frontierNodes(head: { treeSize: number; frontier: Buffer[] }): StoredNode[] {
  return completeSubtrees({ begin: 0, end: head.treeSize }).map((id, i) => ({ ...id, hash: head.frontier[i] }));
}
