import { api, query } from '../api.js';
import { fmtTime, h, link, mount } from '../dom.js';
import { navigate } from '../router.js';
import { errorBox, field, formValues, loading, tag } from '../ui.js';

interface Finding {
  type: string;
  kind: string;
  severity: string;
  tenant_id: string;
  alias: string | null;
  summary: string;
  requests: number;
  first_seen: string | null;
  last_seen: string | null;
  sample_event_ids: string[];
}

const TYPES = [
  'silent_degradation',
  'alias_change',
  'residency_violation',
  'policy_bypass',
  'cost_biased_routing',
  'evaluation_drift',
];

/** /console/findings?from=&to=&tenant=&type=: counts by type, then each finding with examples. */
export function findingsView(root: HTMLElement, params: URLSearchParams): void {
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Finding filters' },
    field('From (UTC)', 'from', params.get('from') ?? '', { placeholder: '2026-11-20T09:00:00Z' }),
    field('To (UTC)', 'to', params.get('to') ?? ''),
    field('Tenant', 'tenant', params.get('tenant') ?? ''),
    field('Type', 'type', params.get('type') ?? '', { list: TYPES }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show findings')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/console/findings${query(formValues(form))}`);
  });
  const out = h('section', { 'aria-live': 'polite' }, loading('findings'));
  mount(root, h('h1', {}, 'Findings'), form, out);
  const q = Object.fromEntries([...params].filter(([k]) => ['from', 'to', 'tenant', 'type'].includes(k)));
  void api<{
    window: { from: string; to: string };
    counts: Record<string, number>;
    findings: Finding[];
    next_cursor?: string | null;
  }>(`/v1/findings${query({ ...q, limit: '200' })}`)
    .then((res) =>
      mount(
        out,
        h('p', { class: 'lead' }, `Window ${fmtTime(res.window.from)} → ${fmtTime(res.window.to)}`),
        h(
          'dl',
          { class: 'stats' },
          Object.entries(res.counts).map(([t, n]) =>
            h('div', { class: 'stat', 'data-stat': t }, h('dt', {}, t.replace(/_/g, ' ')), h('dd', {}, String(n))),
          ),
        ),
        res.findings.length === 0
          ? h('p', { class: 'empty' }, 'No findings in this window.')
          : h(
              'table',
              {},
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Severity', 'Type', 'Tenant', 'Alias', 'Requests', 'Seen', 'Summary', 'Examples'].map((c) =>
                    h('th', { scope: 'col' }, c),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                res.findings.map((f) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, tag(f.severity, f.severity === 'high' ? 'bad' : 'warn')),
                    h('td', {}, `${f.type} / ${f.kind}`),
                    h('td', {}, f.tenant_id),
                    h(
                      'td',
                      {},
                      f.alias
                        ? link(
                            `/console/aliases/${encodeURIComponent(f.alias)}${query({ tenant: f.tenant_id, from: res.window.from, to: res.window.to })}`,
                            f.alias,
                          )
                        : '—',
                    ),
                    h('td', { class: 'num' }, String(f.requests)),
                    h('td', { class: 'time' }, `${fmtTime(f.first_seen)} – ${fmtTime(f.last_seen)}`),
                    h('td', {}, f.summary),
                    h(
                      'td',
                      {},
                      f.sample_event_ids
                        .slice(0, 3)
                        .map((id) => h('div', {}, link(`/console/events/${encodeURIComponent(id)}`, id))),
                    ),
                  ),
                ),
              ),
            ),
      ),
    )
    .catch((e) => mount(out, errorBox(e)));
}

interface AliasTarget {
  provider: string | null;
  model: string | null;
  version: string | null;
}

interface AliasHistory {
  tenant_id: string;
  alias: string;
  targets: Array<AliasTarget & { requests: number; first_seen: string; last_seen: string }>;
  change_points: Array<{
    at: string;
    from: AliasTarget | null;
    to: AliasTarget;
    requests: number;
    previous_still_served: boolean;
    first_event_id: string;
  }>;
}

const target = (t: AliasTarget | null) =>
  t ? `${t.provider ?? '?'}/${t.model ?? '?'}${t.version ? ` (${t.version})` : ''}` : 'nothing';

/** /console/aliases/{alias}: when the alias began answering with another model or version, per tenant, as a timeline. */
export function aliasView(root: HTMLElement, alias: string, params: URLSearchParams): void {
  const out = h('section', { 'aria-live': 'polite' }, loading(`the history of ${alias}`));
  mount(root, h('h1', {}, 'Alias ', h('code', {}, alias)), out);
  const q = Object.fromEntries([...params].filter(([k]) => ['from', 'to', 'tenant'].includes(k)));
  void api<{ window: { from: string; to: string }; tenants: AliasHistory[] }>(
    `/v1/aliases/${encodeURIComponent(alias)}/history${query(q)}`,
  )
    .then((res) =>
      mount(
        out,
        h('p', { class: 'lead' }, `Window ${fmtTime(res.window.from)} → ${fmtTime(res.window.to)}`),
        res.tenants.length === 0 ? h('p', { class: 'empty' }, 'No traffic for this alias in your tenants.') : null,
        res.tenants.map((t) =>
          h(
            'section',
            { class: 'event' },
            h('h2', {}, `Tenant ${t.tenant_id}`),
            h(
              'ol',
              { class: 'timeline' },
              t.targets.map((x) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'time' }, `${fmtTime(x.first_seen)} – ${fmtTime(x.last_seen)}`),
                  ` ${target(x)}: ${x.requests} requests`,
                ),
              ),
            ),
            t.change_points.length === 0
              ? h('p', { class: 'muted' }, 'No change of target.')
              : h(
                  'ul',
                  {},
                  t.change_points.map((c) =>
                    h(
                      'li',
                      {},
                      tag('changed', 'warn'),
                      ` at ${fmtTime(c.at)}: ${target(c.from)} → ${target(c.to)} (${c.requests} requests${c.previous_still_served ? ', the old target still served some' : ''}) — first `,
                      link(`/console/events/${encodeURIComponent(c.first_event_id)}`, c.first_event_id),
                    ),
                  ),
                ),
          ),
        ),
      ),
    )
    .catch((e) => mount(out, errorBox(e)));
}
