import { AppError } from '../common/app-error.js';

export class ConsoleNotBuiltError extends AppError {
  override readonly name = 'ConsoleNotBuiltError';
  readonly code = 'NOT_FOUND';
  override readonly status = 404;
}

export class DevTokenRefusedError extends AppError {
  override readonly name = 'DevTokenRefusedError';
  readonly code = 'DEV_TOKEN_REFUSED';
  override readonly status = 403;
}
