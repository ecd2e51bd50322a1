import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendLeaves, type TreeState } from '../merkle/append.js';
import { leafHash } from '../merkle/hasher.js';
import { consistencyProof, inclusionProof, type NodeReader } from '../merkle/prover.js';
import { nodeKey } from '../merkle/range.js';
import { ed25519NoteSigner, formatVerifierKey, ed25519PublicKeyBytes, parseVerifierKey } from '../note/note-keys.js';
import { formatNote, parseNote, signNote } from '../note/signed-note.js';
import { formatCheckpoint, parseCheckpoint } from '../note/tlog-checkpoint.js';
import {
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  formatCosignatureLines,
  parseAddCheckpointRequest,
  parseCosignatureLines,
  type WitnessedHead,
} from './add-checkpoint.js';
import {
  cosignatureMessage,
  cosignatureTimestamp,
  cosigner,
  cosignerKeyId,
  cosignerVerifier,
  formatCosignerKey,
  parseCosignerKey,
} from './cosignature.js';
import { formatTlogProof, parseTlogProof, verifyTlogProof } from './tlog-proof.js';
import { evaluateCosignatures, parseWitnessPolicy, verifyCosignedCheckpoint } from './witness-policy.js';

const VECTORS = join(process.cwd(), 'test/vectors/c2sp');
const examples = JSON.parse(readFileSync(join(VECTORS, 'c2sp-examples.json'), 'utf8')) as {
  checkpoint_format_sample: string;
  cosignature_v1_signed_message_format_sample: string;
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${String(e)}`;
  }
  return 'accepted';
}

const ORIGIN = 'ledger.example/test/shard/0';
const logKey = generateKeyPairSync('ed25519').privateKey;
const logSigner = ed25519NoteSigner(ORIGIN, logKey);
const logVerifier = parseVerifierKey(formatVerifierKey(ORIGIN, ed25519PublicKeyBytes(logKey)));

/** An in-memory log: every node kept, proofs from the ledger's own prover. */
class MemoryLog {
  private state: TreeState = { treeSize: 0, frontier: [] };
  private nodes = new Map<string, Buffer>();
  readonly leaves: Buffer[] = [];
  root: Buffer = Buffer.alloc(32);
  constructor(private readonly tag: string) {}
  append(n: number): void {
    const hashes = Array.from({ length: n }, (_, i) => {
      const input = Buffer.from(`${this.tag} leaf ${this.state.treeSize + i}`);
      this.leaves.push(input);
      return leafHash(input);
    });
    const r = appendLeaves(this.state, hashes);
    for (const node of r.nodes) this.nodes.set(nodeKey(node), node.hash);
    this.state = r;
    this.root = r.root;
  }
  get size(): number {
    return this.state.treeSize;
  }
  readonly read: NodeReader = (ids) => Promise.resolve(ids.map((id) => this.nodes.get(nodeKey(id))!));
  note(signers = [logSigner]): string {
    return signNote(formatCheckpoint({ origin: ORIGIN, treeSize: this.size, rootHash: this.root }), signers);
  }
}

describe('cosignature/v1', () => {
  it('the signed message is the published format sample for its time and checkpoint body', () => {
    const body = parseNote(examples.checkpoint_format_sample).text;
    expect(cosignatureMessage(1679315147, body).toString('utf8')).toBe(
      examples.cosignature_v1_signed_message_format_sample,
    );
  });

  it('key IDs use type 0x04: a cosigner key is not the note key of the same name and key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pub = ed25519PublicKeyBytes(privateKey);
    const vkey = formatCosignerKey('witness.example/w1', pub);
    expect(vkey.split('+')[2].startsWith(Buffer.of(0x04).toString('base64').slice(0, 1))).toBe(true);
    expect(parseCosignerKey(vkey).keyId).toBe(cosignerKeyId('witness.example/w1', pub));
    expect(cosignerKeyId('witness.example/w1', pub)).not.toBe(
      parseVerifierKey(formatVerifierKey('witness.example/w1', pub)).keyId,
    );
    expect(code(() => parseCosignerKey(formatVerifierKey('witness.example/w1', pub)))).toBe('BAD_COSIGNER_KEY');
    const wrongId = vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    expect(code(() => parseCosignerKey(wrongId))).toBe('BAD_COSIGNER_KEY');
  });

  it('signs timestamp || signature, verifies, and refuses another text, time or key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const w = cosigner('witness.example/w1', privateKey, () => 1700000000);
    const v = cosignerVerifier('witness.example/w1', ed25519PublicKeyBytes(privateKey));
    const text = Buffer.from(formatCheckpoint({ origin: ORIGIN, treeSize: 5, rootHash: Buffer.alloc(32, 7) }));
    const sig = w.sign(text);
    expect(sig).toHaveLength(72);
    expect(cosignatureTimestamp(sig)).toBe(1700000000n);
    expect(v.verify(text, sig)).toBe(true);
    expect(v.verify(Buffer.from(text.toString().replace('\n5\n', '\n6\n')), sig)).toBe(false);
    const retimed = Buffer.from(sig);
    retimed.writeBigUInt64BE(1700000001n, 0);
    expect(v.verify(text, retimed)).toBe(false);
    const other = cosignerVerifier(
      'witness.example/w1',
      ed25519PublicKeyBytes(generateKeyPairSync('ed25519').privateKey),
    );
    expect(other.verify(text, sig)).toBe(false);
  });
});

describe('witness policy', () => {
  const keys = [0, 1, 2].map(() => generateKeyPairSync('ed25519').privateKey);
  const witnesses = keys.map((k, i) => cosigner(`w${i}.example/witness`, k));
  const policyText = (quorum: number) =>
    [
      `# test policy`,
      `log ${logVerifier.name}+${logVerifier.keyId.toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.of(1), logVerifier.publicKey]).toString('base64')}`,
      ...witnesses.map((w, i) => `witness ${w.vkey}${i === 0 ? ' http://127.0.0.1:1/prefix/' : ''}`),
      `quorum ${quorum}`,
    ].join('\n');

  it('parses logs, witnesses with optional URLs and the quorum', () => {
    const p = parseWitnessPolicy(policyText(2));
    expect(p.logs.map((l) => l.name)).toEqual([ORIGIN]);
    expect(p.witnesses.map((w) => [w.name, w.url])).toEqual([
      ['w0.example/witness', 'http://127.0.0.1:1/prefix'],
      ['w1.example/witness', undefined],
      ['w2.example/witness', undefined],
    ]);
    expect(p.quorum).toBe(2);
    expect(parseWitnessPolicy(witnesses.map((w) => `witness ${w.vkey}`).join('\n')).quorum).toBe(3);
  });

  it.each([['quorum 4'], ['witness not-a-key'], ['frobnicate 1'], ['quorum 1\nquorum 1']])(
    'refuses %j (BAD_POLICY)',
    (extra) => {
      const text = witnesses.map((w) => `witness ${w.vkey}`).join('\n') + '\n' + extra;
      expect(code(() => parseWitnessPolicy(text))).toBe('BAD_POLICY');
    },
  );

  it('counts valid cosignatures of the policy witnesses only and enforces k of n', () => {
    const log = new MemoryLog('p');
    log.append(3);
    const p = parseWitnessPolicy(policyText(2));
    const stranger = cosigner('w1.example/witness', generateKeyPairSync('ed25519').privateKey);
    const one = log.note([logSigner, witnesses[0], stranger]);
    expect(evaluateCosignatures(one, p.logs, p)).toMatchObject({ cosigners: ['w0.example/witness'], satisfied: false });
    expect(code(() => verifyCosignedCheckpoint(one, p.logs, p))).toBe('QUORUM_NOT_MET');
    const two = log.note([logSigner, witnesses[0], witnesses[2]]);
    expect(verifyCosignedCheckpoint(two, p.logs, p).cosigners).toEqual(['w0.example/witness', 'w2.example/witness']);
    // A cosignature of another checkpoint moved onto this one is invalid, not counted.
    const foreign = parseNote(
      signNote(formatCheckpoint({ origin: ORIGIN, treeSize: 9, rootHash: Buffer.alloc(32) }), [witnesses[1]]),
    );
    const moved = formatNote({
      text: parseNote(two).text,
      signatures: [...parseNote(two).signatures, ...foreign.signatures],
    });
    const result = evaluateCosignatures(moved, p.logs, p);
    expect(result.invalid).toEqual(['w1.example/witness']);
    expect(result.cosigners).toHaveLength(2);
    // Without the log's signature nothing counts.
    expect(code(() => evaluateCosignatures(log.note([witnesses[0], witnesses[1]]), p.logs, p))).toBe('UNVERIFIED_NOTE');
  });
});

describe('add-checkpoint: the witness decision', () => {
  const trusted = (origin: string) => (origin === ORIGIN ? [logVerifier] : undefined);

  /** A witness over a map: applies 200 decisions as the server does. */
  function witness() {
    const heads = new Map<string, WitnessedHead>();
    return {
      heads,
      submit(body: string) {
        const d = decideAddCheckpoint(body, trusted, (o) => heads.get(o));
        if (d.status === 200) heads.set(d.checkpoint.origin, d.head);
        return d;
      },
    };
  }

  it('round-trips the request body', () => {
    const log = new MemoryLog('rt');
    log.append(5);
    const body = formatAddCheckpointRequest({
      oldSize: 3,
      proof: [Buffer.alloc(32, 1), Buffer.alloc(32, 2)],
      note: log.note(),
    });
    expect(body.startsWith('old 3\n')).toBe(true);
    expect(parseAddCheckpointRequest(body)).toEqual({
      oldSize: 3,
      proof: [Buffer.alloc(32, 1), Buffer.alloc(32, 2)],
      note: log.note(),
    });
    expect(code(() => parseAddCheckpointRequest(`old 03\n\n${log.note()}`))).toBe('BAD_REQUEST');
  });

  it('cosigns a log across many checkpoints with consistency proofs from the last cosigned size', async () => {
    const log = new MemoryLog('grow');
    const w = witness();
    let old = 0;
    for (const n of [1, 1, 2, 5, 8, 13, 200, 3]) {
      log.append(n);
      const proof = old === 0 ? [] : await consistencyProof(log.read, old, log.size);
      const d = w.submit(formatAddCheckpointRequest({ oldSize: old, proof, note: log.note() }));
      expect(d.status).toBe(200);
      old = log.size;
    }
    expect(w.heads.get(ORIGIN)?.size).toBe(log.size);
  });

  it('refuses forks and keeps its state: same size other root, smaller size, bad proof', async () => {
    const log = new MemoryLog('a');
    const fork = new MemoryLog('b');
    const w = witness();
    log.append(10);
    fork.append(10);
    expect(w.submit(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: log.note() })).status).toBe(200);
    // Same size, another root.
    expect(w.submit(formatAddCheckpointRequest({ oldSize: 10, proof: [], note: fork.note() }))).toMatchObject({
      status: 409,
      knownSize: 10,
    });
    // A smaller size after a larger one: the old size is not the cosigned one.
    const small = new MemoryLog('a');
    small.append(6);
    expect(w.submit(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: small.note() }))).toMatchObject({
      status: 409,
      knownSize: 10,
    });
    expect(w.submit(formatAddCheckpointRequest({ oldSize: 10, proof: [], note: small.note() })).status).toBe(400);
    // A larger fork whose proof does not lead from the cosigned root.
    fork.append(5);
    const forkProof = await consistencyProof(fork.read, 10, 15);
    expect(w.submit(formatAddCheckpointRequest({ oldSize: 10, proof: forkProof, note: fork.note() })).status).toBe(422);
    expect(w.heads.get(ORIGIN)).toEqual({ size: 10, root: log.root });
    // The honest log goes on.
    log.append(5);
    const proof = await consistencyProof(log.read, 10, 15);
    expect(w.submit(formatAddCheckpointRequest({ oldSize: 10, proof, note: log.note() })).status).toBe(200);
  });

  it('answers 404 for an unknown origin and 403 without a trusted signature', () => {
    const log = new MemoryLog('x');
    log.append(2);
    const stranger = ed25519NoteSigner('other.example/log', generateKeyPairSync('ed25519').privateKey);
    const foreign = signNote(formatCheckpoint({ origin: 'other.example/log', treeSize: 2, rootHash: log.root }), [
      stranger,
    ]);
    expect(witness().submit(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: foreign })).status).toBe(404);
    const impostor = ed25519NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    expect(
      witness().submit(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: log.note([impostor]) })).status,
    ).toBe(403);
  });

  it('response lines parse and verify as cosignatures of the checkpoint', () => {
    const log = new MemoryLog('resp');
    log.append(4);
    const w = cosigner('w.example/1', generateKeyPairSync('ed25519').privateKey);
    const text = parseNote(log.note()).text;
    const [sig] = parseCosignatureLines(text, formatCosignatureLines(text, [w]));
    expect(sig.keyId).toBe(w.keyId);
    expect(parseCosignerKey(w.vkey).verify(Buffer.from(text), sig.signature)).toBe(true);
  });
});

describe('c2sp.org/tlog-proof@v1', () => {
  const wKey = generateKeyPairSync('ed25519').privateKey;
  const w = cosigner('w.example/proof', wKey);
  const policy = parseWitnessPolicy(`witness ${w.vkey}\nquorum 1`);

  it('formats, parses and verifies with the leaf input in extra; tampering is caught', async () => {
    const log = new MemoryLog('tp');
    log.append(37);
    const index = 21;
    const note = log.note([logSigner, w]);
    const text = formatTlogProof({
      extra: log.leaves[index],
      index,
      inclusionProof: await inclusionProof(log.read, index, 37),
      note,
    });
    expect(text.split('\n')[0]).toBe('c2sp.org/tlog-proof@v1');
    expect(parseTlogProof(text).index).toBe(index);
    const ok = verifyTlogProof(text, { logVerifiers: [logVerifier], policy, origin: ORIGIN });
    expect(ok.leafInput).toEqual(log.leaves[index]);
    expect(parseCheckpoint(ok.text).treeSize).toBe(37);
    expect(code(() => verifyTlogProof(text, { logVerifiers: [logVerifier], policy, leafInput: log.leaves[20] }))).toBe(
      'ROOT_MISMATCH',
    );
    expect(
      code(() => verifyTlogProof(text.replace(`index ${index}`, 'index 22'), { logVerifiers: [logVerifier], policy })),
    ).toBe('ROOT_MISMATCH');
    expect(code(() => verifyTlogProof(text, { logVerifiers: [logVerifier], policy, origin: 'x/y' }))).toBe(
      'ORIGIN_MISMATCH',
    );
    const uncosigned = formatTlogProof({
      extra: log.leaves[index],
      index,
      inclusionProof: await inclusionProof(log.read, index, 37),
      note: log.note(),
    });
    expect(code(() => verifyTlogProof(uncosigned, { logVerifiers: [logVerifier], policy }))).toBe('QUORUM_NOT_MET');
  });
});
