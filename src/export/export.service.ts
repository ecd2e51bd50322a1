import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ForbiddenError } from '../auth/auth.errors.js';
import { scopeIncludes, type Principal } from '../auth/principal.js';
import { CONFIG } from '../config/config.module.js';
import type { RuntimeConfig, SigningConfig, WitnessConfig } from '../config/app-config.js';
import { FILTER_FIELDS, type ExportFilters, type ExportQuery } from '../domain/bundle/bundle-format.js';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import { SigningKeyService } from '../ledger/signing-key.service.js';
import { ExportQueryError, writeBundle } from './bundle-writer.js';
import type { CreateExportDto } from './dto/create-export.dto.js';
import { generatorInfo } from './generator.js';
import { ExportRepository, type ExportJob } from './export.repository.js';
import { ExportSourceRepository } from './export-source.repository.js';
import { AppError } from '../common/app-error.js';

export class ExportNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  override readonly status = 404;
}

/** The bundle of a job that is not done (yet, or ever): 409 with the job's status. */
export class ExportNotReadyError extends AppError {
  readonly code = 'EXPORT_NOT_READY';
  override readonly status = 409;
}

/** A job abandoned because the service is shutting down; it goes back to the queue. */
class ExportAbortedError extends AppError {
  readonly code = 'EXPORT_ABORTED';
}

/** Bundles written at once per instance: an export is I/O- and hash-heavy, ingestion comes first. */
export const EXPORT_CONCURRENCY = 1;
/** How often a running job writes its progress (and heartbeat). */
const PROGRESS_INTERVAL_MS = 1000;
/** A running job without a heartbeat for this long belonged to an instance that died. */
const STALE_AFTER_MS = 5 * 60_000;

export interface ExportView {
  id: string;
  status: ExportJob['status'];
  tenant: string;
  from: string;
  to: string;
  filters: ExportFilters;
  requested_by: string | null;
  progress: { records_done: number; records_total: number | null; fraction: number | null };
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  bundle: { url: string; size: number; sha256: string; counts: Record<string, number> | null } | null;
}

/**
 * Export jobs: a row per request, run in this process from a small queue, each writing one
 * bundle to DATA_DIR/exports/<id>.tar.gz. The bundle proves itself, so the job table is only
 * bookkeeping. Instances must share DATA_DIR for GET .../bundle to find a file another
 * instance wrote.
 */
@Injectable()
export class ExportService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(ExportService.name);
  private readonly queue: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    @Inject(CONFIG.runtime) private readonly runtime: RuntimeConfig,
    @Inject(CONFIG.signing) private readonly signing: SigningConfig,
    private readonly jobs: ExportRepository,
    private readonly source: ExportSourceRepository,
    private readonly keys: SigningKeyService,
    // Optional: an app without witnessing anchors exports at the latest checkpoints.
    @Optional() @Inject(CONFIG.witness) private readonly witnessing?: WitnessConfig,
  ) {}

  onModuleInit(): void {
    // Not awaited: boot must not wait on leftover exports.
    void this.resume().catch((e: Error) => this.log.error(`resuming exports failed: ${e.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.running]);
  }

  async create(dto: CreateExportDto, caller: Principal): Promise<ExportView> {
    if (!scopeIncludes(caller.scope, dto.tenant))
      throw new ForbiddenError(`tenant ${JSON.stringify(dto.tenant)} is outside your token's scope`);
    const query = normalizeQuery(dto);
    const job = await this.jobs.insert({ id: randomUUID(), ...query, requestedBy: caller.subject });
    this.enqueue(job.id);
    return present(job);
  }

  async get(id: string, caller: Principal): Promise<ExportView> {
    return present(await this.visibleJob(id, caller));
  }

  /** The finished bundle as a stream, with what the HTTP layer needs to send it. */
  async bundle(id: string, caller: Principal): Promise<{ stream: ReadStream; size: number; fileName: string }> {
    const job = await this.visibleJob(id, caller);
    if (job.status !== 'done')
      throw new ExportNotReadyError(`export ${id} is ${job.status}${job.error ? `: ${job.error}` : ''}`);
    const path = this.bundlePath(id);
    const size = await stat(path).then(
      (s) => s.size,
      () => {
        throw new ExportNotFoundError(`the bundle of export ${id} is not on this instance (DATA_DIR/exports)`);
      },
    );
    return { stream: createReadStream(path), size, fileName: `routing-ledger-export-${id}.tar.gz` };
  }

  /** Resolves when every queued and running job has ended (tests and the CLI use it). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async visibleJob(id: string, caller: Principal): Promise<ExportJob> {
    const job = await this.jobs.get(id);
    // Out of scope reads as absent: the id alone must not reveal another tenant's export.
    if (!job || !scopeIncludes(caller.scope, job.tenant)) throw new ExportNotFoundError(`no export ${id}`);
    return job;
  }

  private async resume(): Promise<void> {
    const stale = await this.jobs.failStale(STALE_AFTER_MS);
    if (stale > 0) this.log.warn(`${stale} export(s) interrupted by a stopped instance were marked failed`);
    for (const id of await this.jobs.queuedIds()) this.enqueue(id);
  }

  private enqueue(id: string): void {
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < EXPORT_CONCURRENCY && this.queue.length > 0 && !this.abort.signal.aborted) {
      const id = this.queue.shift()!;
      const run: Promise<void> = this.run(id).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async run(id: string): Promise<void> {
    if (!(await this.jobs.claim(id))) return;
    const job = (await this.jobs.get(id))!;
    const started = Date.now();
    let lastProgress = 0;
    try {
      const result = await writeBundle({
        source: this.source.source(() => this.keys.jwks() as Promise<Jwks>, this.witnessing?.policy),
        query: { tenant: job.tenant, from: job.from, to: job.to, filters: job.filters },
        exportId: id,
        origin: this.signing.ledgerOrigin,
        generator: generatorInfo(),
        signingKey: await this.keys.current(),
        outFile: this.bundlePath(id),
        workDir: join(this.runtime.dataDir, 'exports', `${id}.parts`),
        onProgress: ({ done, total }) => {
          if (this.abort.signal.aborted) throw new ExportAbortedError('shutting down');
          if (Date.now() - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = Date.now();
          void this.jobs.progress(id, done, total).catch(() => undefined);
        },
      });
      await this.jobs.finish(id, {
        fileName: result.file,
        size: result.size,
        sha256: result.sha256,
        records: result.manifest.counts.records,
        counts: { ...result.manifest.counts },
      });
      this.log.log(
        `export ${id}: ${result.manifest.counts.records} records, ${result.size} bytes in ${Date.now() - started} ms`,
      );
    } catch (e) {
      if (e instanceof ExportAbortedError) {
        await this.jobs.requeue(id);
        this.log.warn(`export ${id}: interrupted by shutdown, queued again for the next start`);
        return;
      }
      this.log.error(`export ${id} failed: ${(e as Error).stack ?? (e as Error).message}`);
      await this.jobs.fail(id, (e as Error).message);
    }
  }

  private bundlePath(id: string): string {
    return join(this.runtime.dataDir, 'exports', `${id}.tar.gz`);
  }
}

/** RFC 3339 with milliseconds in UTC, from <= to checked, empty filters dropped. */
export function normalizeQuery(dto: CreateExportDto): ExportQuery {
  const from = new Date(dto.from);
  const to = new Date(dto.to);
  if (!(from.getTime() < to.getTime())) throw new ExportQueryError('`from` must be before `to`');
  const filters: ExportFilters = {};
  for (const f of FILTER_FIELDS) if (dto.filters?.[f] !== undefined) filters[f] = dto.filters[f];
  return { tenant: dto.tenant, from: from.toISOString(), to: to.toISOString(), filters };
}

function present(job: ExportJob): ExportView {
  const fraction =
    job.status === 'done'
      ? 1
      : job.recordsTotal
        ? Math.min(1, job.recordsDone / job.recordsTotal)
        : job.recordsTotal === 0
          ? 0
          : null;
  return {
    id: job.id,
    status: job.status,
    tenant: job.tenant,
    from: job.from,
    to: job.to,
    filters: job.filters,
    requested_by: job.requestedBy,
    progress: { records_done: job.recordsDone, records_total: job.recordsTotal, fraction },
    created_at: job.createdAt,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    error: job.error,
    bundle:
      job.status === 'done'
        ? {
            url: `/v1/exports/${job.id}/bundle`,
            size: job.fileSize!,
            sha256: job.fileSha256!,
            counts: job.manifestCounts,
          }
        : null,
  };
}
