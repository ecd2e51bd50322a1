/**
 * The bearer token lives in sessionStorage (this tab only, gone when it closes). A link ending in
 * `#token=<jwt>` signs in: the fragment never reaches the server, and the page moves it to
 * sessionStorage and removes it from the address bar and the history entry at once.
 */
const TOKEN_KEY = 'routing-ledger.console.token';

export function takeTokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The token's claims as the page reads them (for display only: the server decides what they allow). */
export function tokenClaims(token: string | null): {
  sub?: string;
  roles?: string[];
  tenants?: string[];
  exp?: number;
} {
  try {
    const payload = token?.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as { sub?: string; roles?: string[]; tenants?: string[]; exp?: number };
  } catch {
    return {};
  }
}
