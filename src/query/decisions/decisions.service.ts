import { Injectable } from '@nestjs/common';
import { queryScope, type Principal } from '../../auth/principal.js';
import { decodeCursor, encodeCursor } from '../common/cursor.js';
import { BadQueryError, QueryNotFoundError } from '../common/query.errors.js';
import { DEFAULT_PAGE_SIZE, type DecisionsQueryDto } from './decisions.dto.js';
import { DecisionsRepository } from './decisions.repository.js';
import { explainDecision } from './explain.js';
import { presentChain, presentDetail, presentListItem } from './present.js';

/**
 * Decision history. A record outside the caller's tenants reads as "not found", never
 * "forbidden": an id must not confirm that another tenant's request exists.
 */
@Injectable()
export class DecisionsService {
  constructor(private readonly repo: DecisionsRepository) {}

  async list(q: DecisionsQueryDto, caller: Principal) {
    const scope = queryScope(caller.scope, q.tenant);
    if (q.from && q.to && !(Date.parse(q.from) < Date.parse(q.to)))
      throw new BadQueryError('"from" must be before "to"');
    const limit = q.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repo.list(
      scope,
      {
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        gateway: q.gateway,
        requestedModel: q.requested_model,
        resolvedModel: q.resolved_model,
        provider: q.provider,
        region: q.region,
        fallbackUsed: q.fallback_used,
        cacheStatus: q.cache_status,
        outcome: q.outcome,
        signal: q.signal,
        after: q.cursor ? decodeCursor(q.cursor) : undefined,
      },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(presentListItem),
      next_cursor: rows.length > limit ? encodeCursor({ occurredAt: last.occurred_key, eventId: last.event_id }) : null,
    };
  }

  async get(eventId: string, caller: Principal) {
    return presentDetail(await this.detail(eventId, caller));
  }

  async explain(eventId: string, caller: Principal) {
    const row = await this.detail(eventId, caller);
    return explainDecision(row.record, row.signals);
  }

  async request(requestId: string, caller: Principal) {
    const rows = await this.repo.byRequestId(queryScope(caller.scope), requestId);
    if (rows.length === 0) throw new QueryNotFoundError(`no events for request_id ${requestId} in your tenants`);
    return { request_id: requestId, ...presentChain(rows) };
  }

  async trace(traceId: string, caller: Principal) {
    const rows = await this.repo.byTraceId(queryScope(caller.scope), traceId);
    if (rows.length === 0) throw new QueryNotFoundError(`no events for trace_id ${traceId} in your tenants`);
    return { trace_id: traceId, ...presentChain(rows) };
  }

  private async detail(eventId: string, caller: Principal) {
    const row = await this.repo.byEventId(queryScope(caller.scope), eventId);
    if (!row) throw new QueryNotFoundError(`no decision with event_id ${eventId} in your tenants`);
    return row;
  }
}
