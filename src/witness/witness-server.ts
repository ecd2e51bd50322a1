import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  decideAddCheckpoint,
  formatCosignatureLines,
  TLOG_SIZE_CONTENT_TYPE,
} from '../domain/witness/add-checkpoint.js';
import type { NoteSigner, NoteVerifier } from '../domain/note/note-keys.js';
import type { FileWitnessStore } from './witness-store.js';

/** Bigger bodies are refused: 63 proof lines and a note with many signatures fit well below. */
const MAX_BODY_BYTES = 64 * 1024;

export interface WitnessServerOptions {
  cosigner: NoteSigner;
  /** Trusted log verifier keys by origin (a log's origin is its key name). */
  logs: Map<string, NoteVerifier[]>;
  store: Pick<FileWitnessStore, 'get' | 'put'>;
  /** One line per refused or accepted request, for the operator (refusals may be evidence of a fork). */
  log?: (entry: Record<string, unknown>) => void;
}

/**
 * A C2SP tlog-witness (https://c2sp.org/tlog-witness): `POST <prefix>/add-checkpoint` for any
 * log whose key it is given, not only the ledger's. Requests are handled one at a time: reading
 * the stored size, checking and persisting the new one form one step, so no request can roll
 * another's state back (the race the spec describes).
 */
export function createWitnessServer(opts: WitnessServerOptions): Server {
  let queue: Promise<void> = Promise.resolve();
  const serialized = <T>(fn: () => T): Promise<T> => {
    const run = queue.then(fn);
    queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
  return createServer((req, res) => {
    handle(req, res, opts, serialized).catch((e: Error) => {
      opts.log?.({ level: 'error', msg: 'add-checkpoint failed', error: e.message });
      if (!res.headersSent) send(res, 500, 'internal error\n');
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: WitnessServerOptions,
  serialized: <T>(fn: () => T) => Promise<T>,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (!path.endsWith('/add-checkpoint')) return send(res, 404, 'not found\n');
  if (req.method !== 'POST') return send(res, 405, 'POST only\n', { allow: 'POST' });
  const body = await readBody(req);
  if (body === undefined) return send(res, 413, 'request body too large\n');
  const decision = await serialized(() => {
    const d = decideAddCheckpoint(
      body,
      (origin) => opts.logs.get(origin),
      (origin) => opts.store.get(origin),
    );
    if (d.status === 200) opts.store.put(d.checkpoint.origin, d.head);
    return d;
  });
  if (decision.status === 200) {
    opts.log?.({
      level: 'info',
      msg: 'cosigned',
      origin: decision.checkpoint.origin,
      size: decision.checkpoint.treeSize,
    });
    return send(res, 200, formatCosignatureLines(decision.text, [opts.cosigner]));
  }
  opts.log?.({
    level: decision.status === 422 ? 'warn' : 'info',
    msg: 'refused',
    status: decision.status,
    reason: decision.reason,
  });
  if (decision.status === 409)
    return send(res, 409, `${decision.knownSize}\n`, { 'content-type': TLOG_SIZE_CONTENT_TYPE });
  return send(res, decision.status, `${decision.reason}\n`);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
