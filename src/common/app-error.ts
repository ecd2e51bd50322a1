/** The status of an error the caller can do nothing about. */
export const INTERNAL_ERROR_STATUS = 500;

/**
 * The base of every error this service throws on purpose. Plain TypeScript (no Nest, TypeORM, pg
 * or kafkajs), so src/domain and the offline verifier can throw it too.
 *
 * What an error means is declared once, on its class: ProblemDetailsFilter turns `status` and
 * `code` into the HTTP answer, and the ingest consumer reads `retriable` to choose between
 * appending a batch again and failing it. Errors that are not AppErrors (pg, kafkajs, Node, bugs)
 * are handled by those places on their own terms.
 */
export abstract class AppError extends Error {
  /** Stable: clients, logs and the dead-letter queue match on it; messages are for people and may change. */
  abstract readonly code: string;

  /**
   * The HTTP status the error means when it reaches an HTTP answer. 500 (the default) is an
   * internal error: the answer names no code and quotes no message, the log has the stack.
   */
  readonly status: number = INTERNAL_ERROR_STATUS;

  /**
   * True when appending the same batch again may succeed (a race lost to another writer); false
   * when retrying cannot help and the error must surface.
   */
  readonly retriable: boolean = false;
}
