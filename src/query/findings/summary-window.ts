import { FINDING_SAMPLES, sampleEventId } from '../../domain/summary/finding-summary.js';
import type { TimeWindow } from '../common/time-window.js';
import type { AliasTargetRow } from './alias-history.js';

/**
 * Findings read finding_hours (per-hour summaries) for the whole hours of their window and the
 * records only for the partial hours at its ends. Pure: splitting a window, and merging the
 * group rows of its parts, which are disjoint in time and in time order (head, hours, tail), so
 * the earliest part holding a group holds its first sighting and first samples.
 */

const HOUR = 3_600_000;

export interface WindowParts {
  /** [from, first whole hour): read from records. */
  head: TimeWindow | null;
  /** The whole hours: read from finding_hours. */
  hours: TimeWindow | null;
  /** [last whole hour's end, to): read from records. */
  tail: TimeWindow | null;
}

export function splitAtHours(w: TimeWindow): WindowParts {
  const from = w.from.getTime();
  const to = w.to.getTime();
  const h1 = Math.ceil(from / HOUR) * HOUR;
  const h2 = Math.floor(to / HOUR) * HOUR;
  if (h1 >= h2) return { head: w, hours: null, tail: null };
  return {
    head: from < h1 ? { from: w.from, to: new Date(h1) } : null,
    hours: { from: new Date(h1), to: new Date(h2) },
    tail: h2 < to ? { from: new Date(h2), to: w.to } : null,
  };
}

/** Fields that are counts or sightings, not part of a group's identity. */
const VALUE_FIELDS = new Set([
  'requests',
  'first_seen',
  'last_seen',
  'sample_event_ids',
  'first_event_id',
  'load_balanced',
]);

function groupKey(row: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(row)
      .filter((k) => !VALUE_FIELDS.has(k))
      .sort()
      .map((k) => [k, row[k]]),
  );
}

interface Sighted {
  requests: number;
  first_seen: string;
  last_seen: string;
}

/**
 * Group rows of the parts (in time order) merged by group: requests added, first/last
 * sighting the min/max (fixed-width RFC 3339 text sorts as time), and `more` merging the rest.
 */
function mergeParts<T extends Sighted>(parts: T[][], more: (have: T, next: T) => void): T[] {
  const out = new Map<string, T>();
  for (const rows of parts) {
    for (const r of rows) {
      const key = groupKey(r as unknown as Record<string, unknown>);
      const have = out.get(key);
      if (!have) {
        out.set(key, { ...r });
        continue;
      }
      have.requests += r.requests;
      if (r.first_seen < have.first_seen) have.first_seen = r.first_seen;
      if (r.last_seen > have.last_seen) have.last_seen = r.last_seen;
      more(have, r);
    }
  }
  return [...out.values()];
}

/** Signal group rows: samples are the first FINDING_SAMPLES of the parts in time order. */
export function mergeSignalGroups<T extends Sighted & { sample_event_ids: string[] }>(parts: T[][]): T[] {
  return mergeParts(parts, (have, next) => {
    if (have.sample_event_ids.length < FINDING_SAMPLES)
      have.sample_event_ids = [...have.sample_event_ids, ...next.sample_event_ids].slice(0, FINDING_SAMPLES);
  });
}

/** Alias target rows: the first event id is the earliest part's; load_balanced as bool_or. */
export function mergeAliasTargets(parts: AliasTargetRow[][]): AliasTargetRow[] {
  return mergeParts(parts, (have, next) => {
    if (next.load_balanced === true || (have.load_balanced == null && next.load_balanced === false))
      have.load_balanced = next.load_balanced;
  });
}

/** A summary group row's samples (jsonb array of each summary row's sample keys) as event ids. */
export function samplesOf(perRow: string[][]): string[] {
  return perRow
    .flat()
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, FINDING_SAMPLES)
    .map(sampleEventId);
}
