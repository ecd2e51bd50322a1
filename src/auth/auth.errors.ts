/**
 * Auth failures as domain errors with stable codes; ProblemDetailsFilter maps
 * UNAUTHENTICATED to 401 and FORBIDDEN to 403. Messages name what failed, never the token.
 */
export class UnauthenticatedError extends Error {
  readonly code = 'UNAUTHENTICATED';
}

export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN';
}
