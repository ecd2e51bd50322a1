import { createHash } from 'node:crypto';
import type { CanonicalRecord } from '../domain/record/canonical-record.js';
import type { EventDecoder } from './decode-batch.js';

/** Temporary native-only decoder until the adapters land (issue 5). */
export const decodeEvent: EventDecoder = (raw) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.payload.toString('utf8'));
  } catch (e) {
    throw Object.assign(new Error(`payload is not valid JSON: ${(e as Error).message}`), { code: 'INVALID_JSON' });
  }
  const rec = parsed as CanonicalRecord;
  const sha = createHash('sha256').update(raw.payload).digest('hex');
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw Object.assign(new Error('payload is not a JSON object'), { code: 'NOT_AN_OBJECT' });
  return [{ record: { ...rec, source: { ...(rec.source ?? {}), format: 'native', raw_sha256: sha } }, notes: [] }];
};
