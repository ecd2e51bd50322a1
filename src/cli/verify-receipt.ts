import { readFile } from 'node:fs/promises';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import { verifyReceipt, type Receipt } from '../domain/receipt/receipt.js';
import { parseWitnessPolicy, type WitnessPolicy } from '../domain/witness/witness-policy.js';

/**
 * `routing-ledger verify-receipt <receipt.json> --jwks keys.json [--origin O] [--witness-policy FILE]`:
 * checks one receipt (GET /v1/records/{event_id}/receipt) offline: the entry's leaf hash, the
 * checkpoint's signature with keys you trust, the inclusion proof up to the checkpoint's root,
 * and with a witness policy k valid cosignatures of that checkpoint. No database, no network. Exit 0 when it verifies, 1 when it does not (the reason is printed), 2 on a usage
 * error or an unreadable input.
 */
export const VERIFY_RECEIPT_USAGE = `usage: routing-ledger verify-receipt <receipt.json> --jwks keys.json [--origin ORIGIN] [--witness-policy FILE]

  --jwks FILE            the ledger's JWKS (/.well-known/jwks.json), obtained independently of the receipt
  --origin O             reject checkpoints of any other ledger
  --witness-policy FILE  trusted witnesses and quorum ("witness <vkey>", "quorum <k>"); a receipt whose
                         checkpoint lacks k valid cosignatures is refused
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
  let policyFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--jwks') jwksFile = argv[++i];
    else if (a === '--origin') origin = argv[++i];
    else if (a === '--witness-policy' && argv[i + 1] !== undefined) policyFile = argv[++i];
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
  let witnessPolicy: WitnessPolicy | undefined;
  try {
    receipt = JSON.parse(await readFile(file, 'utf8')) as Receipt;
    jwks = JSON.parse(await readFile(jwksFile, 'utf8')) as Jwks;
    if (policyFile !== undefined) witnessPolicy = parseWitnessPolicy(await readFile(policyFile, 'utf8'));
  } catch (e) {
    io.err(`cannot read the receipt, the keys or the witness policy: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const { checkpoint, cosigned } = await verifyReceipt(receipt, jwks, { origin, witnessPolicy });
    const record = (receipt.entry?.record ?? {}) as { event_id?: string };
    const witnessed = cosigned
      ? `; cosigned by ${cosigned.cosigners.length} of the policy's witnesses (${cosigned.cosigners.join(', ') || 'none'}), ${witnessPolicy!.quorum} required`
      : '';
    io.out(
      `OK: record ${record.event_id ?? '?'} is leaf ${receipt.leaf_index} of shard ${receipt.shard}, included in the checkpoint of tree size ${checkpoint.tree_size} signed at ${checkpoint.timestamp} (origin ${checkpoint.origin})${witnessed}\n`,
    );
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.out(`FAILED${code ? ` (${code})` : ''}: ${(e as Error).message}\n`);
    return 1;
  }
}
