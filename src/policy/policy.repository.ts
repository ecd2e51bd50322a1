import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { TenantScope } from '../auth/principal.js';
import { scopeCondition, SqlParams } from '../query/common/sql.js';
import type { PolicyEntry } from '../domain/policy/policy-log.js';
import type { StoredPolicyCheckpoint, StoredPolicyLeaf } from '../domain/policy/policy-log-verifier.js';

export interface StoredPolicyVersion {
  leaf_index: number;
  tenant_id: string;
  version: number;
  effective_from: string;
  published_at: string;
  published_by: string;
  leaf_hash: string;
  entry: PolicyEntry;
}

interface DbRow {
  leaf_index: string;
  tenant_id: string;
  version: number;
  published_by: string;
  leaf_hash: Buffer;
  entry: string;
}

const COLUMNS = 'leaf_index, tenant_id, version, published_by, leaf_hash, entry';
/** Any constant: the advisory lock key that serializes appends to the policy log. */
const POLICY_LOG_LOCK = 7_216_301;

function toVersion(r: DbRow): StoredPolicyVersion {
  const entry = JSON.parse(r.entry) as PolicyEntry;
  return {
    leaf_index: Number(r.leaf_index),
    tenant_id: r.tenant_id,
    version: r.version,
    effective_from: entry.effective_from,
    published_at: entry.published_at,
    published_by: r.published_by,
    leaf_hash: r.leaf_hash.toString('hex'),
    entry,
  };
}

/** SQL of the policy log. Rows are only inserted; the service owns the append transaction. */
@Injectable()
export class PolicyRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [POLICY_LOG_LOCK]);
      return work(m);
    });
  }

  /** Every leaf hash of the log, in leaf order (the log holds policy versions: few). */
  async leafHashes(m: EntityManager | DataSource = this.db): Promise<Buffer[]> {
    const rows: Array<{ leaf_hash: Buffer }> = await m.query(
      'SELECT leaf_hash FROM policy_versions ORDER BY leaf_index',
    );
    return rows.map((r) => r.leaf_hash);
  }

  async latest(tenant: string, m: EntityManager | DataSource = this.db): Promise<StoredPolicyVersion | undefined> {
    const rows: DbRow[] = await m.query(
      `SELECT ${COLUMNS} FROM policy_versions WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`,
      [tenant],
    );
    return rows[0] && toVersion(rows[0]);
  }

  async insert(
    m: EntityManager,
    v: { entry: PolicyEntry; entryText: string; leafHash: Buffer; publishedBy: string },
    checkpoint: { treeSize: number; root: Buffer; signedAt: string; kid: string; jws: string },
  ): Promise<void> {
    await m.query(
      `INSERT INTO policy_versions (leaf_index, tenant_id, version, effective_from, published_at, published_by, leaf_hash, entry)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        v.entry.index,
        v.entry.tenant_id,
        v.entry.version,
        v.entry.effective_from,
        v.entry.published_at,
        v.publishedBy,
        v.leafHash,
        v.entryText,
      ],
    );
    await m.query(
      `INSERT INTO policy_checkpoints (tree_size, root_hash, signed_at, kid, jws) VALUES ($1, $2, $3, $4, $5)`,
      [checkpoint.treeSize, checkpoint.root, checkpoint.signedAt, checkpoint.kid, checkpoint.jws],
    );
  }

  async list(scope: TenantScope): Promise<StoredPolicyVersion[]> {
    const p = new SqlParams();
    const rows: DbRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM policy_versions r WHERE ${scopeCondition(scope, p)} ORDER BY tenant_id, version`,
      p.values,
    );
    return rows.map(toVersion);
  }

  async version(tenant: string, version: number): Promise<StoredPolicyVersion | undefined> {
    const rows: DbRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM policy_versions WHERE tenant_id = $1 AND version = $2`,
      [tenant, version],
    );
    return rows[0] && toVersion(rows[0]);
  }

  /**
   * The versions of the scope's tenants in force at some instant of [from, to): each with the
   * end of its validity (the next version's effective_from; null while it is the latest).
   */
  async inForce(
    scope: TenantScope,
    from: Date,
    to: Date,
  ): Promise<Array<StoredPolicyVersion & { effective_to: string | null }>> {
    const p = new SqlParams();
    const rows: Array<DbRow & { effective_to: Date | null }> = await this.db.query(
      `SELECT * FROM (
         SELECT ${COLUMNS}, effective_from, lead(effective_from) OVER (PARTITION BY tenant_id ORDER BY version) AS effective_to
         FROM policy_versions r WHERE ${scopeCondition(scope, p)} AND effective_from < ${p.add(to)}
       ) v WHERE effective_to IS NULL OR effective_to > ${p.add(from)}
       ORDER BY tenant_id, version`,
      p.values,
    );
    return rows.map((r) => ({ ...toVersion(r), effective_to: r.effective_to ? r.effective_to.toISOString() : null }));
  }

  /** The whole log as stored, for full verification. */
  async stored(): Promise<{ leaves: StoredPolicyLeaf[]; checkpoints: StoredPolicyCheckpoint[] }> {
    const [leaves, checkpoints] = await Promise.all([
      this.db.query(`SELECT ${COLUMNS} FROM policy_versions ORDER BY leaf_index`) as Promise<DbRow[]>,
      this.db.query('SELECT tree_size, root_hash, jws FROM policy_checkpoints ORDER BY tree_size') as Promise<
        Array<{ tree_size: string; root_hash: Buffer; jws: string }>
      >,
    ]);
    return {
      leaves: leaves.map((r) => ({
        leaf_index: Number(r.leaf_index),
        tenant_id: r.tenant_id,
        version: r.version,
        leaf_hash: r.leaf_hash.toString('hex'),
        entry: r.entry,
      })),
      checkpoints: checkpoints.map((c) => ({
        tree_size: Number(c.tree_size),
        root_hash: c.root_hash.toString('hex'),
        jws: c.jws,
      })),
    };
  }

  async latestCheckpoint(): Promise<{ tree_size: number; jws: string } | undefined> {
    const rows: Array<{ tree_size: string; jws: string }> = await this.db.query(
      'SELECT tree_size, jws FROM policy_checkpoints ORDER BY tree_size DESC LIMIT 1',
    );
    return rows[0] && { tree_size: Number(rows[0].tree_size), jws: rows[0].jws };
  }
}
