import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PoolClient } from 'pg';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { contentHash } from '../domain/ledger-entry/ledger-entry.js';
import { consistencyProof } from '../domain/merkle/prover.js';
import { signCheckpoint, type Checkpoint } from '../domain/checkpoint/checkpoint-jws.js';
import { deriveSignals } from '../domain/record/derive-signals.js';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import type { DecodedItem } from '../ingest/decode-batch.js';
import { planAppend } from './append-plan.js';
import { LedgerAppendRepository, type QuarantineRow, type RecordRow, type StoredCheckpointRow } from './ledger-append.repository.js';
import { SigningKeyService } from './signing-key.service.js';

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
export class OffsetGapError extends Error {
  readonly code = 'OFFSET_GAP';
  constructor(readonly partition: number, readonly expected: string, readonly got: string) {
    super(`partition ${partition}: the ledger stored up to offset ${expected} but the batch starts at ${got}`);
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
  private readonly log = new Logger(LedgerAppendService.name);
  private readonly repo = new LedgerAppendRepository();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
    private readonly keys: SigningKeyService,
  ) {}

  async appendBatch(input: AppendBatchInput): Promise<AppendBatchResult> {
    const key = await this.keys.current();
    const qr = this.db.createQueryRunner('master');
    const client = (await qr.connect()) as PoolClient;
    try {
      await client.query('BEGIN');
      const result = await this.appendInTransaction(client, input, key);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      await qr.release();
    }
  }

  private async appendInTransaction(c: PoolClient, input: AppendBatchInput, key: Awaited<ReturnType<SigningKeyService['current']>>): Promise<AppendBatchResult> {
    const shard = input.partition;
    const head = await this.repo.lockShard(c, shard);
    const stored = await this.repo.nextOffset(c, input.groupId, input.topic, input.partition);
    const fresh = stored === null ? input.items : input.items.filter((i) => BigInt(i.offset) >= stored);
    const result: AppendBatchResult = { appended: 0, duplicates: 0, conflicts: 0, quarantined: 0, alreadyConsumed: input.items.length - fresh.length };
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
    const candidates: Array<{ record: CanonicalRecord; hash: Buffer }> = [];
    for (const item of fresh) {
      if (item.kind === 'poison') {
        quarantine.push({ reasonCode: item.reasonCode, reason: item.reason, eventId: item.eventId, headers: item.headers, payload: item.payload, ...source, offset: item.offset });
      } else {
        candidates.push({ record: item.record, hash: contentHash(item.record) });
      }
    }

    // The unique key on event_id is the real guard; this read (under the shard lock) only
    // tells a re-delivery (same content: a no-op) from a conflict (quarantined, never overwritten).
    const seen = await this.repo.existingContentHashes(c, candidates.map((x) => x.record.event_id));
    const fresher: Array<{ record: CanonicalRecord; hash: Buffer }> = [];
    for (const x of candidates) {
      const prior = seen.get(x.record.event_id);
      if (!prior) {
        seen.set(x.record.event_id, x.hash);
        fresher.push(x);
      } else if (prior.equals(x.hash)) {
        result.duplicates++;
      } else {
        result.conflicts++;
        quarantine.push({
          reasonCode: 'CONFLICT',
          reason: `event_id ${x.record.event_id} already in the ledger with different content (existing ${prior.toString('hex')}, incoming ${x.hash.toString('hex')})`,
          eventId: x.record.event_id, existingSha256: prior, incomingSha256: x.hash,
          headers: {}, payload: Buffer.from(JSON.stringify(x.record)), ...source, offset: x.record.source.offset,
        });
      }
    }

    if (fresher.length > 0) {
      const tenants = [...new Set(fresher.map((x) => x.record.tenant_id))];
      const plan = planAppend(head, await this.repo.tenantHeads(c, shard, tenants), fresher.map((x) => x.record));
      const rows: RecordRow[] = plan.entries.map((planned, i) => ({ planned, contentSha256: fresher[i].hash, signals: deriveSignals(planned.record) }));
      await this.repo.insertRecords(c, rows);
      await this.repo.insertNodes(c, shard, plan.nodes);
      await this.repo.advanceShardHead(c, head.treeSize, plan.head);
      await this.repo.upsertTenantHeads(c, shard, plan.tenantHeads);
      result.appended = rows.length;
      result.checkpoint = await this.checkpoint(c, plan.head, key);
    }
    if (quarantine.length > 0) {
      await input.deadLetter?.(quarantine);
      await this.repo.quarantine(c, quarantine);
      result.quarantined = quarantine.length;
    }
    await this.repo.storeOffset(c, input.groupId, input.topic, input.partition, input.nextOffset);
    return result;
  }

  /** Signs the new tree head, with the consistency proof from the shard's previous checkpoint. */
  private async checkpoint(c: PoolClient, head: { shard: number; treeSize: number; root: Buffer }, key: Awaited<ReturnType<SigningKeyService['current']>>) {
    const prevSize = await this.repo.latestCheckpointSize(c, head.shard);
    const proof = prevSize && prevSize < head.treeSize
      ? await consistencyProof(this.repo.nodeReader(c, head.shard), prevSize, head.treeSize)
      : [];
    const payload: Checkpoint = {
      origin: this.config.ledgerOrigin,
      shard: head.shard,
      tree_size: head.treeSize,
      root_hash: head.root.toString('hex'),
      timestamp: new Date().toISOString(),
    };
    const row: StoredCheckpointRow = {
      shard: head.shard, treeSize: head.treeSize, rootHash: head.root, signedAt: new Date(payload.timestamp),
      kid: key.kid, jws: await signCheckpoint(payload, key), prevTreeSize: prevSize, consistencyProof: proof,
    };
    await this.repo.insertCheckpoint(c, row);
    return { ...row, payload };
  }
}
