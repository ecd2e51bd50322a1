import { api, query } from '../api.js';
import { fmtTime, h, link, mount } from '../dom.js';
import { navigate } from '../router.js';
import { chainGlance, errorBox, field, formValues, loading, tag, type ChainAttempt } from '../ui.js';

interface DecisionItem {
  event_id: string;
  occurred_at: string;
  tenant_id: string;
  gateway_id: string;
  request_id: string;
  trace_id: string | null;
  requested_model: string;
  resolved_model: string | null;
  provider: string | null;
  region_served: string | null;
  fallback_used: boolean | 'unknown' | null;
  cache_status: string | null;
  outcome_status: string;
  signals: string[];
  attempts: { completeness: string; items: ChainAttempt[] };
}

const FILTERS: Array<[string, string, string[]?]> = [
  ['tenant', 'Tenant'],
  ['from', 'From (UTC, RFC 3339)'],
  ['to', 'To (UTC, exclusive)'],
  ['gateway', 'Gateway'],
  ['requested_model', 'Requested alias'],
  ['provider', 'Provider'],
  ['resolved_model', 'Served model'],
  ['region', 'Region'],
  ['fallback_used', 'Fallback', ['true', 'false', 'unknown']],
  ['cache_status', 'Cache', ['hit', 'semantic_hit', 'miss', 'bypass', 'refresh', 'unknown']],
  ['outcome', 'Outcome', ['success', 'error', 'blocked', 'cancelled']],
  [
    'signal',
    'Finding',
    [
      'fallback',
      'silent_substitution',
      'residency_violation',
      'policy_bypass',
      'cache_hit',
      'error',
      'unknown_attempts',
      'missing_version',
      'missing_region',
    ],
  ],
];

/** /console/decisions?<filters>: the filter form and the decisions table, paged by cursor. */
export function decisionsView(root: HTMLElement, params: URLSearchParams): void {
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Decision filters' },
    FILTERS.map(([name, label, list]) =>
      field(label, name, params.get(name) ?? '', {
        list,
        placeholder: name === 'from' || name === 'to' ? '2026-11-20T10:00:00Z' : '',
      }),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Apply filters'),
      link('/console/decisions', 'Clear'),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/console/decisions${query(formValues(form))}`);
  });
  const results = h('section', { 'aria-label': 'Decisions', 'aria-live': 'polite' });
  mount(root, h('h1', {}, 'Decisions'), form, results);
  const filters = Object.fromEntries([...params].filter(([k]) => k !== 'cursor'));
  void loadPage(results, filters, params.get('cursor') ?? undefined, []);
}

async function loadPage(
  results: HTMLElement,
  filters: Record<string, string>,
  cursor: string | undefined,
  previous: string[],
): Promise<void> {
  mount(results, loading('decisions'));
  try {
    const page = await api<{ items: DecisionItem[]; next_cursor: string | null }>(
      `/v1/decisions${query({ ...filters, cursor, limit: '50' })}`,
    );
    const pager = h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      previous.length > 0
        ? h(
            'button',
            {
              type: 'button',
              onclick: () => void loadPage(results, filters, previous.at(-1) || undefined, previous.slice(0, -1)),
            },
            '← Newer',
          )
        : null,
      page.next_cursor
        ? h(
            'button',
            {
              type: 'button',
              onclick: () => void loadPage(results, filters, page.next_cursor!, [...previous, cursor ?? '']),
            },
            'Older →',
          )
        : h('span', { class: 'muted' }, 'end of results'),
    );
    if (page.items.length === 0) {
      mount(results, h('p', { class: 'empty' }, 'No decisions match these filters.'));
      return;
    }
    mount(
      results,
      h(
        'table',
        { class: 'decisions' },
        h('caption', {}, `${page.items.length} decisions, newest first`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Time (UTC)', 'Tenant', 'Request', 'Requested', 'Attempts', 'Served', 'Outcome', 'Findings'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          page.items.map((d) =>
            h(
              'tr',
              { 'data-event-id': d.event_id },
              h('td', { class: 'time' }, fmtTime(d.occurred_at)),
              h('td', {}, d.tenant_id),
              h('td', {}, link(`/console/requests/${encodeURIComponent(d.request_id)}`, d.request_id)),
              h('td', {}, d.requested_model),
              h('td', {}, chainGlance(d.attempts.items, d.attempts.completeness)),
              h(
                'td',
                {},
                `${d.provider ?? '?'}/${d.resolved_model ?? '?'}`,
                d.region_served ? h('span', { class: 'muted' }, ` ${d.region_served}`) : null,
              ),
              h(
                'td',
                {},
                tag(d.outcome_status, d.outcome_status === 'success' ? 'ok' : 'bad'),
                d.cache_status === 'hit' ? tag('cache') : null,
              ),
              h(
                'td',
                {},
                d.signals.filter((s) => s !== 'fallback' && s !== 'cache_hit').map((s) => tag(s, 'warn')),
              ),
            ),
          ),
        ),
      ),
      pager,
    );
  } catch (e) {
    mount(results, errorBox(e));
  }
}
