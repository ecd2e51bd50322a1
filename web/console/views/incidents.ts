import { api, query } from '../api.js';
import { minuteChart } from '../chart.js';
import { fmtTime, h, link, mount } from '../dom.js';
import { navigate } from '../router.js';
import { exportButton } from './export.js';
import { chainGlance, errorBox, field, formValues, loading, tag, type ChainAttempt } from '../ui.js';

interface Incident {
  window: { from: string; to: string };
  baseline: { from: string; to: string };
  summary: {
    requests: number;
    affected_requests: number;
    fallbacks: number;
    failed_requests: number;
    affected_tenants: string[];
  };
  affected_by_target: Array<{
    tenant_id: string;
    requested_alias: string;
    served: { provider: string | null; model: string | null };
    requests: number;
    affected: number;
    fallbacks: number;
    failed: number;
  }>;
  fallback_chains: Array<{ steps: ChainAttempt[]; requests: number; tenants: string[]; example_event_id: string }>;
  error_classes: Array<{ source: string; provider: string | null; error_class: string; count: number }>;
  deltas: { requests: { window: number; baseline: number } };
  timeline: Array<{ minute: string; requests: number; affected: number; fallbacks: number; failed: number }>;
  affected_requests: Array<{
    event_id: string;
    occurred_at: string;
    tenant_id: string;
    request_id: string;
    requested_model: string;
    served: { provider: string | null; model: string | null };
    outcome_status: string;
    signals: string[];
  }>;
  affected_requests_truncated: boolean;
}

const FIELDS = ['from', 'to', 'provider', 'model', 'region', 'tenant'] as const;

/** /console/incidents?from=&to=&provider=: what a window did to traffic, against the hour before. */
export function incidentsView(root: HTMLElement, params: URLSearchParams): void {
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Incident window' },
    field('From (UTC, RFC 3339)', 'from', params.get('from') ?? '', { placeholder: '2026-11-20T10:00:00Z' }),
    field('To (UTC, at most 24 h later)', 'to', params.get('to') ?? '', { placeholder: '2026-11-20T10:30:00Z' }),
    field('Provider', 'provider', params.get('provider') ?? ''),
    field('Model', 'model', params.get('model') ?? ''),
    field('Region', 'region', params.get('region') ?? ''),
    field('Tenant', 'tenant', params.get('tenant') ?? ''),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Reconstruct')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/console/incidents${query(formValues(form))}`);
  });
  const out = h('section', { 'aria-live': 'polite' });
  mount(root, h('h1', {}, 'Incident'), form, out);
  if (!params.get('from') || !params.get('to')) {
    mount(out, h('p', { class: 'empty' }, 'Choose a window (and a provider, model or region) to reconstruct.'));
    return;
  }
  const body: Record<string, unknown> = { affected_limit: 100 };
  for (const f of FIELDS) if (params.get(f)) body[f] = params.get(f);
  mount(out, loading('the incident'));
  void api<Incident>('/v1/incidents/reconstruct', { method: 'POST', body })
    .then((inc) => mount(out, render(inc)))
    .catch((e) => mount(out, errorBox(e)));
}

function render(inc: Incident): HTMLElement[] {
  const sum = inc.summary;
  const baselinePerMinute = Math.round((inc.deltas.requests.baseline / 60) * 10) / 10;
  const numbers = h(
    'dl',
    { class: 'stats' },
    [
      ['Requests', sum.requests],
      ['Affected', sum.affected_requests],
      ['Fallbacks', sum.fallbacks],
      ['Failed', sum.failed_requests],
      ['Baseline requests / min', baselinePerMinute],
    ].map(([k, v]) =>
      h('div', { class: 'stat', 'data-stat': String(k) }, h('dt', {}, String(k)), h('dd', {}, String(v))),
    ),
  );
  return [
    h(
      'p',
      { class: 'lead' },
      `Window ${fmtTime(inc.window.from)} → ${fmtTime(inc.window.to)}; baseline: the hour before. Affected tenants: ${sum.affected_tenants.join(', ') || 'none'}.`,
    ),
    numbers,
    minuteChart(
      inc.timeline,
      [
        { key: 'requests', label: 'Requests', className: 's-requests' },
        { key: 'fallbacks', label: 'Fallbacks', className: 's-fallbacks' },
        { key: 'failed', label: 'Failed', className: 's-failed' },
      ],
      {
        caption: 'Per minute: requests, fallbacks and failures',
        baseline: { value: baselinePerMinute, label: 'baseline requests / min' },
      },
    ),
    h('h2', {}, 'Evidence'),
    sum.affected_tenants.length === 0
      ? h('p', { class: 'muted' }, 'No affected tenant to export.')
      : h(
          'div',
          { class: 'exports' },
          sum.affected_tenants.map((t) => exportButton(t, inc.window)),
        ),
    h('h2', {}, 'Affected tenants and targets'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Tenant', 'Alias', 'Served by', 'Requests', 'Affected', 'Fallbacks', 'Failed'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        inc.affected_by_target.map((g) =>
          h(
            'tr',
            {},
            [g.tenant_id, g.requested_alias, `${g.served.provider ?? '?'}/${g.served.model ?? '?'}`].map((c) =>
              h('td', {}, c),
            ),
            [g.requests, g.affected, g.fallbacks, g.failed].map((n) => h('td', { class: 'num' }, String(n))),
          ),
        ),
      ),
    ),
    h('h2', {}, 'Fallback chains'),
    inc.fallback_chains.length === 0
      ? h('p', { class: 'muted' }, 'No multi-attempt requests.')
      : h(
          'ul',
          { class: 'chains' },
          inc.fallback_chains.map((c) =>
            h('li', {}, chainGlance(c.steps, 'full'), ` — ${c.requests} requests (${c.tenants.join(', ')})`),
          ),
        ),
    h('h2', {}, 'Error classes'),
    inc.error_classes.length === 0
      ? h('p', { class: 'muted' }, 'No errors.')
      : h(
          'ul',
          {},
          inc.error_classes.map((e) =>
            h('li', {}, `${e.error_class} at ${e.provider ?? '?'} (${e.source}): ${e.count}`),
          ),
        ),
    h(
      'h2',
      {},
      'Affected requests',
      inc.affected_requests_truncated ? h('span', { class: 'muted' }, ' (first 100)') : null,
    ),
    h(
      'table',
      { class: 'affected' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Time (UTC)', 'Tenant', 'Request', 'Requested', 'Served', 'Outcome', 'Findings'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        inc.affected_requests.map((a) =>
          h(
            'tr',
            {},
            h('td', { class: 'time' }, fmtTime(a.occurred_at)),
            h('td', {}, a.tenant_id),
            h('td', {}, link(`/console/requests/${encodeURIComponent(a.request_id)}`, a.request_id)),
            h('td', {}, a.requested_model),
            h('td', {}, `${a.served.provider ?? '?'}/${a.served.model ?? '?'}`),
            h('td', {}, tag(a.outcome_status, a.outcome_status === 'success' ? 'ok' : 'bad')),
            h(
              'td',
              {},
              a.signals.map((s) => tag(s, 'warn')),
            ),
          ),
        ),
      ),
    ),
  ];
}
