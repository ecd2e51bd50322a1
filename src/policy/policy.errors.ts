import { AppError } from '../common/app-error.js';

/** A document that breaks the policy schema: 400 with every reason. */
export class InvalidPolicyError extends AppError {
  readonly code = 'INVALID_POLICY';
  override readonly status = 400;
  /** Listed as `errors` in the problem details answer. */
  constructor(readonly errors: string[]) {
    super(`the policy document is invalid: ${errors.join('; ')}`);
  }
}

/** A version whose effective_from lies before the tenant's latest version's: versions form one timeline. */
export class PolicyTimelineError extends AppError {
  readonly code = 'POLICY_EFFECTIVE_FROM_BEFORE_LATEST';
  override readonly status = 409;
}

export class PolicyNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  override readonly status = 404;
}
