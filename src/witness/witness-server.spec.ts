import { generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLeaves } from '../domain/merkle/append.js';
import { leafHash } from '../domain/merkle/hasher.js';
import { ed25519NoteSigner, ed25519NoteVerifier, ed25519PublicKeyBytes } from '../domain/note/note-keys.js';
import { parseNote, signNote } from '../domain/note/signed-note.js';
import { formatCheckpoint } from '../domain/note/tlog-checkpoint.js';
import { formatAddCheckpointRequest, parseCosignatureLines } from '../domain/witness/add-checkpoint.js';
import { cosigner, cosignerVerifier } from '../domain/witness/cosignature.js';
import { createWitnessServer } from './witness-server.js';
import { FileWitnessStore } from './witness-store.js';

const ORIGIN = 'log.example/spec';
const logKey = generateKeyPairSync('ed25519').privateKey;
const witnessKey = generateKeyPairSync('ed25519').privateKey;

/** A signed checkpoint of a tree of `size` leaves. */
function note(size: number): string {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
  const { root } = appendLeaves({ treeSize: 0, frontier: [] }, leaves);
  return signNote(formatCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: root }), [
    ed25519NoteSigner(ORIGIN, logKey),
  ]);
}

describe('the witness HTTP server and its file state', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rl-witness-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(store: FileWitnessStore) {
    const server = createWitnessServer({
      cosigner: cosigner('witness.example/spec', witnessKey),
      logs: new Map([[ORIGIN, [ed25519NoteVerifier(ORIGIN, ed25519PublicKeyBytes(logKey))]]]),
      store,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      post: (body: string) => fetch(`${url}/add-checkpoint`, { method: 'POST', body }),
      url,
      close: () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    };
  }

  it('answers 200 with a cosignature that verifies, and persists the state before answering', async () => {
    const file = join(dir, 'state.json');
    const store = new FileWitnessStore(file);
    const w = await serve(store);
    const n = note(7);
    const res = await w.post(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: n }));
    expect(res.status).toBe(200);
    const text = parseNote(n).text;
    const [sig] = parseCosignatureLines(text, await res.text());
    expect(
      cosignerVerifier('witness.example/spec', ed25519PublicKeyBytes(witnessKey)).verify(
        Buffer.from(text),
        sig.signature,
      ),
    ).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).origins[ORIGIN].size).toBe(7);
    await w.close();
    store.close();
    // A new process over the same file knows size 7: old size 0 is now a conflict.
    const again = new FileWitnessStore(file);
    const w2 = await serve(again);
    const conflict = await w2.post(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: note(9) }));
    expect([conflict.status, conflict.headers.get('content-type'), await conflict.text()]).toEqual([
      409,
      'text/x.tlog.size',
      '7\n',
    ]);
    await w2.close();
    again.close();
  });

  it('serializes check and persist: of two concurrent first submissions one wins, the other gets 409', async () => {
    const store = new FileWitnessStore(join(dir, 'state.json'));
    const w = await serve(store);
    const [a, b] = await Promise.all([
      w.post(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: note(5) })),
      w.post(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: note(9) })),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = a.status === 200 ? 5 : 9;
    expect(store.get(ORIGIN)?.size).toBe(winner);
    expect(await (a.status === 409 ? a : b).text()).toBe(`${winner}\n`);
    await w.close();
    store.close();
  });

  it('refuses a second process on the same state, and answers only POST add-checkpoint', async () => {
    const file = join(dir, 'state.json');
    // A lock held by a live process refuses; once that process is gone the lock is taken over.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    writeFileSync(`${file}.lock`, String(other.pid));
    expect(() => new FileWitnessStore(file)).toThrow(/in use by process/);
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    const store = new FileWitnessStore(file);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(String(process.pid));
    const w = await serve(store);
    expect((await fetch(`${w.url}/add-checkpoint`)).status).toBe(405);
    expect((await fetch(`${w.url}/other`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await w.post('not a request')).status).toBe(400);
    await w.close();
    store.close();
  });
});
