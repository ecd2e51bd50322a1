import { readFile } from 'node:fs/promises';
import { parseVerifierKey, type NoteVerifier } from '../domain/note/note-keys.js';
import { verifyTlogProof } from '../domain/witness/tlog-proof.js';
import { parseWitnessPolicy } from '../domain/witness/witness-policy.js';
import type { ReceiptCliIo } from './verify-receipt.js';

/**
 * `routing-ledger verify-tlog-proof <proof> --witness-policy FILE [--log-keys FILE]
 * [--entry FILE] [--origin O]`: checks a c2sp.org/tlog-proof@v1 offline. Exit 0 when it
 * verifies, 1 when it does not (the reason is printed), 2 on a usage error or unreadable input.
 */
export const VERIFY_TLOG_PROOF_USAGE = `usage: routing-ledger verify-tlog-proof <proof.tlog-proof> --witness-policy FILE [--log-keys FILE] [--entry FILE] [--origin O]

  --witness-policy FILE  trusted witnesses and quorum ("witness <vkey>", "quorum <k>"; "log <vkey>" lines
                         are log keys); a checkpoint without k valid cosignatures is refused
  --log-keys FILE        the log's note verifier keys, one per line (GET /tlog/keys), obtained independently
  --entry FILE           the entry's leaf input; default: the proof's extra line
  --origin O             refuse checkpoints of any other log (e.g. <LEDGER_ORIGIN>/shard/0)
`;

const defaultIo: ReceiptCliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function verifyTlogProofCommand(argv: string[], io: ReceiptCliIo = defaultIo): Promise<number> {
  const args: Record<string, string | undefined> = {};
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (['--witness-policy', '--log-keys', '--entry', '--origin'].includes(a) && argv[i + 1] !== undefined)
      args[a] = argv[++i];
    else if (!a.startsWith('--') && file === undefined) file = a;
    else {
      io.err(`unexpected argument ${a}\n\n${VERIFY_TLOG_PROOF_USAGE}`);
      return 2;
    }
  }
  if (!file || !args['--witness-policy']) {
    io.err(VERIFY_TLOG_PROOF_USAGE);
    return 2;
  }
  let text: string;
  let policyText: string;
  let logKeys: string[] = [];
  let entry: Buffer | undefined;
  try {
    text = await readFile(file, 'utf8');
    policyText = await readFile(args['--witness-policy'], 'utf8');
    if (args['--log-keys'])
      logKeys = (await readFile(args['--log-keys'], 'utf8')).split('\n').filter((l) => l.trim() !== '');
    if (args['--entry']) entry = await readFile(args['--entry']);
  } catch (e) {
    io.err(`cannot read an input: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const policy = parseWitnessPolicy(policyText);
    const logVerifiers: NoteVerifier[] = [...policy.logs, ...logKeys.map((k) => parseVerifierKey(k.trim()))];
    if (logVerifiers.length === 0) {
      io.err('no log keys: give --log-keys or "log" lines in the policy\n');
      return 2;
    }
    const r = verifyTlogProof(text, { logVerifiers, policy, leafInput: entry, origin: args['--origin'] });
    io.out(
      `OK: ${describeEntry(r.leafInput)}leaf ${r.index} of ${r.checkpoint.origin}, included in the checkpoint of tree size ${r.checkpoint.treeSize}, cosigned by ${r.cosigners.length} of ${policy.witnesses.length} witnesses (quorum ${policy.quorum}${r.cosigners.length > 0 ? `: ${r.cosigners.join(', ')}` : ''})\n`,
    );
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.out(`FAILED${code ? ` (${code})` : ''}: ${(e as Error).message}\n`);
    return 1;
  }
}

/** "record <event_id>, " when the leaf input is a ledger entry (it is JSON), else nothing. */
function describeEntry(leafInput: Buffer): string {
  try {
    const entry = JSON.parse(leafInput.toString('utf8')) as { record?: { event_id?: unknown } };
    return typeof entry.record?.event_id === 'string' ? `record ${entry.record.event_id} is ` : '';
  } catch {
    return '';
  }
}
