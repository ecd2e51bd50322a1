/** History-API navigation inside /console: every view is a URL (deep links), the server answers index.html for all. */
let render: () => void = () => undefined;

export function onNavigate(fn: () => void): void {
  render = fn;
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.('a[data-nav]') as HTMLAnchorElement | null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(a.getAttribute('href') ?? '/console');
  });
}

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}
