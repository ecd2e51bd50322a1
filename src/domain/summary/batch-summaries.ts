/**
 * The three summaries of one appended batch in one pass: each record's instant is read once
 * and shared by the traffic, finding and cost roll-ups (each used to parse it on its own).
 */
import { CostRollup, type CostFact, type CostRow } from './cost-summary.js';
import { FindingRollup, type FindingFact, type FindingRow } from './finding-summary.js';
import { epochMicros, TrafficRollup, type SummaryFact, type SummaryRow } from './traffic-summary.js';

/** A record's facts, as prepared for the append. */
export interface RecordSummaryFacts {
  summary: SummaryFact;
  findings: FindingFact;
  costs: CostFact;
}

export interface BatchSummaries {
  traffic: SummaryRow[];
  findings: FindingRow[];
  costs: CostRow[];
}

/** The same rows as summarizeFacts, summarizeFindingFacts and summarizeCostFacts of the records. */
export function summarizeBatch(records: Iterable<RecordSummaryFacts>): BatchSummaries {
  const traffic = new TrafficRollup();
  const findings = new FindingRollup();
  const costs = new CostRollup();
  for (const r of records) {
    const us = epochMicros(r.summary.occurredAt);
    traffic.add(r.summary, us);
    findings.add(r.findings, us, r.summary.eventId);
    costs.add(r.costs, us, r.summary.eventId);
  }
  return { traffic: traffic.rows(), findings: findings.rows(), costs: costs.rows() };
}
