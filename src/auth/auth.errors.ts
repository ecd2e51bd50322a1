import { AppError } from '../common/app-error.js';

/**
 * Auth failures as domain errors with stable codes: UNAUTHENTICATED answers 401, FORBIDDEN 403.
 * Messages name what failed, never the token.
 */
export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  override readonly status = 401;
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  override readonly status = 403;
}
