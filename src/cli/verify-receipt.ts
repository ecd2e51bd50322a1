import { readFile } from 'node:fs/promises';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import { verifyReceipt, type Receipt } from '../domain/receipt/receipt.js';

/**
 * `routing-ledger verify-receipt <receipt.json> --jwks keys.json [--origin O]`: checks one
 * receipt (GET /v1/records/{event_id}/receipt) offline: the entry's leaf hash, the checkpoint's
 * signature with keys you trust, and the inclusion proof up to the checkpoint's root. No database,
 * no network. Exit 0 when it verifies, 1 when it does not (the reason is printed), 2 on a usage
 * error or an unreadable input.
 */
export const VERIFY_RECEIPT_USAGE = `usage: routing-ledger verify-receipt <receipt.json> --jwks keys.json [--origin ORIGIN]

  --jwks FILE     the ledger's JWKS (/.well-known/jwks.json), obtained independently of the receipt
  --origin O      reject checkpoints of any other ledger
`;

export interface ReceiptCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: ReceiptCliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function verifyReceiptCommand(argv: string[], io: ReceiptCliIo = defaultIo): Promise<number> {
  let file: string | undefined;
  let jwksFile: string | undefined;
  let origin: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--jwks') jwksFile = argv[++i];
    else if (a === '--origin') origin = argv[++i];
    else if (!a.startsWith('--') && file === undefined) file = a;
    else {
      io.err(`unexpected argument ${a}\n\n${VERIFY_RECEIPT_USAGE}`);
      return 2;
    }
  }
  if (!file || !jwksFile) {
    io.err(VERIFY_RECEIPT_USAGE);
    return 2;
  }
  let receipt: Receipt;
  let jwks: Jwks;
  try {
    receipt = JSON.parse(await readFile(file, 'utf8')) as Receipt;
    jwks = JSON.parse(await readFile(jwksFile, 'utf8')) as Jwks;
  } catch (e) {
    io.err(`cannot read the receipt or the keys: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const { checkpoint } = await verifyReceipt(receipt, jwks, { origin });
    const record = (receipt.entry?.record ?? {}) as { event_id?: string };
    io.out(
      `OK: record ${record.event_id ?? '?'} is leaf ${receipt.leaf_index} of shard ${receipt.shard}, included in the checkpoint of tree size ${checkpoint.tree_size} signed at ${checkpoint.timestamp} (origin ${checkpoint.origin})\n`,
    );
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.out(`FAILED${code ? ` (${code})` : ''}: ${(e as Error).message}\n`);
    return 1;
  }
}
