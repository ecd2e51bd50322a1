import { api, ApiError } from '../api.js';
import { h, mount } from '../dom.js';
import { navigate } from '../router.js';
import { setToken } from '../session.js';
import { errorBox } from '../ui.js';

/** /console/signin: paste a bearer token, or (outside production) take a development token in one click. */
export function signinView(root: HTMLElement, params: URLSearchParams): void {
  const next = params.get('next') ?? '/console/decisions';
  const input = h('textarea', {
    id: 'token',
    name: 'token',
    rows: 4,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const message = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'signin', 'aria-label': 'Sign in' },
    h('label', { for: 'token' }, 'Bearer token (JWT)'),
    input,
    h(
      'p',
      { class: 'muted' },
      'Kept in this tab only (sessionStorage). The console can do what the token allows, nothing more.',
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value);
    navigate(next);
  });
  const dev = h('div', {});
  mount(root, h('h1', {}, 'Sign in'), form, dev, message);
  void api<{ dev_token: boolean }>('/console/config.json', { auth: false })
    .then((cfg) => {
      if (!cfg.dev_token) return;
      mount(
        dev,
        h('p', {}, 'Development service: '),
        h(
          'button',
          {
            type: 'button',
            id: 'dev-token',
            onclick: async () => {
              try {
                const { token } = await api<{ token: string }>('/console/dev-token', { method: 'POST', auth: false });
                setToken(token);
                navigate(next);
              } catch (e) {
                mount(message, errorBox(e instanceof ApiError ? e : new Error(String(e))));
              }
            },
          },
          'Use a development admin token',
        ),
      );
    })
    .catch(() => undefined);
}
