/**
 * Bundles of given sizes for measuring verify-bundle alone: `node dist/bench/verify-bundles.js
 * OUT_DIR 100000 300000 …` seeds each size on a scratch database (seedExportBenchLedger),
 * exports one tenant's bundle to OUT_DIR/bundle-N.tar with its JWKS in OUT_DIR/jwks-N.json,
 * and drops the database. Then e.g. `/usr/bin/time -v node dist/src/cli/verify-bundle.js
 * OUT_DIR/bundle-N.tar --jwks OUT_DIR/jwks-N.json`, or measureVerify (bench/hooks/export.ts).
 * Needs `npm run build`.
 */
import { writeFileSync } from 'node:fs';
import { createTestDatabase } from '../test/support/test-database.js';
import { measureExport, seedExportBenchLedger } from './hooks/export.js';

async function main(): Promise<void> {
  const [outDir, ...sizes] = process.argv.slice(2);
  if (!outDir || sizes.length === 0) throw new Error('usage: verify-bundles.js OUT_DIR N [N…]');
  for (const size of sizes.map(Number)) {
    const db = await createTestDatabase('rl_verify_bundles');
    try {
      const t = performance.now();
      const seeded = await seedExportBenchLedger({ databaseUrl: db.url, records: size });
      const outFile = `${outDir}/bundle-${size}.tar`;
      const exp = await measureExport({
        databaseUrl: db.url,
        signingKeyJwk: seeded.signingKeyJwk,
        query: seeded.query,
        outFile,
      });
      writeFileSync(`${outDir}/jwks-${size}.json`, JSON.stringify(seeded.jwks));
      const s = ((performance.now() - t) / 1000).toFixed(0);
      process.stdout.write(
        `${outFile}: ${exp.records} records, ${(exp.bundleBytes / 1048576).toFixed(1)} MiB (${s} s)\n`,
      );
    } finally {
      await db.drop();
    }
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
