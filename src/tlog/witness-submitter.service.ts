import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AppError } from '../common/app-error.js';
import type { WitnessConfig } from '../config/app-config.js';
import { CONFIG } from '../config/config.module.js';
import { consistencyProof } from '../domain/merkle/prover.js';
import { parseNote } from '../domain/note/signed-note.js';
import {
  formatAddCheckpointRequest,
  parseCosignatureLines,
  TLOG_SIZE_CONTENT_TYPE,
} from '../domain/witness/add-checkpoint.js';
import { cosignatureTimestamp } from '../domain/witness/cosignature.js';
import type { PolicyWitness } from '../domain/witness/witness-policy.js';
import { LedgerReadRepository, type CheckpointRow } from '../ledger/ledger-read.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TlogService } from './tlog.service.js';
import { WitnessRepository } from './witness.repository.js';

/** A witness answered something the protocol does not allow, or refused our checkpoint. */
export class WitnessSubmitError extends AppError {
  readonly code = 'WITNESS_SUBMIT';
  constructor(
    message: string,
    /** A refusal that means the witness saw another history (409 at equal size, 422): a possible fork. */
    readonly fork = false,
  ) {
    super(message);
  }
}

/** How many 409 resyncs one submission follows before giving up until the next round. */
const MAX_RESYNCS = 2;

export interface WitnessStatus {
  quorum: number;
  witnesses: Array<{
    name: string;
    url: string | null;
    shards: Array<{
      shard: number;
      tree_size: number;
      cosigned_size: number;
      lag: number;
      cosigned_at: string | null;
      failures: number;
      last_error: string | null;
      next_attempt_at: string;
    }>;
  }>;
}

/**
 * Sends each shard's latest checkpoint to every witness of the policy that has a URL
 * (tlog-witness add-checkpoint), with the consistency proof from the size that witness last
 * cosigned, and stores the cosignatures it returns.
 *
 * It runs beside ingest, never in it: it reads checkpoints the append already committed, so a
 * slow or dead witness delays cosignatures only. Failures back off exponentially per witness
 * and shard (WITNESS_INTERVAL_MS doubling up to WITNESS_MAX_BACKOFF_MS); a 409 resyncs to the
 * size the witness reports. Intermediate checkpoints a witness missed while down are not
 * submitted: cosigning the latest one covers every record below it. Of several instances, one
 * submits per witness and shard at a time (a lease in witness_state).
 */
@Injectable()
export class WitnessSubmitterService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(WitnessSubmitterService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly submissions: Counter<'witness' | 'result'>;
  private readonly lag: Gauge<'witness' | 'shard'>;

  constructor(
    @Inject(CONFIG.witness) private readonly config: WitnessConfig,
    private readonly ledger: LedgerReadRepository,
    private readonly tlog: TlogService,
    private readonly repo: WitnessRepository,
    metrics: MetricsService,
  ) {
    this.submissions = new Counter({
      name: 'routing_ledger_witness_submissions_total',
      help: 'add-checkpoint requests by witness and result (cosigned, resync, refused, fork, error)',
      labelNames: ['witness', 'result'] as const,
      registers: [metrics.registry],
    });
    this.lag = new Gauge({
      name: 'routing_ledger_witness_lag',
      help: "Leaves between a shard's latest checkpoint and the size the witness last cosigned",
      labelNames: ['witness', 'shard'] as const,
      registers: [metrics.registry],
    });
  }

  private get targets(): PolicyWitness[] {
    return this.config.policy.witnesses.filter((w) => w.url !== undefined);
  }

  onApplicationBootstrap(): void {
    if (this.targets.length === 0) return;
    this.log.log({
      msg: `witnessing: ${this.targets.length} witnesses, quorum ${this.config.policy.quorum}`,
      witnesses: this.targets.map((w) => w.name),
    });
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .catch((e: Error) => this.log.warn({ msg: `witnessing round failed: ${e.message}` }))
        .finally(() => this.schedule(this.config.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /** One round: every due (witness, shard) pair; witnesses in parallel, a witness's shards in turn. */
  async round(): Promise<void> {
    const latest = await this.latestPerShard();
    await this.repo.ensureStates(
      this.targets.map((w) => w.name),
      latest.map((c) => c.shard),
    );
    // Pairs already cosigned at the latest size need no lease, no request: the common case.
    const done = new Set(
      (await this.repo.states())
        .filter((s) => s.failures === 0)
        .map((s) => `${s.witness} ${s.shard} ${s.cosignedSize}`),
    );
    await Promise.all(
      this.targets.map(async (w) => {
        for (const cp of latest) {
          if (this.stopped) return;
          if (done.has(`${w.name} ${cp.shard} ${cp.treeSize}`)) continue;
          await this.submit(w, cp);
        }
      }),
    );
    await this.updateLag(latest);
  }

  private async submit(w: PolicyWitness, seen: CheckpointRow): Promise<void> {
    const lease = await this.repo.lease(w.name, seen.shard, this.config.timeoutMs * (MAX_RESYNCS + 2));
    if (!lease) return;
    // Read again under the lease: another instance may have had a newer checkpoint cosigned
    // since this round began, and must not look like a witness ahead of the log.
    const cp = (await this.latest(seen.shard)) ?? seen;
    if (lease.cosignedSize === cp.treeSize && (await this.hasCosignature(w, cp))) {
      await this.repo.release(w.name, cp.shard);
      return;
    }
    try {
      await this.addCheckpoint(w, cp, lease.cosignedSize);
      this.submissions.inc({ witness: w.name, result: 'cosigned' });
    } catch (e) {
      const fork = e instanceof WitnessSubmitError && e.fork;
      this.submissions.inc({
        witness: w.name,
        result: fork ? 'fork' : e instanceof WitnessSubmitError ? 'refused' : 'error',
      });
      const backoff = Math.min(this.config.maxBackoffMs, this.config.intervalMs * 2 ** Math.min(lease.failures, 20));
      const message = (e as Error).message;
      const line = {
        msg: `witness ${w.name}, shard ${cp.shard}: ${message}`,
        witness: w.name,
        shard: cp.shard,
        retryInMs: backoff,
      };
      if (fork) this.log.error(line);
      else this.log.warn(line);
      if (!this.stopped) await this.repo.failed(w.name, cp.shard, message, backoff).catch(() => undefined);
    }
  }

  /**
   * Each shard's latest checkpoint, one index probe per shard (shard_heads lists them): a
   * DISTINCT ON over the whole checkpoints table would read every checkpoint ever signed.
   */
  private async latestPerShard(): Promise<CheckpointRow[]> {
    const rows = await Promise.all((await this.ledger.shards()).map((s) => this.latest(s.shard)));
    return rows.filter((r): r is CheckpointRow => r !== undefined);
  }

  private async latest(shard: number): Promise<CheckpointRow | undefined> {
    const [row] = await this.ledger.checkpoints(shard, { order: 'desc', limit: 1 });
    return row;
  }

  private async hasCosignature(w: PolicyWitness, cp: CheckpointRow): Promise<boolean> {
    const sigs = await this.repo.cosignatures(cp.shard, cp.treeSize, cp.rootHash);
    return sigs.some((s) => s.witness === w.name && s.keyId === w.verifier.keyId);
  }

  /** Submits `cp` from `known`, following at most MAX_RESYNCS 409s; stores the cosignature. */
  private async addCheckpoint(w: PolicyWitness, latest: CheckpointRow, known: number): Promise<void> {
    let cp = latest;
    for (let resyncs = 0; ; resyncs++) {
      if (known > cp.treeSize) cp = (await this.latest(cp.shard)) ?? cp;
      if (known > cp.treeSize)
        throw new WitnessSubmitError(
          `the witness cosigned size ${known}, beyond the latest checkpoint ${cp.treeSize}: it has seen another history`,
          true,
        );
      const note = await this.tlog.signedNote(cp);
      const text = parseNote(note).text;
      const proof = known === 0 ? [] : await consistencyProof(this.ledger.nodeReader(cp.shard), known, cp.treeSize);
      const res = await fetch(`${w.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: formatAddCheckpointRequest({ oldSize: known, proof, note }),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.config.timeoutMs)]),
      });
      const body = await res.text();
      if (res.status === 200) return this.store(w, cp, text, body);
      if (res.status === 409 && (res.headers.get('content-type') ?? '').startsWith(TLOG_SIZE_CONTENT_TYPE)) {
        const m = /^(0|[1-9][0-9]*)\n$/.exec(body);
        if (!m) throw new WitnessSubmitError(`409 with a malformed size ${JSON.stringify(body.slice(0, 40))}`);
        const size = Number(m[1]);
        if (size === known)
          throw new WitnessSubmitError(`409 at size ${size}: the witness cosigned another root for this size`, true);
        this.submissions.inc({ witness: w.name, result: 'resync' });
        if (resyncs >= MAX_RESYNCS) throw new WitnessSubmitError(`still out of sync after ${resyncs} resyncs`);
        known = size;
        await this.repo.setKnownSize(w.name, cp.shard, size);
        continue;
      }
      throw new WitnessSubmitError(
        `add-checkpoint answered ${res.status}: ${body.slice(0, 200).trim()}`,
        res.status === 422,
      );
    }
  }

  /** Keeps the response's valid cosignatures by this witness's key; unknown lines are ignored. */
  private async store(w: PolicyWitness, cp: CheckpointRow, text: string, body: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    const mine = parseCosignatureLines(text, body).filter((s) => s.name === w.name && s.keyId === w.verifier.keyId);
    const valid = mine.filter((s) => w.verifier.verify(bytes, s.signature));
    if (valid.length === 0)
      throw new WitnessSubmitError(`200 without a valid cosignature by ${w.name} (${mine.length} lines by its key)`);
    await this.repo.succeeded(
      cp.shard,
      cp.treeSize,
      cp.rootHash,
      w.name,
      valid.map((s) => ({ keyId: s.keyId, timestamp: cosignatureTimestamp(s.signature), signature: s.signature })),
    );
  }

  private async updateLag(latest: CheckpointRow[]): Promise<void> {
    const sizes = new Map(latest.map((c) => [c.shard, c.treeSize]));
    for (const s of await this.repo.states()) {
      const size = sizes.get(s.shard);
      if (size !== undefined)
        this.lag.set({ witness: s.witness, shard: String(s.shard) }, Math.max(0, size - s.cosignedSize));
    }
  }

  /** Per witness and shard: the latest size, what the witness cosigned, the lag and the retry state. */
  async status(): Promise<WitnessStatus> {
    const latest = await this.latestPerShard();
    const sizes = new Map(latest.map((c) => [c.shard, c.treeSize]));
    const states = await this.repo.states();
    return {
      quorum: this.config.policy.quorum,
      witnesses: this.config.policy.witnesses.map((w) => ({
        name: w.name,
        url: w.url ?? null,
        shards: states
          .filter((s) => s.witness === w.name)
          .map((s) => {
            const treeSize = sizes.get(s.shard) ?? 0;
            return {
              shard: s.shard,
              tree_size: treeSize,
              cosigned_size: s.cosignedSize,
              lag: Math.max(0, treeSize - s.cosignedSize),
              cosigned_at: s.cosignedAt?.toISOString() ?? null,
              failures: s.failures,
              last_error: s.lastError,
              next_attempt_at: s.nextAttemptAt.toISOString(),
            };
          }),
      })),
    };
  }
}
