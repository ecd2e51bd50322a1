import { Injectable } from '@nestjs/common';
import { ForbiddenError } from '../../auth/auth.errors.js';
import { queryScope, scopeIncludes, type Principal } from '../../auth/principal.js';
import type { EvaluationsQueryDto, RegisterEvaluationDto } from './evaluations.dto.js';
import { EvaluationsRepository } from './evaluations.repository.js';

/** The evaluations registry that evaluation-drift findings compare served traffic against. */
@Injectable()
export class EvaluationsService {
  constructor(private readonly repo: EvaluationsRepository) {}

  async register(dto: RegisterEvaluationDto, caller: Principal) {
    if (dto.tenant_id === undefined ? caller.scope.kind !== 'all' : !scopeIncludes(caller.scope, dto.tenant_id)) {
      throw new ForbiddenError(
        dto.tenant_id === undefined
          ? 'an evaluation for every tenant needs a token spanning every tenant; set tenant_id'
          : `tenant ${JSON.stringify(dto.tenant_id)} is outside your token's scope`,
      );
    }
    return this.repo.insert({
      tenant_id: dto.tenant_id ?? null,
      alias: dto.alias,
      task_category: dto.task_category,
      model_versions: dto.model_versions,
      test_set: dto.test_set,
      test_set_sha256: dto.test_set_sha256 ?? null,
      accuracy_target: dto.accuracy_target,
      accuracy_result: dto.accuracy_result,
      escalation_threshold: dto.escalation_threshold ?? null,
      traffic_share: dto.traffic_share ?? null,
      evaluated_at: new Date(dto.evaluated_at),
      registered_by: caller.subject,
    });
  }

  async list(q: EvaluationsQueryDto, caller: Principal) {
    return { evaluations: await this.repo.applicable(queryScope(caller.scope, q.tenant), q.alias) };
  }
}
