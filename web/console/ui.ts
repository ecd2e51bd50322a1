import { ApiError } from './api.js';
import { h, link, type Child } from './dom.js';

/** Shared pieces of the views: loading states, readable errors, attempt chains, badges. */

export function loading(what: string): HTMLElement {
  return h('p', { class: 'loading', role: 'status', 'aria-live': 'polite' }, `Loading ${what}…`);
}

/** An API problem as a sentence a person can act on. */
export function errorBox(e: unknown): HTMLElement {
  const err = e instanceof ApiError ? e : null;
  const hint =
    err?.status === 401
      ? ['Your token is missing, expired or not trusted. ', link('/console/signin', 'Sign in again'), '.']
      : err?.status === 403
        ? 'Your token does not allow this (role or tenant).'
        : err?.status === 404
          ? 'Nothing found in your tenants.'
          : null;
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', {}, err ? `${err.title} (HTTP ${err.status || 'n/a'})` : 'Error'),
    h('p', {}, err?.detail ?? (e as Error)?.message ?? String(e)),
    hint ? h('p', {}, hint) : null,
  );
}

export interface ChainAttempt {
  provider?: string | null;
  model?: string | null;
  region?: string | null;
  status?: string | null;
  error_class?: string | null;
}

const MARK: Record<string, string> = {
  success: '✓',
  error: '✗',
  timeout: '✗ timeout',
  skipped: '– skipped',
  unknown: '?',
};

/** "openai/gpt-4o ✗ → anthropic/claude ✓": the attempt chain at a glance. */
export function chainGlance(items: ChainAttempt[], completeness: string): HTMLElement {
  if (items.length === 0) return h('span', { class: 'muted' }, completeness === 'none' ? 'attempts not reported' : '—');
  const parts: Child[] = [];
  items.forEach((a, i) => {
    if (i > 0) parts.push(h('span', { class: 'arrow', 'aria-hidden': 'true' }, ' → '));
    const status = a.status ?? 'unknown';
    parts.push(
      h(
        'span',
        {
          class: `attempt attempt-${status}`,
          title: [a.provider, a.model, a.region, status, a.error_class].filter(Boolean).join(' · '),
        },
        `${a.provider ?? '?'}/${a.model ?? '?'} `,
        h('span', { class: 'mark', 'aria-label': status }, MARK[status] ?? '?'),
      ),
    );
  });
  if (completeness !== 'full') parts.push(h('span', { class: 'muted' }, ` (${completeness})`));
  return h('span', { class: 'chain' }, parts);
}

export function tag(text: string, kind = ''): HTMLElement {
  return h('span', { class: `tag ${kind}` }, text);
}

export function field(
  label: string,
  name: string,
  value: string,
  opts: { type?: string; list?: string[]; placeholder?: string } = {},
): HTMLElement {
  const id = `f-${name}`;
  const control = opts.list
    ? h(
        'select',
        { id, name },
        h('option', { value: '' }, 'any'),
        opts.list.map((v) => h('option', { value: v, selected: v === value }, v)),
      )
    : h('input', {
        id,
        name,
        value,
        type: opts.type ?? 'text',
        placeholder: opts.placeholder ?? '',
        autocomplete: 'off',
      });
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

/** The values of a form's named controls, empty ones left out. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  return out;
}

/** datetime-local (browser local time) ↔ RFC 3339 UTC. */
export function toIso(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const t = Date.parse(local.endsWith('Z') ? local : local.length <= 16 ? `${local}:00Z` : `${local}Z`);
  return Number.isFinite(t) ? new Date(t).toISOString() : local;
}
