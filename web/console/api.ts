import { getToken } from './session.js';

/** An API error as the server described it (RFC 9457 problem details), or the transport's failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly code: string | undefined,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

/** GET or POST `path` on this origin with the session's bearer token; JSON in, JSON out. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; auth?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token && init.auth !== false) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (e) {
    throw new ApiError(0, 'The service did not answer', (e as Error).message, 'NETWORK');
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const p = (body ?? {}) as { title?: string; detail?: string; code?: string };
    throw new ApiError(res.status, p.title ?? `HTTP ${res.status}`, p.detail ?? (body ? undefined : text), p.code);
  }
  return body as T;
}

export function query(params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : '';
}
