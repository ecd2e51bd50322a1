import { generateKeyPairSync, sign, createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ed25519Thumbprint } from '../../src/domain/checkpoint/signing-key.js';

/**
 * A small external signer speaking the protocol of src/ledger/external-signer.ts over real HTTP
 * on 127.0.0.1 (what a KMS or HSM adapter would put in front of its key):
 * GET /public-key answers the public JWK, POST /sign the raw Ed25519 signature of the body.
 * `mode` makes it misbehave: sign with another key, or answer 503.
 */
export interface HttpSigner {
  url: string;
  kid: string;
  /** Requests answered, by path; `unauthorized` counts those refused for a missing or wrong token. */
  counts: { publicKey: number; sign: number; unauthorized: number };
  mode: 'ok' | 'wrong-key' | 'unavailable';
  close(): Promise<void>;
}

export async function startHttpSigner(opts: { token?: string } = {}): Promise<HttpSigner> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const other: KeyObject = generateKeyPairSync('ed25519').privateKey;
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
  const signer: Omit<HttpSigner, 'url' | 'close'> = {
    kid: await ed25519Thumbprint(x),
    counts: { publicKey: 0, sign: 0, unauthorized: 0 },
    mode: 'ok',
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
        signer.counts.unauthorized++;
        res.writeHead(401).end('unauthorized');
        return;
      }
      if (signer.mode === 'unavailable') {
        res.writeHead(503).end('signer unavailable');
        return;
      }
      if (req.method === 'GET' && req.url === '/public-key') {
        signer.counts.publicKey++;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x }));
      } else if (req.method === 'POST' && req.url === '/sign') {
        signer.counts.sign++;
        const signature = sign(null, body, signer.mode === 'wrong-key' ? other : privateKey);
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(signature);
      } else {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(signer, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
