import type { Jwks } from '../../../src/domain/checkpoint/signing-key.js';
import { api, query } from '../api.js';
import { fmtTime, h, mount } from '../dom.js';
import { errorBox, loading, tag } from '../ui.js';
import { pinJwks, pinnedJwks, unpinJwks, verifyCheckpointPair } from '../verify.js';

interface LatestCheckpoint {
  shard: number;
  tree_size: number;
  root_hash: string;
  signed_at: string;
  kid: string;
  prev_tree_size: number | null;
}

/** /console/ledger: shards and their latest checkpoints (consistency checked here), the keys, the pinned JWKS. */
export function ledgerView(root: HTMLElement): void {
  const shards = h('section', { 'aria-label': 'Shards' }, loading('checkpoints'));
  const keys = h('section', { 'aria-label': 'Keys' }, loading('keys'));
  mount(root, h('h1', {}, 'Ledger'), h('h2', {}, 'Shards'), shards, h('h2', {}, 'Signing keys'), keys, pinSection());
  void (async () => {
    try {
      const [latest, jwks] = await Promise.all([
        api<{ latest: LatestCheckpoint[] }>('/v1/ledger/checkpoints', { auth: false }),
        api<Jwks>('/.well-known/jwks.json', { auth: false }),
      ]);
      const trust = pinnedJwks() ?? jwks;
      mount(
        keys,
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Key id (RFC 7638)', 'Valid from', 'Valid until', 'Pinned'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            jwks.keys.map((k) =>
              h(
                'tr',
                {},
                h('td', {}, h('code', {}, String(k.kid))),
                h('td', {}, fmtTime(k.valid_from)),
                h('td', {}, k.valid_until ? fmtTime(k.valid_until) : 'current'),
                h('td', {}, pinnedJwks()?.keys.some((p) => p.kid === k.kid) ? tag('pinned', 'ok') : '—'),
              ),
            ),
          ),
        ),
      );
      const rows = latest.latest.map((cp) => {
        const cell = h('td', { 'data-consistency': 'pending' }, '…');
        void consistency(cp, trust).then((r) => {
          cell.setAttribute('data-consistency', r.ok ? 'ok' : r.ok === null ? 'none' : 'failed');
          mount(
            cell,
            r.ok === null
              ? h('span', { class: 'muted' }, r.detail)
              : [tag(r.ok ? 'consistent' : 'FAILED', r.ok ? 'ok' : 'bad'), ` ${r.detail}`],
          );
        });
        return h(
          'tr',
          {},
          h('td', {}, String(cp.shard)),
          h('td', { class: 'num' }, String(cp.tree_size)),
          h('td', {}, h('code', {}, `${cp.root_hash.slice(0, 16)}…`)),
          h('td', {}, fmtTime(cp.signed_at)),
          h('td', {}, h('code', {}, `${cp.kid.slice(0, 12)}…`)),
          cell,
        );
      });
      mount(
        shards,
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                'Shard',
                'Tree size',
                'Root',
                'Signed at',
                'Key',
                'Previous checkpoint → latest (checked in your browser)',
              ].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h('tbody', {}, rows),
        ),
      );
    } catch (e) {
      mount(shards, errorBox(e));
      keys.replaceChildren();
    }
  })();
}

async function consistency(cp: LatestCheckpoint, jwks: Jwks): Promise<{ ok: boolean | null; detail: string }> {
  if (!cp.prev_tree_size) return { ok: null, detail: 'first checkpoint of the shard' };
  try {
    const p = await api<{ proof: string[]; from_checkpoint: string | null; to_checkpoint: string | null }>(
      `/v1/ledger/proofs/consistency${query({ shard: String(cp.shard), from: String(cp.prev_tree_size), to: String(cp.tree_size) })}`,
      { auth: false },
    );
    if (!p.from_checkpoint || !p.to_checkpoint) return { ok: false, detail: 'a checkpoint is missing' };
    return verifyCheckpointPair(p.from_checkpoint, p.to_checkpoint, p.proof, jwks);
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

function pinSection(): HTMLElement {
  const status = h('p', { role: 'status' });
  const show = () =>
    mount(
      status,
      pinnedJwks()
        ? `A JWKS with ${pinnedJwks()!.keys.length} key(s) is pinned in this browser: proofs are checked against it, not against the server's keys.`
        : 'No JWKS pinned: proofs are checked against the keys this server publishes.',
    );
  show();
  const text = h('textarea', { id: 'pin-jwks', rows: 4, placeholder: '{"keys":[…]}' });
  const file = h('input', { id: 'pin-file', type: 'file', accept: '.json,application/json' });
  const error = h('p', { class: 'error-text', role: 'alert' });
  const pin = (value: string) => {
    try {
      pinJwks(value);
      error.textContent = '';
      show();
    } catch (e) {
      error.textContent = `Not pinned: ${(e as Error).message}`;
    }
  };
  file.addEventListener('change', () => void file.files?.[0]?.text().then(pin));
  return h(
    'section',
    { 'aria-label': 'Trusted keys' },
    h('h2', {}, 'Trusted keys (pinned JWKS)'),
    h(
      'p',
      {},
      'A key only the server vouches for proves little: paste or load the JWKS you got from a trusted source (an auditor, a previous export).',
    ),
    status,
    h('label', { for: 'pin-jwks' }, 'JWKS to pin'),
    text,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => pin(text.value) }, 'Pin pasted JWKS'),
      h('label', { for: 'pin-file' }, 'or load a file: '),
      file,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            unpinJwks();
            show();
          },
        },
        'Unpin',
      ),
    ),
    error,
  );
}
