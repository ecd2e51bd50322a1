import type { CanonicalRecord } from '../record/canonical-record.js';
import { decimalFromNumber, fitsRecordDecimal, normalizeDecimal, shiftDecimal } from './decimal.js';

/**
 * A cost amount for the record from a gateway number or string, in the gateway's unit scaled by
 * 10^scale (scale -2 for cents). Returns the amount or a note saying why it was left out.
 */
export function costAmount(v: unknown, field: string, scale = 0): { amount?: string; note?: string } {
  if (v === undefined || v === null || v === '') return {};
  const base = typeof v === 'number' ? decimalFromNumber(v) : typeof v === 'string' ? normalizeDecimal(v) : undefined;
  if (base === undefined) return { note: `${field} is not a number; cost left out` };
  const amount = scale === 0 ? base : shiftDecimal(base, scale);
  if (amount === undefined) return { note: `${field} could not be converted; cost left out` };
  if (!fitsRecordDecimal(amount)) {
    return {
      note: `${field} has more digits than the record's decimal allows (18.18); cost left out rather than rounded`,
    };
  }
  return { amount };
}

/** costAmount's amount; when it is left out for a reason, the reason goes to `notes`. */
export function costAmountNoted(v: unknown, field: string, notes: string[], scale = 0): string | undefined {
  const cost = costAmount(v, field, scale);
  if (cost.note) notes.push(cost.note);
  return cost.amount;
}

/** The record's cost as the gateway reported it (USD unless the gateway names a currency). */
export function gatewayCost(amount: string | undefined, currency = 'USD'): CanonicalRecord['cost'] {
  return amount !== undefined ? { amount, currency, source: 'gateway' } : undefined;
}
