import { FindingHours1764320000000 } from '../../migrations/1764320000000-finding-hours.js';
import { testSummaryBackfill } from '../support/summary-backfill.js';
import { storedAndRecomputedFindingSummaries } from '../support/summary-check.js';

/**
 * Records stored before finding summaries existed are summarized by the migration that creates
 * them, across chunks and shards, exactly as the append would have counted them.
 */
describe('migration FindingHours: existing records are summarized', () => {
  testSummaryBackfill(FindingHours1764320000000, 'finding_hours', storedAndRecomputedFindingSummaries);
});
