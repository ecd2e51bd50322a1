import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseVerifierKey, type NoteVerifier } from '../domain/note/note-keys.js';
import { cosigner } from '../domain/witness/cosignature.js';
import { createWitnessServer } from '../witness/witness-server.js';
import { FileWitnessStore } from '../witness/witness-store.js';

export const WITNESS_USAGE = `usage: routing-ledger witness --name NAME --key FILE [--generate-key] --state FILE
                              (--log VKEY | --logs FILE)... [--listen HOST:PORT]

  A C2SP tlog-witness: POST <http://HOST:PORT>/add-checkpoint cosigns checkpoints of the logs
  it is given, each consistent with the last one it cosigned for that origin.

  --name NAME       the witness's key name, e.g. witness.example.com/w1
  --key FILE        its private Ed25519 key as a JWK; --generate-key creates it when missing
  --state FILE      the JSON file of the latest cosigned checkpoint per origin
  --log VKEY        a log's note verifier key (type 0x01); repeatable
  --logs FILE       a file of log verifier keys, one per line (the ledger's GET /tlog/keys)
  --listen H:P      default 127.0.0.1:7380 (port 0: any free port)
`;

export interface WitnessCommandOptions {
  name: string;
  keyFile: string;
  generateKey: boolean;
  stateFile: string;
  logKeys: string[];
  host: string;
  port: number;
}

export function parseWitnessArgs(argv: string[]): WitnessCommandOptions | string {
  const o: Partial<WitnessCommandOptions> & { logKeys: string[] } = {
    logKeys: [],
    generateKey: false,
    host: '127.0.0.1',
    port: 7380,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--name') o.name = value();
      else if (a === '--key') o.keyFile = value();
      else if (a === '--generate-key') o.generateKey = true;
      else if (a === '--state') o.stateFile = value();
      else if (a === '--log') o.logKeys.push(value());
      else if (a === '--logs')
        o.logKeys.push(
          ...readFileSync(value(), 'utf8')
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l !== '' && !l.startsWith('#')),
        );
      else if (a === '--listen') {
        const m = /^(.*):(\d{1,5})$/.exec(value());
        if (!m) return `--listen must be HOST:PORT`;
        o.host = m[1];
        o.port = Number(m[2]);
      } else return `unexpected argument ${a}`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (!o.name || !o.keyFile || !o.stateFile) return '--name, --key and --state are required';
  if (o.logKeys.length === 0) return 'at least one --log or --logs is required';
  return o as WitnessCommandOptions;
}

export interface RunningWitness {
  url: string;
  vkey: string;
  close(): Promise<void>;
}

/** Starts the witness; resolves once it listens. Used by the CLI, the demo and the tests. */
export async function startWitness(
  opts: WitnessCommandOptions,
  log: (entry: Record<string, unknown>) => void = () => {},
): Promise<RunningWitness> {
  let jwk: string;
  try {
    jwk = readFileSync(opts.keyFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.generateKey) throw e;
    const { privateKey } = generateKeyPairSync('ed25519');
    jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    writeFileSync(opts.keyFile, `${jwk}\n`, { mode: 0o600, flag: 'wx' });
  }
  const key = createPrivateKey({ key: JSON.parse(jwk) as never, format: 'jwk' });
  const signer = cosigner(opts.name, key);
  const logs = new Map<string, NoteVerifier[]>();
  for (const vkey of opts.logKeys) {
    const v = parseVerifierKey(vkey);
    logs.set(v.name, [...(logs.get(v.name) ?? []), v]);
  }
  const store = new FileWitnessStore(opts.stateFile);
  const server = createWitnessServer({ cosigner: signer, logs, store, log });
  server.keepAliveTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
  } catch (e) {
    store.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    vkey: signer.vkey,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
    },
  };
}

export async function witnessCommand(argv: string[]): Promise<number> {
  const opts = parseWitnessArgs(argv);
  if (typeof opts === 'string') {
    process.stderr.write(`${opts}\n\n${WITNESS_USAGE}`);
    return 2;
  }
  const w = await startWitness(opts, (entry) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`),
  );
  process.stdout.write(`witness ${opts.name} listening on ${w.url} (add-checkpoint at ${w.url}/add-checkpoint)\n`);
  process.stdout.write(`verifier key: ${w.vkey}\n`);
  process.stdout.write(`policy line:  witness ${w.vkey} ${w.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await w.close();
  return 0;
}
