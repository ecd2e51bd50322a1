import type { IHeaders } from 'kafkajs';

/** kafkajs headers as lower-case name → UTF-8 string (the first value of repeated headers). */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    out[k.toLowerCase()] =
      first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}
