import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ExportFilters } from '../domain/bundle/bundle-format.js';

export type ExportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ExportJob {
  id: string;
  tenant: string;
  from: string;
  to: string;
  filters: ExportFilters;
  requestedBy: string | null;
  status: ExportStatus;
  recordsTotal: number | null;
  recordsDone: number;
  fileName: string | null;
  fileSize: number | null;
  fileSha256: string | null;
  manifestCounts: Record<string, number> | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface ExportDbRow {
  id: string;
  tenant_id: string;
  range_from: Date;
  range_to: Date;
  filters: ExportFilters;
  requested_by: string | null;
  status: ExportStatus;
  records_total: string | null;
  records_done: string;
  file_name: string | null;
  file_size: string | null;
  file_sha256: Buffer | null;
  manifest_counts: Record<string, number> | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = `id, tenant_id, range_from, range_to, filters, requested_by, status, records_total, records_done, file_name,
  file_size, file_sha256, manifest_counts, error, created_at, started_at, finished_at`;

/** SQL of the export jobs table. Each method is one statement; claims are compare-and-set. */
@Injectable()
export class ExportRepository {
  constructor(private readonly db: DataSource) {}

  async insert(job: {
    id: string;
    tenant: string;
    from: string;
    to: string;
    filters: ExportFilters;
    requestedBy: string | null;
  }): Promise<ExportJob> {
    const rows: ExportDbRow[] = await this.db.query(
      `INSERT INTO exports (id, tenant_id, range_from, range_to, filters, requested_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [job.id, job.tenant, job.from, job.to, JSON.stringify(job.filters), job.requestedBy],
    );
    return toJob(rows[0]);
  }

  async get(id: string): Promise<ExportJob | undefined> {
    const rows: ExportDbRow[] = await this.db.query(`SELECT ${COLUMNS} FROM exports WHERE id = $1`, [id]);
    return rows[0] && toJob(rows[0]);
  }

  /** Moves a queued job to running; false when another worker (or instance) has it. */
  async claim(id: string): Promise<boolean> {
    const result: unknown = await this.db.query(
      `UPDATE exports SET status = 'running', started_at = now(), heartbeat_at = now() WHERE id = $1 AND status = 'queued' RETURNING id`,
      [id],
    );
    return updatedCount(result) === 1;
  }

  async progress(id: string, done: number, total: number): Promise<void> {
    await this.db.query(
      `UPDATE exports SET records_done = $2, records_total = $3, heartbeat_at = now() WHERE id = $1 AND status = 'running'`,
      [id, done, total],
    );
  }

  async finish(
    id: string,
    r: { fileName: string; size: number; sha256: string; records: number; counts: Record<string, number> },
  ): Promise<void> {
    await this.db.query(
      `UPDATE exports SET status = 'done', finished_at = now(), file_name = $2, file_size = $3, file_sha256 = $4, records_done = $5, records_total = $5, manifest_counts = $6
       WHERE id = $1 AND status = 'running'`,
      [id, r.fileName, r.size, Buffer.from(r.sha256, 'hex'), r.records, JSON.stringify(r.counts)],
    );
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE exports SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1 AND status IN ('queued', 'running')`,
      [id, error.slice(0, 2000)],
    );
  }

  /** Gives a running job back to the queue (this instance is shutting down; the next boot resumes it). */
  async requeue(id: string): Promise<void> {
    await this.db.query(
      `UPDATE exports SET status = 'queued', started_at = NULL, heartbeat_at = NULL, records_done = 0 WHERE id = $1 AND status = 'running'`,
      [id],
    );
  }

  async queuedIds(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM exports WHERE status = 'queued' ORDER BY created_at`,
    );
    return rows.map((r) => r.id);
  }

  /** Running jobs whose worker stopped beating (a crashed or killed instance) become failed. */
  async failStale(olderThanMs: number): Promise<number> {
    const result: unknown = await this.db.query(
      `UPDATE exports SET status = 'failed', finished_at = now(), error = 'interrupted: the service stopped while writing the bundle; request a new export'
       WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id`,
      [olderThanMs / 1000],
    );
    return updatedCount(result);
  }
}

/** TypeORM's postgres driver answers an UPDATE with [rows, affected count], not with the rows. */
function updatedCount(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number')
    return result[1];
  return Array.isArray(result) ? result.length : 0;
}

function toJob(r: ExportDbRow): ExportJob {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: r.id,
    tenant: r.tenant_id,
    from: r.range_from.toISOString(),
    to: r.range_to.toISOString(),
    filters: r.filters,
    requestedBy: r.requested_by,
    status: r.status,
    recordsTotal: r.records_total === null ? null : Number(r.records_total),
    recordsDone: Number(r.records_done),
    fileName: r.file_name,
    fileSize: r.file_size === null ? null : Number(r.file_size),
    fileSha256: r.file_sha256?.toString('hex') ?? null,
    manifestCounts: r.manifest_counts,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}
