import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminToken, produce, startLedgerRun, waitConsumed, type LedgerRun } from '../support/ledger-harness.js';
import { MULTI_EVENT_REQUEST, WINDOW, scenarioRecords } from '../support/query-scenario.js';
import { loadOrCreateDevAuthKey } from '../../src/auth/auth-keys.js';
import { mintToken } from '../../src/auth/token-mint.js';
import { generateSigningKey, jwksEntry } from '../../src/domain/checkpoint/signing-key.js';

/**
 * The incident console in a real browser (Debian's chromium driven by playwright-core) against
 * the built service, the dev broker and PostgreSQL, with the query tests' seeded traffic sent
 * through Kafka. The page checks proofs itself: genuine records show a verified badge, a record
 * altered on its way to the page or in the database shows FAILED with the step that failed.
 * Screenshots go to CONSOLE_SCREENSHOTS (default /tmp/console-screenshots;
 * `CONSOLE_SCREENSHOTS=docs/console` refreshes the README's).
 */

/** Debian's chromium, installed by tools/browser/install-chromium.sh when missing and allowed (or CHROMIUM_PATH). */
let CHROMIUM = '';
const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? '/tmp/console-screenshots';

let run: LedgerRun;
let browser: Browser;
let admin: string;
/** Uncaught errors in the page: none may occur. */
const pageErrors: string[] = [];
afterEach(() => expect(pageErrors.splice(0)).toEqual([]));
const records = scenarioRecords();

beforeAll(async () => {
  CHROMIUM = installChromium();
  mkdirSync(SHOTS, { recursive: true });
  run = await startLedgerRun({ partitions: 2 });
  await produce(
    run.kafka.brokers,
    records.map((r) => ({ key: r.request_id, value: Buffer.from(JSON.stringify(r)) })),
  );
  await waitConsumed(run);
  admin = await adminToken(run);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await run?.stop();
}, 60_000);

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

/** The first screen of the page (request pages whole): what docs/console/ shows. */
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: name.startsWith('request') });

/** Signs in with the one-click development token, as a newcomer to the demo would. */
async function signInWithDevToken(page: Page): Promise<void> {
  await page.goto(`${run.baseUrl}/console/`);
  await page.waitForURL(/\/console\/signin/);
  await page.getByRole('button', { name: 'Use a development admin token' }).click();
  await page.waitForURL(/\/console\/decisions/);
}

/** The verdict of each event's badge, in page order, once every badge has one. */
async function badges(page: Page, events: number): Promise<string[]> {
  const done = page.locator('.badge[data-state="verified"], .badge[data-state="failed"]');
  await page.waitForFunction(
    // A function, not a string: the page's CSP forbids eval.
    (n) =>
      (globalThis as any).document.querySelectorAll('.badge[data-state="verified"], .badge[data-state="failed"]')
        .length === n,
    events,
    { timeout: 30_000 },
  );
  expect(await done.count()).toBe(events);
  return page.locator('.badge').evaluateAll((els) => els.map((e) => e.getAttribute('data-state') ?? ''));
}

/** The badge of one event. */
const badgeOf = (page: Page, eventId: string) => page.locator('section.event', { hasText: eventId }).locator('.badge');

const eventsOf = (requestId: string) => records.filter((r) => r.request_id === requestId);

test('the page is served with a strict Content-Security-Policy and deep links answer the page', async () => {
  const res = await fetch(`${run.baseUrl}/console/requests/${MULTI_EVENT_REQUEST}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  expect(await res.text()).toContain('/console/assets/console.js');
});

test('sign in, search a request that fell back: its attempts and a verified badge per event', async () => {
  const page = await newPage();
  await signInWithDevToken(page);
  await page.locator('table.decisions tbody tr').first().waitFor();
  await shot(page, 'decisions');

  await page.getByLabel('Find an id').fill(MULTI_EVENT_REQUEST);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForURL(new RegExp(`/console/requests/${MULTI_EVENT_REQUEST}$`));
  const events = eventsOf(MULTI_EVENT_REQUEST);
  expect(await badges(page, events.length)).toEqual(events.map(() => 'verified'));

  // Every attempt of every event is in the waterfall tables, with its provider and status.
  const rows = await page.locator('table.attempts tbody tr').allInnerTexts();
  const attempts = events.flatMap((e) => e.attempts?.items ?? []);
  expect(rows).toHaveLength(attempts.length);
  attempts.forEach((a, i) => {
    expect(rows[i]).toContain(a.provider!);
    expect(rows[i]).toContain(a.status!);
  });
  expect(attempts.some((a) => a.status === 'error')).toBe(true);
  await page.locator('.badge summary').first().click();
  const steps = await page.locator('.badge').first().locator('li').allInnerTexts();
  expect(steps.join('\n')).toMatch(/Inclusion proof: path of \d+ hashes/);
  expect(steps.every((s) => s.startsWith('✓'))).toBe(true);
  await shot(page, 'request-verified');
  await page.context().close();
}, 90_000);

test('one byte of the record altered on its way to the page: the badge turns red naming the leaf hash', async () => {
  const page = await newPage();
  const event = eventsOf(MULTI_EVENT_REQUEST).find((e) => e.provider)!;
  const original = `"provider":"${event.provider}"`;
  const altered = `"provider":"${event.provider!.replace(/^./, (c) => String.fromCharCode(c.charCodeAt(0) ^ 1))}"`;
  // The same altered record in the decision and in the receipt: only the proof can tell.
  for (const path of [`**/v1/records/${event.event_id}/receipt`, `**/v1/decisions/${event.event_id}`]) {
    await page.route(path, async (route) => {
      const res = await route.fetch();
      const text = await res.text();
      expect(text).toContain(original);
      await route.fulfill({ response: res, body: text.split(original).join(altered) });
    });
  }
  await page.goto(`${run.baseUrl}/console/decisions#token=${admin}`);
  await page.locator('table.decisions').waitFor();
  expect(page.url()).not.toContain('token=');
  await page.goto(`${run.baseUrl}/console/requests/${MULTI_EVENT_REQUEST}`);
  const states = await badges(page, eventsOf(MULTI_EVENT_REQUEST).length);
  expect(states.filter((s) => s === 'failed')).toHaveLength(1);
  expect(await badgeOf(page, event.event_id).getAttribute('data-state')).toBe('failed');
  const text = await badgeOf(page, event.event_id).innerText();
  expect(text).toContain('FAILED');
  expect(text).toContain('Leaf hash');
  await badgeOf(page, event.event_id).locator('summary').click();
  await shot(page, 'request-tampered-in-transit');
  await page.context().close();
}, 90_000);

test('the incident view shows the planted outage with the counts the API reconstructs', async () => {
  const q = { from: WINDOW.from, to: WINDOW.to, provider: 'openai' };
  const api = (await (
    await fetch(`${run.baseUrl}/v1/incidents/reconstruct`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...q, affected_limit: 100 }),
    })
  ).json()) as any;
  expect(api.summary.fallbacks).toBeGreaterThan(0);
  const page = await newPage();
  await page.goto(`${run.baseUrl}/console/incidents#token=${admin}`);
  await page.locator('form.filters').waitFor();
  await page.goto(`${run.baseUrl}/console/incidents?${new URLSearchParams(q)}`);
  await page.locator('.stats').waitFor();
  const stat = (name: string) => page.locator(`[data-stat="${name}"] dd`).innerText();
  expect(Number(await stat('Requests'))).toBe(api.summary.requests);
  expect(Number(await stat('Fallbacks'))).toBe(api.summary.fallbacks);
  expect(Number(await stat('Failed'))).toBe(api.summary.failed_requests);
  expect(Number(await stat('Affected'))).toBe(api.summary.affected_requests);
  // The chart's numbers are in the page as a table, minute by minute.
  const minutes = await page.locator('table.chart-table tbody tr').allInnerTexts();
  expect(minutes).toHaveLength(api.timeline.length);
  const peak = api.timeline.reduce((a: { fallbacks: number }, b: { fallbacks: number }) =>
    b.fallbacks > a.fallbacks ? b : a,
  );
  expect(minutes.find((m) => m.startsWith(peak.minute.slice(11, 16)))).toContain(String(peak.fallbacks));
  expect(await page.locator('table.affected tbody tr').count()).toBe(api.affected_requests.length);
  await shot(page, 'incident');
  await page.context().close();
}, 90_000);

test("a responder of one tenant never sees another tenant's data in the console", async () => {
  const key = await loadOrCreateDevAuthKey(run.env.DATA_DIR);
  const acme = await mintToken(
    key,
    { subject: 'console-test', roles: ['responder'], tenants: ['acme'] },
    { issuer: 'routing-ledger', audience: 'routing-ledger-api', ttlSeconds: 600 },
  );
  const page = await newPage();
  await page.goto(`${run.baseUrl}/console/decisions#token=${acme}`);
  await page.locator('table.decisions tbody tr').first().waitFor();
  const tenants = await page.locator('table.decisions tbody tr td:nth-child(2)').allInnerTexts();
  expect(tenants.length).toBeGreaterThan(0);
  expect(new Set(tenants)).toEqual(new Set(['acme']));
  // Another tenant's request, asked for by id, reads as not found.
  await page.getByLabel('Find an id').fill(MULTI_EVENT_REQUEST);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  await page.goto(`${run.baseUrl}/console/incidents?${new URLSearchParams({ from: WINDOW.from, to: WINDOW.to })}`);
  await page.locator('.stats').waitFor();
  const lead = await page.locator('main').innerText();
  const others = [...new Set(records.map((r) => r.tenant_id))].filter((t) => t !== 'acme');
  for (const t of others) expect(lead).not.toContain(t);
  await page.goto(
    `${run.baseUrl}/console/findings?${new URLSearchParams({ from: '2026-11-20T09:00:00.000Z', to: WINDOW.to })}`,
  );
  await page.locator('.stats').waitFor();
  const findings = await page.locator('main').innerText();
  for (const t of others) expect(findings).not.toContain(t);
  await page.context().close();
}, 90_000);

test('ledger page: consistency of each shard checked in the browser; a pinned JWKS decides which keys are trusted', async () => {
  // A second batch per shard, so that each shard's latest checkpoint has a previous one to extend.
  const late = records.slice(0, 40).map((r) => ({
    ...r,
    event_id: `${r.event_id}-late`,
    request_id: `${r.request_id}-late`,
    occurred_at: '2026-11-20T11:00:00.000Z',
  }));
  await produce(
    run.kafka.brokers,
    late.map((r) => ({ key: r.request_id, value: Buffer.from(JSON.stringify(r)) })),
  );
  await waitConsumed(run);
  const page = await newPage();
  await page.goto(`${run.baseUrl}/console/ledger#token=${admin}`);
  const cells = page.locator('td[data-consistency]');
  await cells.first().waitFor();
  await page.waitForFunction(
    () => !(globalThis as any).document.querySelector('td[data-consistency="pending"]'),
    undefined,
    { timeout: 30_000 },
  );
  const verdicts = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-consistency')));
  expect(verdicts.length).toBe(2);
  expect(verdicts).toEqual(['ok', 'ok']);
  const jwks = await (await fetch(`${run.baseUrl}/.well-known/jwks.json`)).text();
  expect(await page.locator('section[aria-label="Keys"] tbody tr').count()).toBe(JSON.parse(jwks).keys.length);

  // Pin the server's own JWKS: badges say the pinned key signed.
  await page.getByLabel('JWKS to pin').fill(jwks);
  await page.getByRole('button', { name: 'Pin pasted JWKS' }).click();
  await page.getByText(/is pinned in this browser/).waitFor();
  await shot(page, 'ledger');
  await page.goto(`${run.baseUrl}/console/requests/${MULTI_EVENT_REQUEST}`);
  const events = eventsOf(MULTI_EVENT_REQUEST);
  expect(await badges(page, events.length)).toEqual(events.map(() => 'verified'));
  expect(await page.locator('.badge').first().innerText()).toContain('(pinned key)');

  // Pin a key the ledger never used: the same genuine records no longer verify, and the badge says why.
  const stranger = await generateSigningKey();
  await page.goto(`${run.baseUrl}/console/ledger`);
  await page
    .getByLabel('JWKS to pin')
    .fill(JSON.stringify({ keys: [jwksEntry(stranger, '2020-01-01T00:00:00.000Z')] }));
  await page.getByRole('button', { name: 'Pin pasted JWKS' }).click();
  await page.getByText(/is pinned in this browser/).waitFor();
  await page.goto(`${run.baseUrl}/console/requests/${MULTI_EVENT_REQUEST}`);
  expect(await badges(page, events.length)).toEqual(events.map(() => 'failed'));
  expect(await page.locator('.badge').first().innerText()).toContain('UNKNOWN_KID');
  await page.context().close();
}, 90_000);

test('findings with counts by type, an alias history timeline, and a signed export of an incident tenant', async () => {
  const window = { from: '2026-11-20T09:00:00.000Z', to: WINDOW.to };
  const api = (await (
    await fetch(`${run.baseUrl}/v1/findings?${new URLSearchParams(window)}`, {
      headers: { authorization: `Bearer ${admin}` },
    })
  ).json()) as { counts: Record<string, number>; findings: Array<{ type: string; alias: string | null }> };
  const page = await newPage();
  await page.goto(`${run.baseUrl}/console/findings?${new URLSearchParams(window)}#token=${admin}`);
  await page.locator('.stats').waitFor();
  for (const [type, n] of Object.entries(api.counts))
    expect(Number(await page.locator(`[data-stat="${type}"] dd`).innerText())).toBe(n);
  expect(await page.locator('main table tbody tr').count()).toBe(api.findings.length);
  await shot(page, 'findings');

  const change = api.findings.find((f) => f.type === 'alias_change')!;
  await page
    .locator('main table tbody tr', { hasText: 'alias_change' })
    .first()
    .getByRole('link', { name: change.alias! })
    .click();
  await page.waitForURL(/\/console\/aliases\//);
  await page.locator('ol.timeline li').first().waitFor();
  expect(await page.locator('main').innerText()).toContain('changed');
  await shot(page, 'alias-history');

  await page.goto(`${run.baseUrl}/console/incidents?${new URLSearchParams({ ...WINDOW, provider: 'openai' })}`);
  await page.getByRole('button', { name: 'Export signed evidence: eu-bank' }).click();
  await page.getByRole('button', { name: /Download bundle/ }).waitFor({ timeout: 60_000 });
  await page.context().close();
}, 120_000);

test('a record altered in PostgreSQL: the badge turns red', async () => {
  const event = eventsOf(MULTI_EVENT_REQUEST).find((e) => e.provider)!;
  await run.db.query(
    `BEGIN; SET LOCAL session_replication_role = replica;
     UPDATE records SET record = replace(record, '"provider":"${event.provider}"', '"provider":"${event.provider}x"') WHERE event_id = '${event.event_id}';
     COMMIT;`,
  );
  const page = await newPage();
  await page.goto(`${run.baseUrl}/console/requests/${MULTI_EVENT_REQUEST}#token=${admin}`);
  const states = await badges(page, eventsOf(MULTI_EVENT_REQUEST).length);
  expect(states.filter((s) => s === 'failed')).toHaveLength(1);
  expect(await badgeOf(page, event.event_id).getAttribute('data-state')).toBe('failed');
  expect(await badgeOf(page, event.event_id).innerText()).toContain('FAILED');
  await badgeOf(page, event.event_id).locator('summary').click();
  await shot(page, 'request-tampered-in-database');
  await page.context().close();
}, 90_000);

/** The browser's path: tools/browser/install-chromium.sh finds it, or installs it, or says what to run. */
function installChromium(): string {
  const script = join(process.cwd(), 'tools', 'browser', 'install-chromium.sh');
  const r = spawnSync('bash', [script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`no browser for the console tests: ${r.stderr.trim()}`);
  const path = r.stdout.trim();
  if (!existsSync(path)) throw new Error(`install-chromium.sh named ${path}, which does not exist`);
  return path;
}
