import type { Receipt } from '../../../src/domain/receipt/receipt.js';
import type { Jwks } from '../../../src/domain/checkpoint/signing-key.js';
import type { Attempt, CanonicalRecord } from '../../../src/domain/record/canonical-record.js';
import { api } from '../api.js';
import { fmtTime, h, link, mount, s } from '../dom.js';
import { chainGlance, errorBox, loading, tag } from '../ui.js';
import { pinnedJwks, verifyReceiptInBrowser, type Verdict } from '../verify.js';

interface ChainView {
  tenant_ids: string[];
  events: Array<{ event_id: string; occurred_at: string }>;
  attempt_chain: Array<Attempt & { event_id: string; step: number }>;
  incomplete_chain_events: string[];
}

interface Detail {
  event_id: string;
  ledger: { shard: number; leaf_index: number };
  record: CanonicalRecord;
}

/** /console/requests/{id} and /console/traces/{id}: the events in order, each with its waterfall and its proof. */
export function chainView(root: HTMLElement, kind: 'request' | 'trace', id: string): void {
  const title = h('h1', {}, kind === 'request' ? 'Request ' : 'Trace ', h('code', {}, id));
  const body = h('div', {}, loading(`the ${kind}`));
  mount(root, title, body);
  void (async () => {
    try {
      const path =
        kind === 'request' ? `/v1/requests/${encodeURIComponent(id)}` : `/v1/traces/${encodeURIComponent(id)}`;
      const chain = await api<ChainView>(path);
      const jwks = api<Jwks>('/.well-known/jwks.json', { auth: false });
      jwks.catch(() => undefined);
      const all = chain.attempt_chain;
      mount(
        body,
        h(
          'p',
          { class: 'lead' },
          `${chain.events.length} event${chain.events.length === 1 ? '' : 's'} · tenant ${chain.tenant_ids.join(', ')} · attempt chain: `,
          chainGlance(all, chain.incomplete_chain_events.length ? 'partial' : 'full'),
        ),
        chain.events.map((e, i) => eventSection(e.event_id, i + 1, jwks)),
      );
    } catch (e) {
      mount(body, errorBox(e));
    }
  })();
}

function eventSection(eventId: string, n: number, jwksPromise: Promise<Jwks>): HTMLElement {
  const section = h('section', { class: 'event', 'aria-label': `Event ${n}` }, loading(`event ${eventId}`));
  void (async () => {
    try {
      const [detail, explain] = await Promise.all([
        api<Detail>(`/v1/decisions/${encodeURIComponent(eventId)}`),
        api<{ text: string }>(`/v1/decisions/${encodeURIComponent(eventId)}/explain`),
      ]);
      const r = detail.record;
      const badge = h(
        'div',
        { class: 'badge pending', 'data-state': 'pending', role: 'status' },
        'Checking the proof in your browser…',
      );
      mount(
        section,
        h('header', {}, h('h2', {}, `Event ${n}: `, h('code', {}, eventId)), badge),
        h('p', { class: 'explain' }, explain.text),
        facts(r, detail),
        h('h3', {}, 'Attempts'),
        waterfall(r.attempts?.items ?? [], r.attempts?.completeness ?? 'none'),
        policyChecks(r),
      );
      void checkProof(badge, eventId, r, jwksPromise);
    } catch (e) {
      mount(section, errorBox(e));
    }
  })();
  return section;
}

function facts(r: CanonicalRecord, d: Detail): HTMLElement {
  const asserted = (v?: { value: string; asserted_by: string }) =>
    v
      ? [v.value, h('span', { class: 'muted' }, ` (asserted by ${v.asserted_by})`)]
      : h('span', { class: 'muted' }, 'not reported');
  const rows: Array<[string, unknown]> = [
    ['Occurred', fmtTime(r.occurred_at)],
    ['Tenant · gateway', `${r.tenant_id} · ${r.gateway.id}${r.gateway.kind ? ` (${r.gateway.kind})` : ''}`],
    ['Requested model', [r.requested_model, h('span', { class: 'muted' }, ' (asserted by client)')]],
    ['Resolved model', asserted(r.resolved_model)],
    ['Reported model', asserted(r.reported_model)],
    [
      'Provider · region',
      `${r.provider ?? '?'} · ${r.region?.served ?? '?'}${r.region?.required ? ` (required: ${r.region.required.join(', ')})` : ''}`,
    ],
    [
      'Routing',
      r.routing
        ? [
            r.routing.strategy ?? '',
            r.routing.reason ? ` — ${r.routing.reason}` : '',
            r.routing.rule_id ? ` (rule ${r.routing.rule_id})` : '',
          ]
        : '—',
    ],
    ['Fallback', String(r.fallback_used ?? 'not reported')],
    ['Cache', r.cache?.status ?? '—'],
    [
      'Outcome',
      [
        tag(r.outcome.status, r.outcome.status === 'success' ? 'ok' : 'bad'),
        r.outcome.error_class ? ` ${r.outcome.error_class}` : '',
        r.outcome.http_status ? ` HTTP ${r.outcome.http_status}` : '',
      ],
    ],
    ['Cost', r.cost ? `${r.cost.amount} ${r.cost.currency}${r.cost.source ? ` (${r.cost.source})` : ''}` : '—'],
    ['Tokens', r.usage ? `${r.usage.input_tokens ?? '?'} in · ${r.usage.output_tokens ?? '?'} out` : '—'],
    ['Latency', r.latency?.total_ms !== undefined ? `${r.latency.total_ms} ms total` : '—'],
    ['Ledger position', `shard ${d.ledger.shard}, leaf ${d.ledger.leaf_index}`],
    ['Trace', r.trace_id ? link(`/console/traces/${encodeURIComponent(r.trace_id)}`, r.trace_id) : '—'],
  ];
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v as never)]),
  );
}

/** One bar per attempt, on a time axis when start times are known, else laid end to end. */
function waterfall(items: Attempt[], completeness: string): HTMLElement {
  if (items.length === 0) return h('p', { class: 'muted' }, `No attempts reported (${completeness}).`);
  const starts = items.map((a) => (a.started_at ? Date.parse(a.started_at) : NaN));
  const known = starts.every(Number.isFinite);
  let cursor = 0;
  const spans = items.map((a, i) => {
    const start = known ? starts[i] - starts[0] : cursor;
    const len = a.latency_ms ?? 0;
    cursor = start + len;
    return { a, start, len };
  });
  const total = Math.max(1, ...spans.map((x) => x.start + x.len));
  const width = 420;
  const rowH = 22;
  const chart = s(
    'svg',
    {
      class: 'waterfall',
      viewBox: `0 0 ${width} ${items.length * rowH}`,
      width,
      height: items.length * rowH,
      role: 'img',
      'aria-label': 'Attempt waterfall',
    },
    spans.map(({ a, start, len }, i) =>
      s('rect', {
        x: (start / total) * width,
        y: i * rowH + 4,
        width: Math.max(2, (len / total) * width),
        height: rowH - 8,
        class: `bar bar-${a.status ?? 'unknown'}`,
      }),
    ),
  );
  const table = h(
    'table',
    { class: 'attempts' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['#', 'Provider', 'Model', 'Region', 'Status', 'Error class', 'HTTP', 'Latency'].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((a) =>
        h(
          'tr',
          {},
          h('td', {}, String(a.index)),
          h('td', {}, a.provider ?? '?'),
          h('td', {}, a.model ?? '?'),
          h('td', {}, a.region ?? '—'),
          h(
            'td',
            {},
            tag(
              a.status ?? 'unknown',
              a.status === 'success' ? 'ok' : a.status === 'error' || a.status === 'timeout' ? 'bad' : '',
            ),
          ),
          h('td', {}, a.error_class ?? '—'),
          h('td', {}, a.http_status !== undefined ? String(a.http_status) : '—'),
          h('td', { class: 'num' }, a.latency_ms !== undefined ? `${a.latency_ms} ms` : '—'),
        ),
      ),
    ),
  );
  return h('div', { class: 'waterfall-box' }, table, chart);
}

function policyChecks(r: CanonicalRecord): HTMLElement | null {
  const checks = r.policy_checks ?? [];
  if (checks.length === 0) return null;
  return h(
    'div',
    {},
    h('h3', {}, 'Policy checks'),
    h(
      'ul',
      { class: 'checks' },
      checks.map((c) =>
        h(
          'li',
          {},
          tag(c.result, c.result === 'pass' ? 'ok' : 'bad'),
          ` ${c.name}`,
          c.required ? ' (required)' : '',
          c.detail ? ` — ${c.detail}` : '',
        ),
      ),
    ),
  );
}

async function checkProof(
  badge: HTMLElement,
  eventId: string,
  record: CanonicalRecord,
  jwksPromise: Promise<Jwks>,
): Promise<void> {
  let verdict: Verdict;
  try {
    const [receipt, jwks] = await Promise.all([
      api<Receipt>(`/v1/records/${encodeURIComponent(eventId)}/receipt`),
      jwksPromise,
    ]);
    verdict = await verifyReceiptInBrowser(receipt, record, jwks, pinnedJwks());
  } catch (e) {
    verdict = {
      ok: false,
      reason: `Could not fetch the proof: ${(e as Error).message}`,
      steps: [],
      keySource: 'server',
      checkpoint: null,
    };
  }
  badge.className = `badge ${verdict.ok ? 'verified' : 'failed'}`;
  badge.setAttribute('data-state', verdict.ok ? 'verified' : 'failed');
  const keyNote =
    verdict.keySource === 'pinned'
      ? 'Checked against the JWKS you pinned.'
      : 'Checked against the keys this server publishes: pin a trusted JWKS (Ledger page) so the server cannot vouch for itself.';
  mount(
    badge,
    h(
      'details',
      {},
      h(
        'summary',
        {},
        verdict.ok
          ? `✓ Verified in your browser${verdict.keySource === 'pinned' ? ' (pinned key)' : ''}`
          : `✗ FAILED — ${verdict.reason}`,
      ),
      h(
        'ol',
        { class: 'steps' },
        verdict.steps.map((st) =>
          h('li', { class: st.ok ? 'ok' : 'bad' }, h('strong', {}, `${st.ok ? '✓' : '✗'} ${st.name}: `), st.detail),
        ),
      ),
      h('p', { class: 'muted' }, keyNote),
    ),
  );
}
