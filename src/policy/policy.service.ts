import { Inject, Injectable } from '@nestjs/common';
import { ForbiddenError } from '../auth/auth.errors.js';
import { queryScope, scopeIncludes, type Principal } from '../auth/principal.js';
import type { SigningConfig } from '../config/app-config.js';
import { CONFIG } from '../config/config.module.js';
import { canonicalJson } from '../domain/canonical/canonical-json.js';
import { validatePolicyDocument } from '../domain/policy/policy-document.js';
import { diffPolicies } from '../domain/policy/policy-diff.js';
import { verifyPolicyLog } from '../domain/policy/policy-log-verifier.js';
import {
  nextPolicyEntry,
  policyEntryLeafHash,
  policyInclusionProof,
  policyLogRoot,
  signPolicyCheckpoint,
  type PolicyReceipt,
} from '../domain/policy/policy-log.js';
import { SigningKeyService } from '../ledger/signing-key.service.js';
import { QUERY_CLOCK, type Clock } from '../query/common/clock.js';
import type { PolicyDiffQueryDto, PublishPolicyDto } from './policy.dto.js';
import { InvalidPolicyError, PolicyNotFoundError, PolicyTimelineError } from './policy.errors.js';
import { PolicyRepository, type StoredPolicyVersion } from './policy.repository.js';

const BACKDATED_AFTER_MS = 60_000;
/** The largest value of the `version` column (PostgreSQL integer). */
const MAX_VERSION = 2_147_483_647;

/**
 * Publishing and reading policy versions. A publish is one transaction: the next entry of the
 * tenant's chain, its leaf in the policy log, and the log's newly signed tree head.
 */
@Injectable()
export class PolicyService {
  constructor(
    private readonly repo: PolicyRepository,
    private readonly keys: SigningKeyService,
    @Inject(CONFIG.signing) private readonly signing: SigningConfig,
    @Inject(QUERY_CLOCK) private readonly clock: Clock,
  ) {}

  async publish(body: PublishPolicyDto, caller: Principal) {
    // PostgreSQL text cannot hold U+0000: refuse it here rather than let the insert fail as a 500.
    if (body.tenant_id.includes('\u0000')) throw new InvalidPolicyError(['/tenant_id: must not contain U+0000']);
    if (!scopeIncludes(caller.scope, body.tenant_id))
      throw new ForbiddenError(`tenant ${JSON.stringify(body.tenant_id)} is outside your token's scope`);
    const valid = validatePolicyDocument(body.document);
    if (!valid.ok) throw new InvalidPolicyError(valid.errors);
    const effectiveFrom = new Date(body.effective_from).toISOString();
    const key = await this.keys.current();
    const stored = await this.repo.transaction(async (m) => {
      const previous = await this.repo.latest(body.tenant_id, m);
      if (previous && Date.parse(previous.effective_from) > Date.parse(effectiveFrom))
        throw new PolicyTimelineError(
          `effective_from ${effectiveFrom} is before version ${previous.version}'s (${previous.effective_from}): versions form one timeline`,
        );
      const leaves = await this.repo.leafHashes(m);
      const publishedAt = this.clock().toISOString();
      const entry = nextPolicyEntry(previous ?? null, {
        index: leaves.length,
        tenant_id: body.tenant_id,
        effective_from: effectiveFrom,
        published_at: publishedAt,
        document: valid.document,
      });
      const leafHash = policyEntryLeafHash(entry);
      const root = policyLogRoot([...leaves, leafHash]);
      const cp = {
        origin: this.signing.ledgerOrigin,
        log: 'policy' as const,
        tree_size: leaves.length + 1,
        root_hash: root.toString('hex'),
        timestamp: publishedAt,
      };
      const jws = await signPolicyCheckpoint(cp, key);
      await this.repo.insert(
        m,
        { entry, entryText: canonicalJson(entry), leafHash, publishedBy: caller.subject },
        { treeSize: cp.tree_size, root, signedAt: publishedAt, kid: key.kid, jws },
      );
      return entry;
    });
    return this.receipt(stored.tenant_id, stored.version, caller);
  }

  async list(tenant: string | undefined, caller: Principal) {
    const versions = await this.repo.list(queryScope(caller.scope, tenant));
    return { versions: versions.map(present) };
  }

  async diff(tenant: string, q: PolicyDiffQueryDto, caller: Principal) {
    queryScope(caller.scope, tenant);
    const [from, to] = await Promise.all([this.version(tenant, q.from), this.version(tenant, q.to)]);
    return {
      tenant_id: tenant,
      from: present(from),
      to: present(to),
      ...diffPolicies(from.entry.document, to.entry.document),
    };
  }

  /** A version with its inclusion proof in the latest signed tree head of the policy log: verifiable offline. */
  async receipt(tenant: string, version: number, caller: Principal): Promise<PolicyReceipt> {
    queryScope(caller.scope, tenant);
    const v = await this.version(tenant, version);
    const cp = await this.repo.latestCheckpoint();
    if (!cp) throw new PolicyNotFoundError('the policy log has no checkpoint');
    const leaves = (await this.repo.leafHashes()).slice(0, cp.tree_size);
    return {
      entry: v.entry,
      leaf_hash: v.leaf_hash,
      leaf_index: v.leaf_index,
      tree_size: cp.tree_size,
      inclusion_proof: (await policyInclusionProof(leaves, v.leaf_index)).map((h) => h.toString('hex')),
      checkpoint: cp.jws,
    };
  }

  /** Full verification of the policy log from the stored rows (every leaf, chain, root and signature). */
  async verify() {
    const { leaves, checkpoints } = await this.repo.stored();
    return verifyPolicyLog(leaves, checkpoints, await this.keys.jwks());
  }

  private async version(tenant: string, version: number): Promise<StoredPolicyVersion> {
    // Neither can be stored (U+0000 in text, a version beyond integer): no such version, not a database error.
    const storable =
      !tenant.includes('\u0000') && Number.isSafeInteger(version) && version > 0 && version <= MAX_VERSION;
    const v = storable ? await this.repo.version(tenant, version) : undefined;
    if (!v) throw new PolicyNotFoundError(`tenant ${JSON.stringify(tenant)} has no policy version ${version}`);
    return v;
  }
}

function present(v: StoredPolicyVersion) {
  return {
    tenant_id: v.tenant_id,
    version: v.version,
    effective_from: v.effective_from,
    published_at: v.published_at,
    // Published more than a minute after it took effect: it judges decisions made before anyone could read it.
    backdated: Date.parse(v.published_at) - Date.parse(v.effective_from) > BACKDATED_AFTER_MS,
    published_by: v.published_by,
    leaf_index: v.leaf_index,
    leaf_hash: v.leaf_hash,
    document: v.entry.document,
  };
}
