import { BadQueryError } from './query.errors.js';

export interface TimeWindow {
  from: Date;
  to: Date;
}

/**
 * A half-open window [from, to). Missing ends default to `to = now` and `from = to - defaultMs`;
 * windows longer than `maxMs` are refused so that no request scans unbounded history.
 */
export function resolveWindow(
  input: { from?: string; to?: string },
  opts: { now: Date; defaultMs: number; maxMs: number },
): TimeWindow {
  const to = input.to ? new Date(input.to) : opts.now;
  const from = input.from ? new Date(input.from) : new Date(to.getTime() - opts.defaultMs);
  if (!(from.getTime() < to.getTime())) throw new BadQueryError('"from" must be before "to"');
  if (to.getTime() - from.getTime() > opts.maxMs)
    throw new BadQueryError(`the window may span at most ${formatDuration(opts.maxMs)}`);
  return { from, to };
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day(s)`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour(s)`;
  return `${Math.round(ms / 60_000)} minute(s)`;
}
