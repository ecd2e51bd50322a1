import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519PublicKeyBytes, formatVerifierKey, parseVerifierKey } from '../../src/domain/note/note-keys.js';
import { shardOrigin } from '../../src/domain/note/tlog-checkpoint.js';
import { evaluateCosignatures, parseWitnessPolicy } from '../../src/domain/witness/witness-policy.js';
import { produce, startLedgerRun, waitConsumed, type LedgerRun } from '../support/ledger-harness.js';
import { pollUntil } from '../support/poll-until.js';
import { validEvent } from '../support/workload.js';

jest.setTimeout(240_000);

const LEDGER_ORIGIN = 'routing-ledger.test/witness-e2e';
const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'routing-ledger.js');

/** `routing-ledger witness` as a real process (the built CLI); resolves with its URL and vkey once it listens. */
async function startWitnessProcess(args: string[]): Promise<{ child: ChildProcess; url: string; vkey: string }> {
  const child = spawn(process.execPath, [CLI, 'witness', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await pollUntil(() => /^policy line: +witness (\S+) (\S+)$/m.test(out) || child.exitCode !== null, {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: () => `the witness to listen:\n${out}`,
  });
  const m = /^policy line: +witness (\S+) (\S+)$/m.exec(out);
  if (!m) throw new Error(`witness exited:\n${out}`);
  return { child, vkey: m[1], url: m[2] };
}

async function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

/**
 * The built service consuming from the dev broker, with WITNESS_POLICY_FILE naming the built
 * `routing-ledger witness` running as its own process: the whole path a deployment uses.
 */
describe('the service and our witness as processes', () => {
  let run: LedgerRun;
  let witness: { child: ChildProcess; url: string; vkey: string };
  let witnessArgs: string[];
  const dir = `/tmp/rl/witness-e2e-${process.pid}`;
  const logKey = generateKeyPairSync('ed25519').privateKey;
  const logVkeys = [0, 1].map((s) => formatVerifierKey(shardOrigin(LEDGER_ORIGIN, s), ed25519PublicKeyBytes(logKey)));
  let produced = 0;

  async function produceEvents(n: number): Promise<void> {
    const events = Array.from({ length: n }, () => validEvent(produced++));
    await produce(
      run.kafka.brokers,
      events.map((e, i) => ({ key: `k${produced + i}`, value: Buffer.from(JSON.stringify(e)) })),
    );
    await waitConsumed(run);
  }

  async function waitAllCosigned(): Promise<void> {
    const policy = parseWitnessPolicy(`witness ${witness.vkey}\nquorum 1\n`);
    await pollUntil(
      async () => {
        const heads = await run.db.query<{ shard: number; tree_size: string }>(
          'SELECT shard, tree_size FROM shard_heads',
        );
        for (const h of heads) {
          const res = await fetch(`${run.baseUrl}/tlog/${h.shard}/checkpoint`);
          if (res.status !== 200) return false;
          const cp = evaluateCosignatures(await res.text(), [parseVerifierKey(logVkeys[h.shard])], policy);
          if (!cp.satisfied || cp.checkpoint.treeSize !== Number(h.tree_size)) return false;
        }
        return heads.length === 2;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: () => `every shard cosigned at its head\n${run.svc.output().slice(-2000)}`,
      },
    );
  }

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'log-keys.txt'), logVkeys.join('\n') + '\n');
    const base = ['--name', 'witness.e2e.test/w1', '--key', join(dir, 'w1.jwk'), '--state', join(dir, 'w1.json')];
    witness = await startWitnessProcess([
      ...base,
      '--generate-key',
      '--logs',
      join(dir, 'log-keys.txt'),
      '--listen',
      '127.0.0.1:0',
    ]);
    witnessArgs = [...base, '--logs', join(dir, 'log-keys.txt'), '--listen', new URL(witness.url).host];
    writeFileSync(join(dir, 'policy.txt'), `witness ${witness.vkey} ${witness.url}\nquorum 1\n`);
    run = await startLedgerRun({
      partitions: 2,
      env: {
        LEDGER_ORIGIN,
        SIGNING_KEY_JWK: JSON.stringify(logKey.export({ format: 'jwk' })),
        WITNESS_POLICY_FILE: join(dir, 'policy.txt'),
        WITNESS_INTERVAL_MS: '200',
        WITNESS_MAX_BACKOFF_MS: '1000',
        DEFAULT_TENANT: 'default',
      },
    });
  });

  afterAll(async () => {
    if (witness) await stopProcess(witness.child);
    await run?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cosigns what the consumer appends; while the witness is stopped ingest goes on, and it catches up after', async () => {
    await produceEvents(40);
    await waitAllCosigned();

    expect(await stopProcess(witness.child)).toBe(0);
    const before = await run.db.query<{ n: string }>('SELECT sum(tree_size) AS n FROM shard_heads');
    await produceEvents(60);
    const after = await run.db.query<{ n: string }>('SELECT sum(tree_size) AS n FROM shard_heads');
    expect(Number(after[0].n) - Number(before[0].n)).toBe(60);
    await pollUntil(
      async () => {
        const s = (await (await fetch(`${run.baseUrl}/tlog/witnesses`)).json()) as {
          witnesses: Array<{ shards: Array<{ lag: number; failures: number }> }>;
        };
        return s.witnesses[0].shards.some((x) => x.lag > 0 && x.failures > 0);
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the stopped witness reported behind' },
    );

    witness = await startWitnessProcess(witnessArgs);
    await waitAllCosigned();
  });
});
