/** Query errors with the codes ProblemDetailsFilter maps: NOT_FOUND 404, BAD_QUERY / BAD_CURSOR 400. */
export class QueryNotFoundError extends Error {
  readonly code = 'NOT_FOUND';
}

export class BadQueryError extends Error {
  readonly code = 'BAD_QUERY';
}

export class BadCursorError extends Error {
  readonly code = 'BAD_CURSOR';
}
