import { AppError } from '../common/app-error.js';

/** A command line the tool cannot run: the CLIs print the message (and their usage) and exit 2. */
export class UsageError extends AppError {
  readonly code = 'USAGE';
}
