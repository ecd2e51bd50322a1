import { jest } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigSection, type WitnessConfig } from '../../src/config/app-config.js';
import { CONFIG } from '../../src/config/config.module.js';
import { consistencyProof } from '../../src/domain/merkle/prover.js';
import {
  ed25519NoteSigner,
  ed25519PublicKeyBytes,
  formatVerifierKey,
  parseVerifierKey,
} from '../../src/domain/note/note-keys.js';
import { formatSignatureLines, parseNote, signNote } from '../../src/domain/note/signed-note.js';
import { formatCheckpoint, parseCheckpoint, shardOrigin } from '../../src/domain/note/tlog-checkpoint.js';
import { formatAddCheckpointRequest } from '../../src/domain/witness/add-checkpoint.js';
import { formatCosignerKey } from '../../src/domain/witness/cosignature.js';
import { parseTlogProof, verifyTlogProof } from '../../src/domain/witness/tlog-proof.js';
import type { Jwks } from '../../src/domain/checkpoint/signing-key.js';
import { verifyReceipt, type Receipt } from '../../src/domain/receipt/receipt.js';
import { verifyReceiptCommand } from '../../src/cli/verify-receipt.js';
import { verifyBundleCommand } from '../../src/cli/verify-bundle.js';
import type { JWK } from 'jose';
import { DataSource } from 'typeorm';
import { importSigningKey } from '../../src/domain/checkpoint/signing-key.js';
import { verifyBundle } from '../../src/domain/bundle/verify-bundle.js';
import { writeBundle } from '../../src/export/bundle-writer.js';
import { ExportSourceRepository } from '../../src/export/export-source.repository.js';
import {
  evaluateCosignatures,
  parseWitnessPolicy,
  verifyCosignedCheckpoint,
} from '../../src/domain/witness/witness-policy.js';
import { startWitness, type RunningWitness, type WitnessCommandOptions } from '../../src/cli/witness.js';
import { verifyTlogProofCommand } from '../../src/cli/verify-tlog-proof.js';
import type { DecodedItem } from '../../src/ledger/ledger-input.js';
import { LedgerReadRepository } from '../../src/ledger/ledger-read.repository.js';
import { TlogController } from '../../src/tlog/tlog.controller.js';
import { TlogRepository } from '../../src/tlog/tlog.repository.js';
import { TlogService } from '../../src/tlog/tlog.service.js';
import { WitnessController } from '../../src/tlog/witness.controller.js';
import { WitnessRepository } from '../../src/tlog/witness.repository.js';
import { WitnessSubmitterService, type WitnessStatus } from '../../src/tlog/witness-submitter.service.js';
import { pollUntil } from '../support/poll-until.js';
import { startQueryApp, type QueryApp } from '../support/query-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(180_000);

const LEDGER_ORIGIN = 'routing-ledger.test/witness';
const SHARDS = [0, 1];

/**
 * Witnessing end to end: the real ledger (append path, PostgreSQL) with the witness submitter,
 * and two of our own witnesses as real HTTP servers with file state. Ingest here is the append
 * service the Kafka consumer calls; the submitter only ever reads committed checkpoints.
 */
describe('witnessing: our witnesses cosign our log, forks are refused, a dead witness stops nothing', () => {
  let db: TestDatabase;
  let q: QueryApp;
  let dir: string;
  const logKey = generateKeyPairSync('ed25519').privateKey;
  const logVkeys = SHARDS.map((s) => formatVerifierKey(shardOrigin(LEDGER_ORIGIN, s), ed25519PublicKeyBytes(logKey)));
  const witnessOpts: WitnessCommandOptions[] = [];
  const witnesses: RunningWitness[] = [];
  let policyFile: string;
  const offsets = new Map<number, number>();
  let nextEvent = 0;

  async function append(shard: number, n: number): Promise<string[]> {
    const start = offsets.get(shard) ?? 0;
    const records = Array.from({ length: n }, () => validEvent(nextEvent++));
    const items: DecodedItem[] = records.map((record, k) => ({
      kind: 'record' as const,
      offset: String(start + k),
      record,
    }));
    const res = await q.append.appendBatch({
      topic: 'routing.decisions',
      partition: shard,
      groupId: 'witness-test',
      items,
      nextOffset: String(start + n),
    });
    expect(res.appended).toBe(n);
    offsets.set(shard, start + n);
    return records.map((r) => r.event_id);
  }

  async function text(path: string): Promise<string> {
    const res = await q.get(path);
    expect(`${path} ${res.status}`).toBe(`${path} 200`);
    return res.text();
  }

  const status = async () => JSON.parse(await text('/tlog/witnesses')) as WitnessStatus;
  const policy = () => parseWitnessPolicy(readFileSync(policyFile, 'utf8'));
  const logVerifiers = () => logVkeys.map(parseVerifierKey);

  /** Polls until the shard's served checkpoint is of `size` and carries a valid cosignature of every witness. */
  async function waitCosigned(shard: number, size: number, names: string[]): Promise<string> {
    let note = '';
    await pollUntil(
      async () => {
        note = await text(`/tlog/${shard}/checkpoint`);
        const r = evaluateCosignatures(note, logVerifiers(), policy());
        return r.checkpoint.treeSize === size && names.every((n) => r.cosigners.includes(n));
      },
      { timeoutMs: 60_000, intervalMs: 100, what: () => `shard ${shard} size ${size} cosigned by ${names}:\n${note}` },
    );
    return note;
  }

  beforeAll(async () => {
    db = await createTestDatabase('rl_witness');
    dir = `/tmp/rl/${db.name}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const logsFile = join(dir, 'log-keys.txt');
    writeFileSync(logsFile, logVkeys.join('\n') + '\n');
    for (const i of [1, 2]) {
      const o: WitnessCommandOptions = {
        name: `witness${i}.test/w`,
        keyFile: join(dir, `witness${i}.jwk`),
        generateKey: true,
        stateFile: join(dir, `witness${i}.state.json`),
        logKeys: logVkeys,
        host: '127.0.0.1',
        port: 0,
      };
      const w = await startWitness(o);
      witnessOpts.push({ ...o, port: Number(new URL(w.url).port) });
      witnesses.push(w);
    }
    policyFile = join(dir, 'witness-policy.txt');
    writeFileSync(
      policyFile,
      [...logVkeys.map((k) => `log ${k}`), ...witnesses.map((w) => `witness ${w.vkey} ${w.url}`), 'quorum 2', ''].join(
        '\n',
      ),
    );
    const witnessConfig: WitnessConfig = loadConfigSection('witness', {
      WITNESS_POLICY_FILE: policyFile,
      WITNESS_INTERVAL_MS: '100',
      WITNESS_MAX_BACKOFF_MS: '400',
      WITNESS_TIMEOUT_MS: '5000',
    });
    q = await startQueryApp({
      databaseUrl: db.url,
      dataDir: dir,
      env: { LEDGER_ORIGIN, SIGNING_KEY_JWK: JSON.stringify(logKey.export({ format: 'jwk' })) },
      controllers: [TlogController, WitnessController],
      providers: [
        { provide: CONFIG.witness, useValue: witnessConfig },
        TlogService,
        TlogRepository,
        WitnessRepository,
        WitnessSubmitterService,
      ],
    });
  });

  afterAll(async () => {
    await q?.close();
    for (const w of witnesses) await w.close();
    await db?.drop();
  });

  it('both witnesses cosign every shard across many checkpoints; the notes verify with the verifier keys alone', async () => {
    const names = [witnessName(0), witnessName(1)];
    for (const n of [1, 3, 40, 300, 7]) {
      for (const shard of SHARDS) await append(shard, n + shard);
      for (const shard of SHARDS) {
        const note = await waitCosigned(shard, offsets.get(shard)!, names);
        // Nothing but the log's and the witnesses' verifier keys: the k-of-n check passes.
        const keysOnly = parseWitnessPolicy(witnesses.map((w) => `witness ${w.vkey}`).join('\n') + '\nquorum 2');
        const cp = verifyCosignedCheckpoint(note, [parseVerifierKey(logVkeys[shard])], keysOnly);
        expect(cp.checkpoint.origin).toBe(shardOrigin(LEDGER_ORIGIN, shard));
        expect(parseNote(note).signatures).toHaveLength(3);
      }
    }
    const s = await status();
    expect(s.quorum).toBe(2);
    for (const w of s.witnesses) {
      expect(w.shards.map((x) => [x.shard, x.lag, x.cosigned_size])).toEqual(
        SHARDS.map((shard) => [shard, 0, offsets.get(shard)]),
      );
    }
    // The log keys the service serves are the ones the witnesses were given.
    expect((await text('/tlog/keys')).trim().split('\n')).toEqual(logVkeys);
  });

  it('serves a record as a c2sp.org/tlog-proof@v1 that verifies offline only with the quorum', async () => {
    const [eventId] = await append(0, 5);
    await append(0, 20);
    await waitCosigned(0, offsets.get(0)!, [witnessName(0), witnessName(1)]);
    const proof = await text(`/v1/records/${encodeURIComponent(eventId)}/tlog-proof`);
    const r = verifyTlogProof(proof, {
      logVerifiers: logVerifiers(),
      policy: policy(),
      origin: shardOrigin(LEDGER_ORIGIN, 0),
    });
    expect(JSON.parse(r.leafInput.toString('utf8')).record.event_id).toBe(eventId);
    expect(r.cosigners).toHaveLength(2);

    const proofFile = join(dir, 'record.tlog-proof');
    writeFileSync(proofFile, proof);
    const logKeysFile = join(dir, 'served-keys.txt');
    writeFileSync(logKeysFile, await text('/tlog/keys'));
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const keysOnlyPolicy = join(dir, 'keys-only-policy.txt');
    writeFileSync(keysOnlyPolicy, witnesses.map((w) => `witness ${w.vkey}`).join('\n') + '\nquorum 2\n');
    expect(
      await verifyTlogProofCommand([proofFile, '--witness-policy', keysOnlyPolicy, '--log-keys', logKeysFile], io),
    ).toBe(0);
    expect(out.join('')).toContain(`record ${eventId} is leaf`);
    // A witness the proof was not cosigned by, required: refused.
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const strict = join(dir, 'strict-policy.txt');
    writeFileSync(strict, `witness ${witnesses[0].vkey}\nwitness ${formatStrangerKey(stranger)}\nquorum 2\n`);
    out.length = 0;
    expect(await verifyTlogProofCommand([proofFile, '--witness-policy', strict, '--log-keys', logKeysFile], io)).toBe(
      1,
    );
    expect(out.join('')).toContain('QUORUM_NOT_MET');
  });

  it('serves the JSON receipt on the checkpoint the quorum cosigned, with its cosignatures; verify-receipt --witness-policy needs k', async () => {
    const [eventId] = await append(0, 3);
    await append(0, 9);
    await waitCosigned(0, offsets.get(0)!, [witnessName(0), witnessName(1)]);
    const receipt = JSON.parse(await text(`/v1/records/${encodeURIComponent(eventId)}/receipt`)) as Receipt;
    const proof = parseTlogProof(await text(`/v1/records/${encodeURIComponent(eventId)}/tlog-proof`));
    // The same checkpoint as the tlog-proof: the smallest covering the record that both witnesses cosigned.
    expect(receipt.tree_size).toBe(parseCheckpoint(parseNote(proof.note).text).treeSize);
    expect(receipt.cosignatures).toEqual(
      parseNote(proof.note)
        .signatures.slice(1)
        .map((s) => formatSignatureLines([s]).trimEnd()),
    );
    const jwks = JSON.parse(await text('/.well-known/jwks.json')) as Jwks;
    const { cosigned } = await verifyReceipt(receipt, jwks, { origin: LEDGER_ORIGIN, witnessPolicy: policy() });
    expect(cosigned!.cosigners.sort()).toEqual([witnessName(0), witnessName(1)].sort());

    const receiptFile = join(dir, 'receipt.json');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(receiptFile, JSON.stringify(receipt));
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await verifyReceiptCommand([receiptFile, '--jwks', jwksFile, '--witness-policy', policyFile], io)).toBe(0);
    expect(out.join('')).toContain(`record ${eventId} is leaf`);
    // A policy that also requires a witness that never cosigned: refused, with the count.
    const strict = join(dir, 'strict-receipt-policy.txt');
    const stranger = formatStrangerKey(generateKeyPairSync('ed25519').privateKey);
    writeFileSync(strict, `${witnesses.map((w) => `witness ${w.vkey}`).join('\n')}\nwitness ${stranger}\nquorum 3\n`);
    out.length = 0;
    expect(await verifyReceiptCommand([receiptFile, '--jwks', jwksFile, '--witness-policy', strict], io)).toBe(1);
    expect(out.join('')).toMatch(/QUORUM_NOT_MET.* has 2 valid cosignatures of the 3 required/);
  });

  it('exports a bundle anchored at quorum-cosigned checkpoints with their notes; verify-bundle --witness-policy needs k', async () => {
    const names = [witnessName(0), witnessName(1)];
    for (const shard of SHARDS) await waitCosigned(shard, offsets.get(shard)!, names);
    // Appended while one witness is down, so no quorum can cosign it: the export anchors shard 0
    // where the quorum last cosigned, not at its latest checkpoint.
    await witnesses[1].close();
    await append(0, 6);
    const signingKey = await importSigningKey(logKey.export({ format: 'jwk' }) as JWK);
    const repo = new ExportSourceRepository(q.app.get(DataSource));
    const jwks = JSON.parse(await text('/.well-known/jwks.json')) as Jwks;
    const out = join(dir, 'witnessed.tar.gz');
    const { manifest } = await writeBundle({
      source: repo.source(async () => jwks, policy()),
      query: {
        tenant: validEvent(0).tenant_id,
        from: '2026-11-25T00:00:00.000Z',
        to: '2026-11-26T00:00:00.000Z',
        filters: {},
      },
      exportId: 'witnessed',
      origin: LEDGER_ORIGIN,
      generator: { name: 'routing-ledger', version: 'test' },
      signingKey,
      outFile: out,
      workDir: join(dir, 'witnessed-work'),
    });
    for (const s of manifest.shards) {
      const [{ n }] = await db.query<{ n: string }>(
        'SELECT count(DISTINCT witness) AS n FROM witness_cosignatures WHERE shard = $1 AND tree_size = $2',
        [s.shard, s.tree_size],
      );
      expect([s.shard, Number(n)]).toEqual([s.shard, 2]);
    }
    expect(manifest.shards.find((s) => s.shard === 0)!.tree_size).toBeLessThan(offsets.get(0)!);
    const verdict = await verifyBundle(() => createReadStream(out), { trustedJwks: jwks, witnessPolicy: policy() });
    expect(verdict.ok).toBe(true);
    expect(verdict.witnessed!.anchors.map((a) => a.cosigners.sort())).toEqual(SHARDS.map(() => [...names].sort()));

    // The CLI: accepted with the policy, refused when a witness that never cosigned is required.
    const jwksFile = join(dir, 'bundle-jwks.json');
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const out2: string[] = [];
    const io = { out: (t: string) => out2.push(t), err: (t: string) => out2.push(t), tty: false };
    expect(await verifyBundleCommand([out, '--jwks', jwksFile, '--witness-policy', policyFile], io)).toBe(0);
    expect(out2.join('')).toMatch(/witnessed: every shard's anchor has at least 2 valid cosignatures/);
    const strict = join(dir, 'strict-bundle-policy.txt');
    const stranger = formatStrangerKey(generateKeyPairSync('ed25519').privateKey);
    writeFileSync(strict, `${witnesses.map((w) => `witness ${w.vkey}`).join('\n')}\nwitness ${stranger}\nquorum 3\n`);
    out2.length = 0;
    expect(await verifyBundleCommand([out, '--jwks', jwksFile, '--witness-policy', strict], io)).toBe(1);
    expect(out2.join('')).toMatch(/QUORUM_NOT_MET.*has 2 valid cosignatures of the 3 required/);
    witnesses[1] = await startWitness(witnessOpts[1]);
    await waitCosigned(0, offsets.get(0)!, names);
  });

  it('a witness that is down stops nothing; once back, it catches up and cosigns the latest checkpoint', async () => {
    await witnesses[1].close();
    const before = offsets.get(1)!;
    const [late] = await append(1, 11);
    for (let i = 0; i < 4; i++) await append(1, 11);
    expect(offsets.get(1)).toBe(before + 55);
    // The live witness keeps cosigning; the dead one falls behind with failures recorded.
    await waitWitnessAt(0, 1, offsets.get(1)!);
    await pollUntil(
      async () => {
        const w = (await status()).witnesses[1].shards.find((s) => s.shard === 1)!;
        return w.lag > 0 && w.failures > 0 && w.last_error !== null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the dead witness to be reported behind with failures' },
    );
    // One cosignature is not the quorum of 2: the shard still serves its last checkpoint with both.
    const served = evaluateCosignatures(await text('/tlog/1/checkpoint'), logVerifiers(), policy());
    expect(served.checkpoint.treeSize).toBe(before);
    expect(served.satisfied).toBe(true);
    // A record no quorum-cosigned checkpoint covers yet: its receipt is refused under the policy.
    const jwks = JSON.parse(await text('/.well-known/jwks.json')) as Jwks;
    const receiptOfLate = async () =>
      JSON.parse(await text(`/v1/records/${encodeURIComponent(late)}/receipt`)) as Receipt;
    await expect(verifyReceipt(await receiptOfLate(), jwks, { witnessPolicy: policy() })).rejects.toThrow(
      /has 1 valid cosignatures of the 2 required/,
    );
    witnesses[1] = await startWitness(witnessOpts[1]);
    await waitCosigned(1, offsets.get(1)!, [witnessName(0), witnessName(1)]);
    // Once the witness caught up, the same record's receipt carries the quorum.
    expect((await verifyReceipt(await receiptOfLate(), jwks, { witnessPolicy: policy() })).cosigned!.satisfied).toBe(
      true,
    );
    const w = (await status()).witnesses[1].shards.find((s) => s.shard === 1)!;
    expect([w.lag, w.failures, w.last_error]).toEqual([0, 0, null]);
  });

  it('our witness refuses forks with the spec status codes and keeps its state', async () => {
    const w = witnesses[0];
    const origin = shardOrigin(LEDGER_ORIGIN, 0);
    const stateBefore = readFileSync(witnessOpts[0].stateFile, 'utf8');
    const known = JSON.parse(stateBefore).origins[origin] as { size: number; root: string };
    const signer = ed25519NoteSigner(
      origin,
      createPrivateKey({ key: logKey.export({ format: 'jwk' }), format: 'jwk' }),
    );
    const post = (body: string) => fetch(`${w.url}/add-checkpoint`, { method: 'POST', body });
    const forkedNote = (size: number) =>
      signNote(formatCheckpoint({ origin, treeSize: size, rootHash: Buffer.alloc(32, 0xee) }), [signer]);

    // The same size with another root.
    const same = await post(
      formatAddCheckpointRequest({ oldSize: known.size, proof: [], note: forkedNote(known.size) }),
    );
    expect(same.status).toBe(409);
    expect(same.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await same.text()).toBe(`${known.size}\n`);
    // A smaller tree after a larger one.
    const smaller = await post(formatAddCheckpointRequest({ oldSize: 0, proof: [], note: forkedNote(known.size - 1) }));
    expect([smaller.status, await smaller.text()]).toEqual([409, `${known.size}\n`]);
    // A larger tree whose consistency proof does not lead from the cosigned root.
    const proof = await consistencyProof(q.app.get(LedgerReadRepository).nodeReader(0), known.size - 3, known.size);
    const bigger = await post(
      formatAddCheckpointRequest({ oldSize: known.size, proof, note: forkedNote(known.size + 9) }),
    );
    expect(bigger.status).toBe(422);
    // A checkpoint the log did not sign.
    const impostor = ed25519NoteSigner(origin, generateKeyPairSync('ed25519').privateKey);
    const unsigned = signNote(formatCheckpoint({ origin, treeSize: known.size + 1, rootHash: Buffer.alloc(32) }), [
      impostor,
    ]);
    expect((await post(formatAddCheckpointRequest({ oldSize: known.size, proof: [], note: unsigned }))).status).toBe(
      403,
    );
    expect(readFileSync(witnessOpts[0].stateFile, 'utf8')).toBe(stateBefore);
  });

  it('the submitter reports a witness that saw another history (422) as a fork and never stores its answer', async () => {
    const origin = shardOrigin(LEDGER_ORIGIN, 1);
    await witnesses[1].close();
    // The witness's record of shard 1 now disagrees with the log: what a fork shown to it looks like.
    const state = JSON.parse(readFileSync(witnessOpts[1].stateFile, 'utf8'));
    state.origins[origin].root = Buffer.alloc(32, 0x42).toString('base64');
    writeFileSync(witnessOpts[1].stateFile, JSON.stringify(state));
    witnesses[1] = await startWitness(witnessOpts[1]);
    await append(1, 4);
    await pollUntil(
      async () => {
        const w = (await status()).witnesses[1].shards.find((s) => s.shard === 1)!;
        return w.failures > 0 && /422/.test(w.last_error ?? '');
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the fork to be reported' },
    );
    const metrics = await text('/metrics');
    expect(metrics).toMatch(
      new RegExp(
        `routing_ledger_witness_submissions_total\\{witness="${witnessName(1).replace(/[./]/g, '\\$&')}",result="fork"\\} [1-9]`,
      ),
    );
    await waitWitnessAt(0, 1, offsets.get(1)!);
    const stored = await db.query<{ witness: string }>(
      'SELECT witness FROM witness_cosignatures WHERE shard = 1 AND tree_size = $1',
      [offsets.get(1)],
    );
    expect(stored.map((r) => r.witness)).toEqual([witnessName(0)]);
    // The served checkpoint stays the last one both cosigned, before the fork was shown.
    const note = await text('/tlog/1/checkpoint');
    expect(parseCheckpoint(parseNote(note).text).treeSize).toBe(offsets.get(1)! - 4);
    expect(evaluateCosignatures(note, logVerifiers(), policy()).satisfied).toBe(true);
  });

  /** Polls the status endpoint until witness `i` has cosigned `size` of `shard`. */
  async function waitWitnessAt(i: number, shard: number, size: number): Promise<void> {
    await pollUntil(
      async () => {
        const w = (await status()).witnesses[i].shards.find((s) => s.shard === shard);
        return w?.cosigned_size === size && w.lag === 0;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `witness ${i} to cosign size ${size} of shard ${shard}` },
    );
  }

  function witnessName(i: number): string {
    return witnesses[i].vkey.split('+')[0];
  }
});

function formatStrangerKey(key: ReturnType<typeof generateKeyPairSync>['privateKey']): string {
  return formatCosignerKey('stranger.test/w', ed25519PublicKeyBytes(key));
}
