import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response, Request } from 'express';
import { AppError, INTERNAL_ERROR_STATUS } from './app-error.js';

/**
 * Every error leaves as RFC 9457 problem details: {type, title, status, detail, ...}.
 * An AppError answers with the status its class declares and its code as the problem type.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const problem = toProblem(exception);
    if (problem.status >= 500)
      this.log.error(`${req.method} ${req.path}: ${(exception as Error)?.stack ?? String(exception)}`);
    res
      .status(problem.status)
      .type('application/problem+json')
      .send(JSON.stringify({ ...problem, instance: req.path }));
  }
}

/** An RFC 9457 problem details object; `instance` is added by the filter. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [member: string]: unknown;
}

export function toProblem(exception: unknown): Problem {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const extra = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const detail = Array.isArray(extra.message)
      ? (extra.message as string[]).join('; ')
      : typeof extra.message === 'string'
        ? extra.message
        : exception.message;
    const { message: _m, statusCode: _s, error: _e, ...rest } = extra;
    // The HTTP status wins over any `status` member of the exception body (readyz sends one).
    return {
      type: 'about:blank',
      title: HttpStatus[status]?.replace(/_/g, ' ').toLowerCase() ?? 'error',
      ...rest,
      status,
      detail,
    };
  }
  if (exception instanceof AppError) return appErrorProblem(exception);
  const err = exception as { message?: string; type?: string; status?: number };
  // body-parser errors (bad JSON, too large) carry their own 4xx status.
  if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
    return { type: 'about:blank', title: err.type ?? 'bad request', status: err.status, detail: err.message };
  }
  return internalError();
}

/** What a client learns of a server fault: nothing it could use against the server (no message, no stack). */
function internalError(): Problem {
  return { type: 'about:blank', title: 'internal server error', status: INTERNAL_ERROR_STATUS };
}

function appErrorProblem(e: AppError): Problem {
  if (e.status === INTERNAL_ERROR_STATUS) return internalError();
  // The events a rejected ingest request held, each with its reasons (IngestRejected, BodySplitError).
  const { errors } = e as { errors?: unknown };
  const code = e.code.toLowerCase();
  return {
    type: `urn:routing-ledger:error:${code}`,
    title: code.replace(/_/g, ' '),
    status: e.status,
    detail: e.message,
    ...(errors ? { errors } : {}),
  };
}
