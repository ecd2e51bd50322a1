import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response, Request } from 'express';

/** Domain error codes and the HTTP status each maps to; anything else is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  INGEST_REJECTED: 400,
  NOT_FOUND: 404,
  BAD_CURSOR: 400,
  BAD_QUERY: 400,
  BAD_TILE_PATH: 400,
  /** An entry longer than a tlog-tiles entry bundle can carry (uint16 length). */
  ENTRY_TOO_LARGE: 501,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
};

/**
 * Every error leaves as RFC 9457 problem details: {type, title, status, detail, ...}.
 * Domain errors carry a stable `code`; this is the one place that maps codes to HTTP.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const problem = toProblem(exception);
    if (problem.status >= 500) this.log.error(`${req.method} ${req.path}: ${(exception as Error)?.stack ?? String(exception)}`);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify({ ...problem, instance: req.path }));
  }
}

export function toProblem(exception: unknown): { type: string; title: string; status: number; detail?: string; [k: string]: unknown } {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const extra = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const detail = Array.isArray(extra.message) ? (extra.message as string[]).join('; ') : typeof extra.message === 'string' ? extra.message : exception.message;
    const { message: _m, statusCode: _s, error: _e, ...rest } = extra;
    // The HTTP status wins over any `status` member of the exception body (readyz sends one).
    return { type: 'about:blank', title: HttpStatus[status]?.replace(/_/g, ' ').toLowerCase() ?? 'error', ...rest, status, detail };
  }
  const err = exception as { code?: string; message?: string; errors?: unknown; type?: string; status?: number };
  // body-parser errors (bad JSON, too large) carry their own 4xx status.
  if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
    return { type: 'about:blank', title: err.type ?? 'bad request', status: err.status, detail: err.message };
  }
  const status = (err?.code && STATUS_BY_CODE[err.code]) || 500;
  if (status === 500) return { type: 'about:blank', title: 'internal server error', status };
  return { type: `urn:routing-ledger:error:${err.code!.toLowerCase()}`, title: err.code!.toLowerCase().replace(/_/g, ' '), status, detail: err.message, ...(err.errors ? { errors: err.errors } : {}) };
}
