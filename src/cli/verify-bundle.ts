import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import { parseWitnessPolicy, type WitnessPolicy } from '../domain/witness/witness-policy.js';
import {
  describeProblem,
  verifyBundle,
  type BundleVerdict,
  type VerifyProgress,
} from '../domain/bundle/verify-bundle.js';

/**
 * `routing-ledger verify-bundle <file> [--jwks trusted.json] [--origin O] [--witness-policy FILE] [--json] [--proof-thread]`: the
 * offline verifier. No database, no network: only the bundle and, ideally, keys you trust.
 * Exit 0 when every check passes, 1 when the bundle fails verification (the first problem is
 * printed), 2 on a usage error or an unreadable input.
 */
export const VERIFY_BUNDLE_USAGE = `usage: routing-ledger verify-bundle <bundle.tar.gz> [--jwks trusted-jwks.json] [--origin ORIGIN] [--witness-policy FILE] [--json] [--proof-thread]

  --jwks FILE     verify with these keys only (the ledger's JWKS obtained independently of the
                  bundle); without it the bundle's own jwks.json is used, which shows the bundle
                  is consistent, not that it comes from the ledger
  --origin O      reject bundles and checkpoints of any other ledger
  --witness-policy FILE
                  trusted witnesses and quorum ("witness <vkey>", "quorum <k>"): refuse a bundle
                  whose anchor checkpoints lack k valid cosignatures
  --json          print the verdict as JSON on stdout
  --proof-thread  when the reference pass runs (the single pass did not accept the bundle),
                  check proofs.jsonl in a second thread
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether progress may be redrawn in place. */
  tty: boolean;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
};

export async function verifyBundleCommand(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${VERIFY_BUNDLE_USAGE}`);
    return 2;
  }
  let trustedJwks: Jwks | undefined;
  let witnessPolicy: WitnessPolicy | undefined;
  try {
    await stat(args.file);
    if (args.jwks) trustedJwks = parseJwks(await readFile(args.jwks, 'utf8'), args.jwks);
    if (args.policy) witnessPolicy = parseWitnessPolicy(await readFile(args.policy, 'utf8'));
  } catch (e) {
    io.err(`verify-bundle: ${(e as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  const progress = progressPrinter(io);
  const verdict = await verifyBundle(() => createReadStream(args.file), {
    trustedJwks,
    origin: args.origin,
    witnessPolicy,
    onProgress: progress.update,
    // proofs.jsonl checked by a worker thread reading the file, beside records.jsonl.
    bundleFile: args.proofThread ? args.file : undefined,
  });
  progress.done();
  if (args.json) io.out(`${JSON.stringify(verdict, null, 2)}\n`);
  else io.out(report(verdict, args.file, args.jwks, Date.now() - started));
  return verdict.ok ? 0 : 1;
}

interface Args {
  file: string;
  jwks?: string;
  origin?: string;
  policy?: string;
  json: boolean;
  proofThread: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> & { json: boolean; proofThread: boolean } = { json: false, proofThread: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--jwks') out.jwks = value();
    else if (a === '--origin') out.origin = value();
    else if (a === '--witness-policy') out.policy = value();
    else if (a === '--json') out.json = true;
    else if (a === '--proof-thread') out.proofThread = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (out.file === undefined) out.file = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (out.file === undefined) throw new Error('missing the bundle file');
  return out as Args;
}

function parseJwks(text: string, path: string): Jwks {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON`);
  }
  if (!Array.isArray((value as Jwks)?.keys)) throw new Error(`${path} is not a JWKS ({"keys": [...]})`);
  return value as Jwks;
}

function progressPrinter(io: CliIo): { update: (p: VerifyProgress) => void; done: () => void } {
  let last = 0;
  let shown = false;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < (io.tty ? 250 : 5000) && p.done !== p.total) return;
      last = now;
      const pct = p.total > 0 ? ` (${Math.floor((p.done / p.total) * 100)}%)` : '';
      io.err(`${io.tty ? '\r' : ''}verifying ${p.file}: ${p.done}/${p.total} records${pct}${io.tty ? '' : '\n'}`);
      shown = true;
    },
    done: () => {
      if (shown && io.tty) io.err('\n');
    },
  };
}

/** The human verdict: first line VERIFIED or FAILED, then what was checked and what is only attested. */
export function report(v: BundleVerdict, file: string, jwksFile: string | undefined, ms: number): string {
  const c = v.counts;
  const lines: string[] = [];
  if (!v.ok) {
    lines.push(`FAILED: ${file} does not verify.`);
    lines.push(`  first problem: ${describeProblem(v.problem!)}`);
    if (v.problem!.expected !== undefined) lines.push(`  expected: ${v.problem!.expected}`);
    if (v.problem!.found !== undefined) lines.push(`  found:    ${v.problem!.found}`);
    lines.push(
      `  checked before it: ${c.checkpoints} checkpoints, ${c.boundary_entries} boundary entries, ${c.records} records, ${c.proofs} proofs`,
    );
    return `${lines.join('\n')}\n`;
  }
  const q = v.query!;
  lines.push(`VERIFIED: ${file} (export ${v.export_id} of ${v.origin}, created ${v.created_at}) in ${ms} ms`);
  lines.push(
    `  tenant ${q.tenant}, occurred_at in [${q.from}, ${q.to})${Object.keys(q.filters).length ? `, filters ${JSON.stringify(q.filters)}` : ''}`,
  );
  lines.push(
    `  records: ${c.records} (${c.records_in_range} in range, ${c.matching} matching the filters, ${c.context_records} out-of-range links of the chain)`,
  );
  lines.push(
    `  proofs: ${c.proofs} inclusion proofs, ${c.checkpoints} signed checkpoints, ${c.consistency_proofs} consistency proofs, ${c.boundary_entries} boundary entries, ${c.shards} shards`,
  );
  lines.push(
    `  keys: ${v.keys.source === 'trusted' ? `trusted JWKS ${jwksFile}` : "the bundle's own jwks.json"}; manifest ${v.keys.manifest_kid}, checkpoints ${v.keys.checkpoint_kids.join(', ') || '-'}`,
  );
  if (v.witnessed) {
    const anchors = v.witnessed.anchors.map((a) => `shard ${a.shard} by ${a.cosigners.join(', ')}`).join('; ');
    lines.push(
      `  witnessed: every shard's anchor has at least ${v.witnessed.quorum} valid cosignatures of the policy's witnesses (${anchors || 'no shards'})`,
    );
  }
  for (const s of v.shards) {
    const segment =
      s.first_seq === null
        ? 'no record in the range'
        : `tenant_seq ${s.first_seq}..${s.last_seq} (${s.records} records)`;
    const before =
      s.before_seq === null
        ? s.first_seq === 0 || (s.first_seq === null && s.after_seq === 0)
          ? 'chain start proven'
          : s.tenant_chain_length === 0
            ? 'no entries'
            : 'none'
        : `seq ${s.before_seq} proven outside`;
    const after =
      s.after_seq === null
        ? s.tenant_chain_length === 0
          ? 'no entries'
          : `none: attested (the ledger signs that the tenant had ${s.tenant_chain_length} entries)`
        : `seq ${s.after_seq} proven outside`;
    lines.push(
      `  shard ${s.shard} as of tree_size ${s.tree_size} (signed ${s.anchor_signed_at}): ${segment}; before: ${before}; after: ${after}`,
    );
  }
  lines.push('  proven: every record is the entry the ledger appended, included under signed checkpoints linked by');
  lines.push(
    '          consistency proofs; per shard, the records form an unbroken tenant chain whose proven neighbours',
  );
  lines.push('          lie outside the range.');
  lines.push("  attested (the ledger's signature only): the list of shards; a tenant's chain length where no later");
  lines.push('          neighbour exists; that occurred_at follows the chain order outside the exported segment.');
  lines.push("  not covered: anything appended after each shard's anchor checkpoint (see docs/bundle-format.md §6.3).");
  for (const w of v.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  verifyBundleCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`verify-bundle failed: ${e.stack ?? e.message}\n`);
      process.exit(2);
    },
  );
}
