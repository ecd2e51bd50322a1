import { CostHours1764330000000 } from '../../migrations/1764330000000-cost-hours.js';
import { testSummaryBackfill } from '../support/summary-backfill.js';
import { storedAndRecomputedCostSummaries } from '../support/summary-check.js';

/**
 * Records stored before cost summaries existed are summarized by the migration that creates
 * them, across chunks and shards, exactly as the append would have counted them.
 */
describe('migration CostHours: existing records are summarized', () => {
  testSummaryBackfill(CostHours1764330000000, 'cost_hours', storedAndRecomputedCostSummaries);
});
