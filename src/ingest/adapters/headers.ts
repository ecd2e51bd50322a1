import { obj, str } from '../../domain/normalize/json-value.js';
import type { RawEvent } from './adapter.js';

/** Case-insensitive header lookup (Kafka header names keep the producer's case). */
export function header(raw: RawEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(raw.headers)) {
    if (k.toLowerCase() === wanted) return str(v);
  }
  return undefined;
}

/** Case-insensitive lookup in a plain header object (a logged response's headers). */
export function headerIn(headers: unknown, name: string): string | undefined {
  const h = obj(headers);
  if (!h) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) {
    if (k.toLowerCase() === wanted) return Array.isArray(v) ? str(v[0]) : str(v);
  }
  return undefined;
}
