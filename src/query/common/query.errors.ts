import { AppError } from '../../common/app-error.js';

/** Query errors: NOT_FOUND answers 404, BAD_QUERY and BAD_CURSOR 400. */
export class QueryNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  override readonly status = 404;
}

export class BadQueryError extends AppError {
  readonly code = 'BAD_QUERY';
  override readonly status = 400;
}

export class BadCursorError extends AppError {
  readonly code = 'BAD_CURSOR';
  override readonly status = 400;
}
