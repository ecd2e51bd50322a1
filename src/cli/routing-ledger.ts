#!/usr/bin/env node
/**
 * The `routing-ledger` command (package bin). Subcommands are loaded on demand so that the
 * offline verifier never loads Nest, TypeORM or pg.
 */
const USAGE = `usage: routing-ledger <command> [args]

commands:
  verify-bundle <bundle.tar.gz> [--jwks trusted.json] [--origin O] [--json]
      check an audit bundle offline: signatures, hashes, proofs, completeness
  verify-receipt <receipt.json> --jwks keys.json [--origin O] [--witness-policy FILE]
      check one record's receipt offline: leaf hash, checkpoint signature, inclusion proof,
      and with a policy k of n cosignatures
  verify-tlog-proof <proof.tlog-proof> --witness-policy FILE [--log-keys FILE] [--entry FILE] [--origin O]
      check a c2sp.org/tlog-proof@v1 offline: log signature, k of n cosignatures, inclusion
  witness --name NAME --key FILE --state FILE --logs FILE [--listen HOST:PORT]
      run a C2SP tlog-witness (add-checkpoint) for the given logs
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify-bundle': {
      const { verifyBundleCommand } = await import('./verify-bundle.js');
      return verifyBundleCommand(rest);
    }
    case 'verify-receipt': {
      const { verifyReceiptCommand } = await import('./verify-receipt.js');
      return verifyReceiptCommand(rest);
    }
    case 'verify-tlog-proof': {
      const { verifyTlogProofCommand } = await import('./verify-tlog-proof.js');
      return verifyTlogProofCommand(rest);
    }
    case 'witness': {
      const { witnessCommand } = await import('./witness.js');
      return witnessCommand(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`routing-ledger: ${e.stack ?? e.message}\n`);
    process.exit(2);
  },
);
