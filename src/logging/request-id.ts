import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What an incoming id may look like: printable ASCII without spaces, short enough for a log field. */
const ACCEPTED_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The request's id: the caller's x-request-id when it is a plausible id (so a gateway's id
 * follows the request into these logs), else a new UUID. Anything else (a list of ids, control
 * characters, a 10 KB header) is replaced, not trimmed, so no caller can forge log content.
 */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && ACCEPTED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The request's id, given to it (and to its response's x-request-id header) on first use. */
export function ensureRequestId(req: IncomingMessage, res: ServerResponse): string {
  const holder = req as { id?: unknown };
  if (typeof holder.id === 'string') return holder.id;
  const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
  holder.id = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/**
 * The first middleware: the id is given before any guard or body parser can refuse the request,
 * so even those answers carry x-request-id; the logger's middleware, which runs later, reuses it.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  ensureRequestId(req, res);
  next();
}
