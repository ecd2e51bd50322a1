import type { NextFunction, Request, Response } from 'express';

/** Deeper JSON bodies are refused before DTO validation recurses through them. */
export const MAX_JSON_DEPTH = 64;

/** A 4xx error body-parser and the problem-details filter understand. */
function badRequest(message: string): Error & { status: number; type: string } {
  return Object.assign(new Error(message), { status: 400, type: 'bad request' });
}

/**
 * express.json `verify` hook: refuses bodies nested deeper than MAX_JSON_DEPTH (class-transformer
 * and class-validator recurse and would overflow the stack: a 500) and bodies carrying U+0000,
 * which PostgreSQL text cannot hold (a 500 from the driver otherwise).
 */
export function verifyJsonBody(_req: unknown, _res: unknown, buf: Buffer): void {
  const text = buf.toString('utf8');
  if (text.includes('\\u0000')) throw badRequest('JSON strings may not contain U+0000');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > MAX_JSON_DEPTH) throw badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === '}' || c === ']') depth--;
  }
}

/** Path and query parameters with U+0000 can never match stored data and break SQL drivers: 400. */
export function rejectNulInUrl(req: Request, res: Response, next: NextFunction): void {
  if (req.originalUrl.includes('\u0000') || /%00/i.test(req.originalUrl)) {
    res
      .status(400)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: 'bad request',
          status: 400,
          detail: 'the URL may not contain U+0000',
          instance: req.path,
        }),
      );
    return;
  }
  next();
}
