import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryScope, type Principal } from '../auth/principal.js';
import { disclosureStatement, signDisclosure } from '../domain/policy/disclosure.js';
import { ruleFor } from '../domain/policy/policy-document.js';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import { SigningKeyService } from '../ledger/signing-key.service.js';
import { QUERY_CLOCK, type Clock } from '../query/common/clock.js';
import { scopeCondition, SqlParams } from '../query/common/sql.js';
import { PolicyNotFoundError } from './policy.errors.js';
import { PolicyRepository } from './policy.repository.js';

/**
 * Disclosures are computed and signed on request, never stored: the statement is a pure function
 * of the ledger entry (and the policy in force), so the same request always reads the same.
 */
@Injectable()
export class DisclosureService {
  constructor(
    private readonly db: DataSource,
    private readonly keys: SigningKeyService,
    private readonly policies: PolicyRepository,
    @Inject(QUERY_CLOCK) private readonly clock: Clock,
  ) {}

  async disclosure(requestId: string, caller: Principal) {
    const scope = queryScope(caller.scope);
    // A request of another tenant is a 404, like a record: ids must not reveal other tenants' traffic.
    if (requestId.includes('\u0000')) throw new PolicyNotFoundError('no such request');
    const p = new SqlParams();
    // The event that answered: the last successful one of the request, else its last event.
    const rows: Array<{ event_id: string; shard: number; leaf_index: string; leaf_hash: Buffer; record: string }> =
      await this.db.query(
        `SELECT r.event_id, r.shard, r.leaf_index, r.leaf_hash, r.record FROM records r
         WHERE r.request_id = ${p.add(requestId)} AND ${scopeCondition(scope, p)}
         ORDER BY (r.outcome_status = 'success') DESC, r.occurred_at DESC, r.event_id DESC LIMIT 1`,
        p.values,
      );
    if (rows.length === 0) throw new PolicyNotFoundError('no such request');
    const row = rows[0];
    const record = JSON.parse(row.record) as CanonicalRecord;
    const at = new Date(record.occurred_at);
    const [policy] = await this.policies.inForce(
      { kind: 'tenants', tenants: [record.tenant_id] },
      at,
      new Date(at.getTime() + 1),
    );
    const rule = policy ? ruleFor(policy.entry.document, record.requested_model, record.task?.category ?? null) : null;
    const statement = disclosureStatement(
      record,
      { shard: row.shard, leaf_index: Number(row.leaf_index), leaf_hash: row.leaf_hash.toString('hex') },
      this.clock().toISOString(),
      rule?.required_checks ?? [],
    );
    const key = await this.keys.current();
    return { statement, jws: await signDisclosure(statement, key), jwks_url: '/.well-known/jwks.json' };
  }
}
