import { api, ApiError } from '../api.js';
import { h, mount } from '../dom.js';
import { getToken } from '../session.js';
import { errorBox } from '../ui.js';

interface ExportJob {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed' | string;
  progress: { records_done: number; records_total: number | null; fraction: number | null };
  error: string | null;
  bundle: { url: string; size: number; sha256: string } | null;
}

/**
 * A button that starts a signed audit bundle of one tenant's records in a window (POST /v1/exports,
 * auditor or admin) and follows its progress until the bundle can be downloaded.
 */
export function exportButton(tenant: string, window: { from: string; to: string }): HTMLElement {
  const status = h('span', { role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button' }, `Export signed evidence: ${tenant}`);
  button.addEventListener('click', () => {
    button.disabled = true;
    void run(tenant, window, status).finally(() => (button.disabled = false));
  });
  return h('div', { class: 'export' }, button, ' ', status);
}

async function run(tenant: string, window: { from: string; to: string }, status: HTMLElement): Promise<void> {
  try {
    mount(status, 'starting…');
    let job = await api<ExportJob>('/v1/exports', {
      method: 'POST',
      body: { tenant, from: window.from, to: window.to },
    });
    while (job.status !== 'done' && job.status !== 'failed') {
      const p = job.progress;
      mount(
        status,
        h('progress', { max: 1, value: p.fraction ?? undefined, 'aria-label': `export of ${tenant}` }),
        ` ${job.status}: ${p.records_done}${p.records_total !== null ? ` of ${p.records_total}` : ''} records`,
      );
      await new Promise((r) => setTimeout(r, 700));
      job = await api<ExportJob>(`/v1/exports/${encodeURIComponent(job.id)}`);
    }
    if (job.status === 'failed' || !job.bundle) {
      mount(status, h('span', { class: 'error-text' }, `export failed: ${job.error ?? 'no bundle'}`));
      return;
    }
    const bundle = job.bundle;
    mount(
      status,
      h(
        'button',
        { type: 'button', onclick: () => void download(bundle.url, `routing-ledger-export-${job.id}.tar.gz`, status) },
        `Download bundle (${Math.ceil(bundle.size / 1024)} KiB)`,
      ),
      h(
        'span',
        { class: 'muted' },
        ` sha256 ${bundle.sha256.slice(0, 16)}… · verify offline: npx routing-ledger verify-bundle`,
      ),
    );
  } catch (e) {
    mount(status, errorBox(e));
  }
}

/** The bundle needs the bearer token, so it is fetched here and handed to the browser as a file. */
async function download(url: string, name: string, status: HTMLElement): Promise<void> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
  if (!res.ok) {
    mount(status, errorBox(new ApiError(res.status, 'download failed', await res.text(), undefined)));
    return;
  }
  const a = h('a', { href: URL.createObjectURL(await res.blob()), download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
