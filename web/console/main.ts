/**
 * The incident console: a page of the service at /console that calls the same API with the same
 * bearer token as any client, and checks the ledger's proofs itself (verify.ts).
 */
import { api } from './api.js';
import { h, link, mount } from './dom.js';
import { navigate, onNavigate } from './router.js';
import { getToken, signOut, takeTokenFromFragment, tokenClaims } from './session.js';
import { errorBox, loading } from './ui.js';
import { decisionsView } from './views/decisions.js';
import { aliasView, findingsView } from './views/findings.js';
import { incidentsView } from './views/incidents.js';
import { ledgerView } from './views/ledger.js';
import { chainView } from './views/request.js';
import { signinView } from './views/signin.js';

const NAV: Array<[string, string]> = [
  ['/console/decisions', 'Decisions'],
  ['/console/incidents', 'Incidents'],
  ['/console/findings', 'Findings'],
  ['/console/ledger', 'Ledger'],
];

const root = document.getElementById('app') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;

function header(path: string): void {
  mount(
    nav,
    NAV.map(([href, label]) =>
      h('a', { href, 'data-nav': true, 'aria-current': path.startsWith(href) ? 'page' : null }, label),
    ),
  );
  const token = getToken();
  const claims = tokenClaims(token);
  mount(
    who,
    searchBox(),
    token
      ? [
          h(
            'span',
            { class: 'muted', title: claims.sub ?? '' },
            `${(claims.roles ?? []).join('+')} · tenants ${(claims.tenants ?? []).join(', ')}`,
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                signOut();
                navigate('/console/signin');
              },
            },
            'Sign out',
          ),
        ]
      : link('/console/signin', 'Sign in'),
  );
}

/** One box for any id: a request, a trace or an event, tried in that order. */
function searchBox(): HTMLElement {
  const input = h('input', {
    id: 'find',
    name: 'id',
    type: 'search',
    placeholder: 'request, trace or event id',
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'find', role: 'search' },
    h('label', { for: 'find', class: 'sr-only' }, 'Find an id'),
    input,
    h('button', { type: 'submit' }, 'Find'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = input.value.trim();
    if (id) navigate(`/console/find/${encodeURIComponent(id)}`);
  });
  return form;
}

async function find(id: string): Promise<void> {
  mount(root, loading(`"${id}"`));
  const enc = encodeURIComponent(id);
  const exists = (path: string) =>
    api(path).then(
      () => true,
      (e: { status?: number }) => (e.status === 404 ? false : Promise.reject(e)),
    );
  try {
    if (await exists(`/v1/requests/${enc}`)) return navigate(`/console/requests/${enc}`, { replace: true });
    if (await exists(`/v1/traces/${enc}`)) return navigate(`/console/traces/${enc}`, { replace: true });
    if (await exists(`/v1/decisions/${enc}`)) return navigate(`/console/events/${enc}`, { replace: true });
    mount(root, h('h1', {}, 'Not found'), h('p', {}, `No request, trace or event "${id}" in your tenants.`));
  } catch (e) {
    mount(root, errorBox(e));
  }
}

async function eventToRequest(id: string): Promise<void> {
  mount(root, loading(`event ${id}`));
  try {
    const d = await api<{ request_id: string }>(`/v1/decisions/${encodeURIComponent(id)}`);
    navigate(`/console/requests/${encodeURIComponent(d.request_id)}`, { replace: true });
  } catch (e) {
    mount(root, errorBox(e));
  }
}

function route(): void {
  const path = location.pathname.replace(/\/+$/, '') || '/console';
  const params = new URLSearchParams(location.search);
  header(path);
  const seg = path.split('/').slice(2).map(decodeURIComponent);
  if (seg[0] === 'signin') return signinView(root, params);
  if (!getToken())
    return navigate(`/console/signin?next=${encodeURIComponent(location.pathname + location.search)}`, {
      replace: true,
    });
  switch (seg[0]) {
    case undefined:
      return navigate('/console/decisions', { replace: true });
    case 'decisions':
      return decisionsView(root, params);
    case 'requests':
      return chainView(root, 'request', seg.slice(1).join('/'));
    case 'traces':
      return chainView(root, 'trace', seg.slice(1).join('/'));
    case 'events':
      return void eventToRequest(seg.slice(1).join('/'));
    case 'find':
      return void find(seg.slice(1).join('/'));
    case 'incidents':
      return incidentsView(root, params);
    case 'findings':
      return findingsView(root, params);
    case 'aliases':
      return aliasView(root, seg.slice(1).join('/'), params);
    case 'ledger':
      return ledgerView(root);
    default:
      mount(root, h('h1', {}, 'Not found'), h('p', {}, link('/console/decisions', 'Go to decisions')));
  }
}

takeTokenFromFragment();
onNavigate(route);
route();
