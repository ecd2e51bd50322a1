import { parseTime } from '../../domain/normalize/time.js';
import { DecodeError } from './adapter.js';

/**
 * The ISO time of `v` for a member the record cannot do without (occurred_at), with parseTime's
 * notes added to `notes`; DecodeError('BAD_TIME') "<where>: <field> <problem>" when it is not a time.
 */
export function requiredTime(
  v: unknown,
  field: string,
  where: string,
  notes: string[],
  problem = 'is not a timestamp',
): string {
  const time = parseTime(v, field);
  if (!time) throw new DecodeError('BAD_TIME', `${where}: ${field} ${problem}`);
  notes.push(...time.notes);
  return time.iso;
}
