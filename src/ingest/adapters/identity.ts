import { id } from '../../domain/normalize/json-value.js';
import { isEmail } from '../../domain/privacy/redact.js';
import type { SourceFormat } from '../../domain/record/canonical-record.js';
import { DEFAULT_TENANT_HEADER, DecodeError, ROUTING_HEADERS, type RawEvent } from './adapter.js';
import { header } from './headers.js';

/** Who an event belongs to: the gateway instance that sent it and the tenant it is for. */

export function gatewayId(
  raw: RawEvent,
  fromPayload: string | undefined,
  format: SourceFormat,
  notes: string[],
): string {
  const h = id(header(raw, ROUTING_HEADERS.gatewayId));
  if (h) return h;
  if (fromPayload) return fromPayload;
  notes.push(`gateway.id: no ${ROUTING_HEADERS.gatewayId} header and none in the payload; using "${format}"`);
  return format;
}

/**
 * The tenant, from the first payload candidate that is set, else the x-routing-tenant header,
 * else the ingest token's only tenant, else the default tenant registered for the event's
 * gateway (`gateway`), else the ledger's DEFAULT_TENANT, else
 * DecodeError('NO_TENANT'): a record without a tenant cannot be attributed or queried. A note
 * says where the tenant came from whenever it is not the event itself.
 * An e-mail address is never used as a tenant id (it would store personal data in the record).
 */
export function resolveTenant(
  raw: RawEvent,
  candidates: Array<[string, unknown]>,
  label: string,
  notes: string[],
  gateway?: string,
): string {
  for (const [source, value] of candidates) {
    const s = id(value);
    if (!s) continue;
    if (isEmail(s)) {
      notes.push(`tenant candidate ${source} is an e-mail address; not used`);
      continue;
    }
    return s;
  }
  const h = id(header(raw, ROUTING_HEADERS.tenant));
  if (h && !isEmail(h)) {
    notes.push(`tenant_id from the ${ROUTING_HEADERS.tenant} header`);
    return h;
  }
  const token = id(header(raw, ROUTING_HEADERS.tokenTenant));
  if (token && !isEmail(token)) {
    notes.push('tenant_id from the ingest token, whose only tenant it is');
    return token;
  }
  const registered = gateway === undefined ? undefined : id(raw.gatewayDefaultTenant?.(gateway));
  if (registered) {
    notes.push(`tenant_id is the default tenant registered for gateway "${gateway}": the event named none`);
    return registered;
  }
  const fallback = id(header(raw, DEFAULT_TENANT_HEADER));
  if (fallback) {
    notes.push(
      `tenant_id is the ledger's DEFAULT_TENANT "${fallback}": neither the event, the ${ROUTING_HEADERS.tenant} header nor the ingest token named one`,
    );
    return fallback;
  }
  const looked = candidates.map(([s]) => s).join(', ');
  throw new DecodeError(
    'NO_TENANT',
    `${label}: no tenant in the event (${looked || 'no candidate fields'}), no ${ROUTING_HEADERS.tenant} header, no single-tenant ingest token, no default tenant registered for the gateway, and DEFAULT_TENANT is empty`,
  );
}
