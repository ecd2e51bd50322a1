import { ConfigError } from '../config/app-config.js';
import { ExportQueryError } from '../export/bundle-writer.js';
import { ExportSetupError, exportFromDatabase } from '../export/standalone-export.js';
import { FILTER_FIELDS, type ExportFilters } from '../domain/bundle/bundle-format.js';

/**
 * `npm run export -- --tenant T --from ISO --to ISO --out file.tar.gz [--filter provider=x]`:
 * writes a signed audit bundle straight from the database named by DATABASE_URL, with the
 * ledger's current signing key. Progress on stderr. Exit 0 on success, 1 when the export
 * fails (e.g. the ledger contradicts itself), 2 on a usage or configuration error.
 */
const USAGE = `usage: export --tenant TENANT --from ISO --to ISO --out FILE.tar.gz [--filter NAME=VALUE ...]
  range: occurred_at in [from, to); filters (${FILTER_FIELDS.join(', ')}) only mark matching records
  env: DATABASE_URL, and the ledger's key: SIGNING_KEY_FILE | SIGNING_KEY_JWK | DATA_DIR with the development key
`;

function parseArgs(argv: string[]) {
  const args: { tenant?: string; from?: string; to?: string; out?: string; filters: ExportFilters } = { filters: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (!['--tenant', '--from', '--to', '--out', '--filter'].includes(a)) throw new Error(`unknown argument ${a}`);
    if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
    i++;
    if (a === '--filter') {
      const [name, ...rest] = v.split('=');
      if (!(FILTER_FIELDS as readonly string[]).includes(name) || rest.length === 0)
        throw new Error(`--filter ${v}: expected NAME=VALUE with NAME one of ${FILTER_FIELDS.join(', ')}`);
      args.filters[name as (typeof FILTER_FIELDS)[number]] = rest.join('=');
    } else {
      args[a.slice(2) as 'tenant' | 'from' | 'to' | 'out'] = v;
    }
  }
  for (const k of ['tenant', 'from', 'to', 'out'] as const) if (!args[k]) throw new Error(`missing --${k}`);
  const from = new Date(args.from!);
  const to = new Date(args.to!);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
    throw new Error('--from and --to must be RFC 3339 times');
  return {
    tenant: args.tenant!,
    from: from.toISOString(),
    to: to.toISOString(),
    out: args.out!,
    filters: args.filters,
  };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const started = Date.now();
  let last = 0;
  const tty = process.stderr.isTTY === true;
  const result = await exportFromDatabase({
    query: { tenant: args.tenant, from: args.from, to: args.to, filters: args.filters },
    outFile: args.out,
    onProgress: ({ done, total }) => {
      if (Date.now() - last < (tty ? 200 : 5000) && done !== total) return;
      last = Date.now();
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      process.stderr.write(
        `${tty ? '\r' : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} records${tty ? '' : '\n'}`,
      );
    },
  });
  if (tty) process.stderr.write('\n');
  const c = result.manifest.counts;
  process.stdout.write(
    `wrote ${result.file} (${result.size} bytes, sha256 ${result.sha256}) in ${Date.now() - started} ms: ${c.records} records (${c.records_in_range} in range), ` +
      `${c.checkpoints} checkpoints, ${c.boundary_entries} boundary entries, ${c.shards} shards\n` +
      `verify it with: npx routing-ledger verify-bundle ${result.file} --jwks <the ledger's JWKS>\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error & { code?: string }) => {
    const usage = e instanceof ConfigError || e instanceof ExportSetupError || e instanceof ExportQueryError;
    process.stderr.write(usage ? `${e.message}\n` : `export failed: ${e.message}\n`);
    process.exit(usage ? 2 : 1);
  },
);
