import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { verifierFor } from '../auth/jwt-auth.guard.js';
import { CONFIG } from '../config/config.module.js';
import type { AuthConfig, RuntimeConfig } from '../config/app-config.js';
import { onReadDatabase, ReadDatabaseModule } from '../database/read-database.js';
import { PolicyModule } from '../policy/policy.module.js';
import { QUERY_CLOCK, systemClock } from './common/clock.js';
import { DecisionsController } from './decisions/decisions.controller.js';
import { DecisionsRepository } from './decisions/decisions.repository.js';
import { DecisionsService } from './decisions/decisions.service.js';
import { EvaluationsController } from './evaluations/evaluations.controller.js';
import { EvaluationsRepository } from './evaluations/evaluations.repository.js';
import { EvaluationsService } from './evaluations/evaluations.service.js';
import { FindingsController } from './findings/findings.controller.js';
import { FindingsRepository } from './findings/findings.repository.js';
import { FindingsService } from './findings/findings.service.js';
import { IncidentsController } from './incidents/incidents.controller.js';
import { IncidentsRepository } from './incidents/incidents.repository.js';
import { IncidentsService } from './incidents/incidents.service.js';

/**
 * Read APIs for responders and auditors: decisions, incidents, findings, evaluations.
 * Every route needs a bearer token (JwtAuthGuard via @Roles) and runs in its tenant scope.
 * Records are read from the read database (DATABASE_READ_URL, else the primary); evaluations,
 * which these routes also register, from the primary.
 */
@Module({
  imports: [PolicyModule, ReadDatabaseModule],
  controllers: [DecisionsController, IncidentsController, FindingsController, EvaluationsController],
  providers: [
    { provide: QUERY_CLOCK, useValue: systemClock },
    onReadDatabase(DecisionsRepository),
    DecisionsService,
    onReadDatabase(IncidentsRepository),
    IncidentsService,
    onReadDatabase(FindingsRepository),
    FindingsService,
    EvaluationsRepository,
    EvaluationsService,
  ],
})
export class QueryModule implements OnModuleInit {
  constructor(
    @Inject(CONFIG.auth) private readonly auth: AuthConfig,
    @Inject(CONFIG.runtime) private readonly runtime: RuntimeConfig,
  ) {}

  /** Loads the token keys at start-up: an unreadable AUTH_JWKS_FILE stops the service here, not at the first request. */
  async onModuleInit(): Promise<void> {
    await verifierFor(this.auth, this.runtime);
  }
}
