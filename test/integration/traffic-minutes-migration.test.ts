import { TrafficMinutes1764210000000 } from '../../migrations/1764210000000-traffic-minutes.js';
import { testSummaryBackfill } from '../support/summary-backfill.js';
import { storedAndRecomputedSummaries } from '../support/summary-check.js';

/**
 * Records stored before traffic summaries existed are summarized by the migration that creates
 * them, across chunks and shards, exactly as the append would have counted them.
 */
describe('migration TrafficMinutes: existing records are summarized', () => {
  testSummaryBackfill(TrafficMinutes1764210000000, 'traffic_minutes', storedAndRecomputedSummaries);
});
