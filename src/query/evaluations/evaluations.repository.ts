import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../../auth/principal.js';
import { scopeCondition, SqlParams } from '../common/sql.js';
import type { EvaluationRow } from '../findings/evaluation-drift.js';

export interface StoredEvaluation extends EvaluationRow {
  test_set_sha256: string | null;
  escalation_threshold: number | null;
  registered_at: string;
  registered_by: string;
}

export interface NewEvaluation {
  tenant_id: string | null;
  alias: string;
  task_category: string;
  model_versions: string[];
  test_set: string;
  test_set_sha256: string | null;
  accuracy_target: number;
  accuracy_result: number;
  escalation_threshold: number | null;
  traffic_share: number | null;
  evaluated_at: Date;
  registered_by: string;
}

const COLUMNS = `id, tenant_id, alias, task_category, model_versions, test_set, test_set_sha256, accuracy_target, accuracy_result,
  escalation_threshold, traffic_share, evaluated_at, registered_at, registered_by`;

interface DbRow extends Omit<
  StoredEvaluation,
  'accuracy_target' | 'accuracy_result' | 'escalation_threshold' | 'traffic_share' | 'evaluated_at' | 'registered_at'
> {
  accuracy_target: string;
  accuracy_result: string;
  escalation_threshold: string | null;
  traffic_share: string | null;
  evaluated_at: Date;
  registered_at: Date;
}

/** SQL of the evaluations registry. Rows are only ever inserted; the latest per alias and category wins. */
@Injectable()
export class EvaluationsRepository {
  constructor(private readonly db: DataSource) {}

  async insert(e: NewEvaluation): Promise<StoredEvaluation> {
    const rows: DbRow[] = await this.db.query(
      `INSERT INTO evaluations (tenant_id, alias, task_category, model_versions, test_set, test_set_sha256, accuracy_target, accuracy_result,
                                escalation_threshold, traffic_share, evaluated_at, registered_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [
        e.tenant_id,
        e.alias,
        e.task_category,
        e.model_versions,
        e.test_set,
        e.test_set_sha256,
        e.accuracy_target,
        e.accuracy_result,
        e.escalation_threshold,
        e.traffic_share,
        e.evaluated_at,
        e.registered_by,
      ],
    );
    return toStored(rows[0]);
  }

  /** Evaluations that apply to tenants in scope: theirs and those registered for every tenant. */
  async applicable(scope: TenantScope, alias?: string): Promise<StoredEvaluation[]> {
    const p = new SqlParams();
    const where = [scope.kind === 'all' ? 'TRUE' : `(tenant_id IS NULL OR ${scopeCondition(scope, p, 'tenant_id')})`];
    if (alias !== undefined) where.push(`alias = ${p.add(alias)}`);
    const rows: DbRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM evaluations WHERE ${where.join(' AND ')} ORDER BY alias, task_category, evaluated_at, id`,
      p.values,
    );
    return rows.map(toStored);
  }
}

function toStored(r: DbRow): StoredEvaluation {
  const num = (v: string | null) => (v === null ? null : Number(v));
  return {
    ...r,
    accuracy_target: Number(r.accuracy_target),
    accuracy_result: Number(r.accuracy_result),
    escalation_threshold: num(r.escalation_threshold),
    traffic_share: num(r.traffic_share),
    evaluated_at: r.evaluated_at.toISOString(),
    registered_at: r.registered_at.toISOString(),
  };
}
